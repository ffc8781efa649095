package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/sinks"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func labeled(src, key string, relevant bool) Labeled {
	return Labeled{
		Item:   fetch.Item{SourceID: src, Key: key, Title: "title " + key, URL: "https://example.org/" + key},
		Result: classify.Result{Relevant: relevant, Topics: []rules.Topic{"ratification"}, Stance: classify.StanceNeutral, Rules: "test-1"},
	}
}

func TestOpenMigratesAndReopens(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(migrations) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, err := s.Commit(ctx, Commit{SourceID: "a", At: at, Validators: fetch.Validators{ETag: `"x"`},
		Items: []Labeled{labeled("a", "k1", true)}, Deliver: true, Sinks: []string{"jsonl"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	st, err := s2.Source(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Initialised || st.Validators.ETag != `"x"` || !st.LastSuccess.Equal(at) {
		t.Errorf("state after reopen = %+v", st)
	}
	due, err := s2.Due(ctx, "jsonl", at, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due after reopen = %d, %v; want 1", len(due), err)
	}
}

func TestCommitQueuesOnlyRelevantDeliveredItems(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		commit  Commit
		want    int // outbox rows queued
		wantDue map[string]int
	}{
		{"first run stores but does not deliver", Commit{SourceID: "s", Items: []Labeled{labeled("s", "1", true)}, Sinks: []string{"a", "b"}}, 0, map[string]int{"a": 0, "b": 0}},
		{"relevant items to every sink", Commit{SourceID: "s", Deliver: true, Items: []Labeled{labeled("s", "1", true), labeled("s", "2", false), labeled("s", "3", true)}, Sinks: []string{"a", "b"}}, 4, map[string]int{"a": 2, "b": 2}},
		{"no sinks", Commit{SourceID: "s", Deliver: true, Items: []Labeled{labeled("s", "1", true)}}, 0, map[string]int{"a": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			tt.commit.At = at
			n, err := s.Commit(ctx, tt.commit)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("queued = %d, want %d", n, tt.want)
			}
			for sink, want := range tt.wantDue {
				due, err := s.Due(ctx, sink, at, 100)
				if err != nil {
					t.Fatal(err)
				}
				if len(due) != want {
					t.Errorf("due for %s = %d, want %d", sink, len(due), want)
				}
				for _, p := range due {
					if p.Record.EventID != sinks.EventID("s", p.Record.Item.Key, sink) {
						t.Errorf("event id %s is not the stable id", p.Record.EventID)
					}
					if !p.Record.Result.Relevant || p.Record.Item.Title == "" {
						t.Errorf("record lost fields: %+v", p.Record)
					}
				}
			}
		})
	}
}

func TestUnseen(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.Commit(ctx, Commit{SourceID: "s", At: time.Now(), Items: []Labeled{labeled("s", "old", false)}}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"old", "new"}
	for i := range 1200 { // more than one IN chunk
		keys = append(keys, "bulk"+string(rune('a'+i%26))+time.Duration(i).String())
	}
	fresh, err := unseen(ctx, s, "s", keys)
	if err != nil {
		t.Fatal(err)
	}
	if fresh["old"] || !fresh["new"] || len(fresh) != len(keys)-1 {
		t.Errorf("unseen = %d keys, old=%v new=%v", len(fresh), fresh["old"], fresh["new"])
	}
	other, err := unseen(ctx, s, "other", []string{"old"})
	if err != nil || !other["old"] {
		t.Errorf("a key is per source: %v %v", other, err)
	}
}

func TestOutboxAckRetryRedeliver(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := Commit{SourceID: "s", At: at, Deliver: true, Sinks: []string{"hook"},
		Items: []Labeled{labeled("s", "1", true), labeled("s", "2", true)}}
	if _, err := s.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	due, _ := s.Due(ctx, "hook", at, 10)
	if len(due) != 2 {
		t.Fatalf("due = %d", len(due))
	}
	if err := s.Ack(ctx, at, due[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, at.Add(time.Minute), "status 500", due[1].ID); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Due(ctx, "hook", at, 10); len(d) != 0 {
		t.Errorf("due before retry time = %d, want 0", len(d))
	}
	next, ok, err := s.NextAttempt(ctx, "hook")
	if err != nil || !ok || !next.Equal(at.Add(time.Minute)) {
		t.Errorf("next attempt = %v %v %v", next, ok, err)
	}
	d, _ := s.Due(ctx, "hook", at.Add(time.Minute), 10)
	if len(d) != 1 || d[0].Attempts != 1 {
		t.Fatalf("due after retry time = %+v", d)
	}
	depth, _ := s.OutboxDepth(ctx)
	if depth["hook"] != 1 {
		t.Errorf("depth = %v", depth)
	}
	// Committing the same items again queues nothing new.
	if n, _ := s.Commit(ctx, c); n != 0 {
		t.Errorf("recommit queued %d, want 0", n)
	}
	// Redeliver re-queues the acked one.
	c.Redeliver = true
	if n, _ := s.Commit(ctx, c); n != 2 {
		t.Errorf("redeliver queued %d, want 2", n)
	}
	if w, _ := s.Window(ctx, "hook", at); len(w) != 2 {
		t.Errorf("window = %d, want 2", len(w))
	}
}

func TestFailuresAndHealth(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		n, err := s.RecordFailure(ctx, "s", fetch.ErrBlocked, "blocked: status 403", at, at.Add(time.Hour))
		if err != nil || n != i {
			t.Fatalf("failure %d: n=%d err=%v", i, n, err)
		}
	}
	st, _ := s.SourceStatuses(ctx)
	if len(st) != 1 || st[0].State != "blocked" || st[0].Failures != 3 {
		t.Errorf("status = %+v", st)
	}
	if err := s.RecordNotModified(ctx, "s", at, time.Time{}); err != nil {
		t.Fatal(err)
	}
	st, _ = s.SourceStatuses(ctx)
	if st[0].State != "ok" || st[0].Failures != 0 {
		t.Errorf("status after 304 = %+v", st)
	}
}

func TestStateAndReclassify(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, ok, _ := s.GetState(ctx, "k"); ok {
		t.Fatal("state exists before put")
	}
	for _, v := range []string{"one", "two"} {
		if err := s.PutState(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, _ := s.GetState(ctx, "k"); !ok || string(v) != "two" {
		t.Errorf("state = %q %v", v, ok)
	}
	if _, err := s.Commit(ctx, Commit{SourceID: "s", At: time.Now(), Items: []Labeled{labeled("s", "1", false)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateResult(ctx, "s", "1", classify.Result{Relevant: true, Rules: "test-2"}); err != nil {
		t.Fatal(err)
	}
	var got []Labeled
	s.Items(ctx, ItemFilter{RelevantOnly: true}, func(l Labeled) error { got = append(got, l); return nil })
	if len(got) != 1 || got[0].Result.Rules != "test-2" {
		t.Errorf("items after update = %+v", got)
	}
}

// TestMigratesAnOlderDatabase opens a database left at schema version 1
// and finds it migrated, its data kept.
func TestMigratesAnOlderDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO sources (id, etag) VALUES ('kept', '"v1"'); PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != len(migrations) {
		t.Errorf("version = %d, want %d", v, len(migrations))
	}
	if st, _ := s.Source(ctx, "kept"); st.Validators.ETag != `"v1"` {
		t.Errorf("data lost in the migration: %+v", st)
	}
	var n int
	s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'items_url'`).Scan(&n)
	if n != 1 {
		t.Error("migration 2 did not run")
	}
	// A database newer than the program is refused, not damaged.
	s.db.ExecContext(ctx, `PRAGMA user_version = 99`)
	s.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Errorf("open of a newer database: %v", err)
	}
}

// TestMigrationKeepsSearch opens a database at schema version 5 holding
// items as version 5 wrote them (text in item_json, a search index with
// its own copy of the text) and finds them searchable by their body
// after migration 6 made the index contentless, and still readable.
func TestMigrationKeepsSearch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v5.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:4] { // 4 still had the insert trigger that fills the read model
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	_, err = db.Exec(`INSERT INTO items (source_id, key, url, title, published, seen_at, relevant, rules, item_json, result_json) VALUES
		('s', 'k1', 'https://example.org/1', 'First', '', '2026-11-23T10:00:00.000000000Z', 1, 'r',
		 '{"key":"k1","source_id":"s","url":"https://example.org/1","title":"First","summary":"zeppelins over Hanoi","fetched":"2026-11-23T10:00:00Z","provenance":{}}',
		 '{"relevant":true,"score":1,"topics":[],"stance":"","rules":"r","evidence":[]}');`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[4] + `; PRAGMA user_version = 5`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.SearchItems(ctx, dashboard.ItemQuery{Text: "zeppelins", Limit: 10})
	if err != nil || page.Total != 1 || page.Items[0].Key != "k1" {
		t.Errorf("search after migration 6 = %+v, %v", page, err)
	}
	var got []Labeled
	s.Items(ctx, ItemFilter{RelevantOnly: true}, func(l Labeled) error { got = append(got, l); return nil })
	if len(got) != 1 || got[0].Item.Summary != "zeppelins over Hanoi" || got[0].Item.URL != "https://example.org/1" {
		t.Errorf("items after migration 6 = %+v", got)
	}
	// The index forgets a deleted item.
	if _, err := s.Forget(ctx, "s", "k1"); err != nil {
		t.Fatal(err)
	}
	if page, err := s.SearchItems(ctx, dashboard.ItemQuery{Text: "zeppelins", Limit: 10}); err != nil || page.Total != 0 {
		t.Errorf("search after forget = %+v, %v", page, err)
	}
}

// TestSQLiteBoundsConnections: a file database opens at most sqliteConns
// connections, however many callers query at once (one of them for the
// transactions); the others wait for one (and all of them get their
// answer).
func TestSQLiteBoundsConnections(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	var held []*sql.Conn
	for range sqliteConns - 1 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Source(wctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a query with %d connections held: %v, want it to wait for one until its deadline", sqliteConns-1, err)
	}
	for _, c := range held {
		c.Close()
	}

	// Two hundred readers at once beside a writer.
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 201)
	wg.Go(func() {
		for i := range 20 {
			id := fmt.Sprintf("s%d", i)
			if _, err := s.Commit(ctx, Commit{SourceID: id, At: at, Items: []Labeled{labeled(id, "k", false)}}); err != nil {
				errs <- err
				return
			}
		}
	})
	for i := range 200 {
		wg.Go(func() {
			_, err := s.Source(ctx, fmt.Sprintf("s%d", i%20))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, wst := s.db.Stats(), s.db.wr.Stats()
	if open, most := st.OpenConnections+wst.OpenConnections, st.MaxOpenConnections+wst.MaxOpenConnections; open > sqliteConns || most != sqliteConns || wst.MaxOpenConnections != 1 {
		t.Errorf("connections: %d open, at most %d (%d for transactions); want at most %d, one for transactions", open, most, wst.MaxOpenConnections, sqliteConns)
	}
}

// TestCloseLeavesNoConnection: once Close returns, no connection of the
// store is open (statements prepared in the background included): the
// last one to close checkpoints and removes the write-ahead log, so
// another process reading the file right after meets no lock.
func TestCloseLeavesNoConnection(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	for round := range 5 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		for i := range 3 {
			id := fmt.Sprintf("s%d-%d", round, i)
			if _, err := s.Commit(ctx, Commit{SourceID: id, At: at, Items: []Labeled{labeled(id, "k", i%2 == 0)}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: the write-ahead log is still there after Close (%v): a connection stayed open", round, err)
		}
	}
}

// TestFreshSchemaIsMigrated: a new database gets in one step the schema
// that the migrations give an old one step by step: the same tables with
// the same columns, the same indexes, triggers and search table.
func TestFreshSchemaIsMigrated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fresh, err := Open(ctx, filepath.Join(dir, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	oldDatabase(t, filepath.Join(dir, "old.db"), 1, 0)
	migrated, err := Open(ctx, filepath.Join(dir, "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	if v, err := fresh.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("a new database at version %d (%v), want %d", v, err, len(migrations))
	}
	if a, b := schemaOf(t, fresh), schemaOf(t, migrated); a != b {
		t.Errorf("a new database's schema\n%s\nthe migrated one\n%s", a, b)
	}
}

// schemaOf renders the schema of s: each table's columns, and the SQL of
// everything else with its spacing evened out.
func schemaOf(t *testing.T, s *Store) string {
	t.Helper()
	space := regexp.MustCompile(`\s+`)
	var out []string
	rows, err := s.db.QueryContext(context.Background(), `SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ typ, name, sql string }
	var entries []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.typ, &e.name, &e.sql); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	rows.Close()
	for _, e := range entries {
		def := strings.TrimSpace(space.ReplaceAllString(e.sql, " "))
		if e.typ == "table" && !strings.HasPrefix(def, "CREATE VIRTUAL") {
			def = dumpRows(t, s, `SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info('`+e.name+`') ORDER BY cid`)
		}
		out = append(out, e.typ+" "+e.name+": "+def)
	}
	return strings.Join(out, "\n")
}
