package store

import (
	"context"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/internal/dashboard"
)

// readModel renders the SQLite dashboard read model of every item: facts,
// topics, and which items a few searches find.
func readModel(t *testing.T, s *Store) string {
	t.Helper()
	return dumpRows(t, s,
		`SELECT id, source_id, key, day, relevant, stance, actor, lang, corrected, seen FROM item_facts ORDER BY id`,
		`SELECT item_id, topic, relevant, day, stance, actor FROM item_topics ORDER BY item_id, topic`,
		`SELECT rowid FROM items_fts WHERE items_fts MATCH 'vienna' ORDER BY rowid`,
		`SELECT rowid FROM items_fts WHERE items_fts MATCH 'title' ORDER BY rowid`,
		`SELECT rowid FROM items_fts WHERE items_fts MATCH 'safeguards' ORDER BY rowid`)
}

// TestCommitReadModelMatchesTriggers: what a commit writes of its new
// items' read model from the values in hand is what the update triggers
// compute from the stored rows; an item whose facts row is there before
// it (which only a damaged database has) gets it recomputed; updated
// items keep theirs in step through the triggers.
func TestCommitReadModelMatchesTriggers(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	var items []Labeled
	for i, tc := range []struct {
		key       string
		relevant  bool
		published time.Time
		lang      string
		topics    []rules.Topic
	}{
		{"rel-two-topics", true, at.Add(-30 * time.Hour), "EN", []rules.Topic{"ratification", "human-rights"}},
		{"rel-undated", true, time.Time{}, "fr", []rules.Topic{"privacy-surveillance", "privacy-surveillance"}},
		{"rel-no-topic", true, at.Add(-time.Hour), "", nil},
		{"irrelevant", false, at.Add(-2 * time.Hour), "ru", []rules.Topic{"ratification"}},
		{"irrelevant-undated", false, time.Time{}, "es", nil},
	} {
		l := labeled("a", tc.key, tc.relevant)
		l.Item.Published, l.Item.Lang = tc.published, tc.lang
		l.Item.Summary = "Delegates met in Vienna."
		l.Item.Content = "They spoke of safeguards."
		l.Result.Topics, l.Result.Actor = tc.topics, []string{"", "un"}[i%2]
		if tc.relevant {
			l.Result.Stance = classify.StanceCritical
		}
		items = append(items, l)
	}
	// A facts row that is there before its item.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
		VALUES ('a', 'irrelevant', '2001-01-01', 1, 'supportive', 'x', 'xx', 0, '')`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, Commit{SourceID: "a", At: at, Items: items}); err != nil {
		t.Fatal(err)
	}
	written := readModel(t, s)
	if _, err := s.db.ExecContext(ctx, `UPDATE items SET title = title`); err != nil {
		t.Fatal(err)
	}
	if recomputed := readModel(t, s); recomputed != written {
		t.Fatalf("the commit wrote\n%s\nthe triggers compute\n%s", written, recomputed)
	}
	if p, err := s.SearchItems(ctx, dashboard.ItemQuery{Relevance: dashboard.AnyRelevance}); err != nil || p.Total != len(items) {
		t.Fatalf("dashboard lists %+v, %v; want %d items", p, err, len(items))
	}

	// The same items again, one of them now irrelevant and one with new
	// topics, and a new one: one commit of updates and an insert.
	items[0].Result.Relevant, items[0].Result.Stance, items[0].Result.Topics = false, "", nil
	items[1].Result.Topics = []rules.Topic{"gender"}
	fresh := labeled("a", "fresh", true)
	fresh.Item.Summary = "Vienna"
	items = append(items, fresh)
	if _, err := s.Commit(ctx, Commit{SourceID: "a", At: at.Add(time.Hour), Items: items}); err != nil {
		t.Fatal(err)
	}
	written = readModel(t, s)
	if _, err := s.db.ExecContext(ctx, `UPDATE items SET title = title`); err != nil {
		t.Fatal(err)
	}
	if recomputed := readModel(t, s); recomputed != written {
		t.Fatalf("after updates the store holds\n%s\nthe triggers compute\n%s", written, recomputed)
	}
	got := findOne(t, s, dashboard.ItemQuery{Topic: "gender"})
	if got.Key != "rel-undated" {
		t.Errorf("item with the updated topic = %+v", got)
	}
	if got := findOne(t, s, dashboard.ItemQuery{Topic: "ratification"}); got.Key != "fresh" {
		t.Errorf("an item no longer relevant keeps its topic: %+v", got)
	}
}

// TestJSONStringsRoundTrip: a string written by appendJSONString comes
// back from SQLite's JSON functions byte for byte, whatever it holds
// (the search rows of a commit are handed over that way).
func TestJSONStringsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, in := range []string{
		"", "plain title", `quotes " and \ backslashes \\"`, "new\nline, tab\t, return\r, bell\a, nul\x00 end",
		"Ünïcödé, 中文, emoji 🌐, line separator \u2028", "not UTF-8: \xff\xfe, cut \xe2\x82", "\x1f\x7f",
	} {
		b := appendJSONString([]byte("["), in)
		b = append(b, ']')
		var out string
		if err := s.db.QueryRowContext(ctx, `SELECT value FROM json_each(?)`, string(b)).Scan(&out); err != nil {
			t.Fatalf("%q as %s: %v", in, b, err)
		}
		if out != in {
			t.Errorf("%q came back as %q (written %s)", in, out, b)
		}
	}
}
