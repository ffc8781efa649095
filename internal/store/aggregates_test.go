package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
)

// aggregateItems commits a small, hand-counted set of items: source a on
// 1 and 2 March (one not relevant), source b with an item without a
// publication date (its day is the day it was seen, 5 March) and one in
// February; source c has only failed.
func aggregateItems(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	mk := func(src, key string, relevant bool, stance classify.Stance, topics []rules.Topic, actor, lang string, published time.Time) Labeled {
		return Labeled{
			Item:   fetch.Item{SourceID: src, Key: key, Title: "title " + key, URL: "https://example.org/" + key, Lang: lang, Published: published},
			Result: classify.Result{Relevant: relevant, Stance: stance, Topics: topics, Actor: actor, Rules: "test-1"},
		}
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	seen := day(5, 8)
	a := []Labeled{
		mk("a", "a1", true, classify.StanceCritical, []rules.Topic{"human-rights", "privacy-surveillance"}, "EFF", "EN", day(1, 10)),
		// 23:30 at UTC-2 on 1 March is 2 March in UTC.
		mk("a", "a2", true, classify.StanceSupportive, []rules.Topic{"ratification"}, "Viet Nam", "vi",
			time.Date(2026, 3, 1, 23, 30, 0, 0, time.FixedZone("x", -2*3600))),
		mk("a", "a3", true, classify.StanceCritical, []rules.Topic{"human-rights"}, "EFF", "en", day(2, 12)),
		mk("a", "a4", false, "", nil, "", "de", day(2, 13)),
	}
	b := []Labeled{
		mk("b", "b1", true, "", []rules.Topic{"human-rights"}, "", "fr", time.Time{}),
		mk("b", "b2", true, classify.StanceNeutral, nil, "UNODC", "", time.Date(2026, 2, 27, 9, 0, 0, 0, time.UTC)),
	}
	for _, c := range []Commit{
		{SourceID: "a", At: seen, Items: a, Deliver: true, Sinks: []string{"jsonl", "hook"}},
		{SourceID: "b", At: seen, Items: b, Deliver: true, Sinks: []string{"jsonl"}},
	} {
		if _, err := s.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RecordFailure(ctx, "c", fetch.ErrHTTP, "404 Not Found", seen, seen.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func cellsString(cs []dashboard.Cell) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s/%s=%d", c.Row, c.Col, c.Count))
	}
	return fmt.Sprint(out)
}

// TestAggregates checks every count the dashboard charts are drawn from
// against counts made by hand from aggregateItems, on both databases.
func TestAggregates(t *testing.T) { onBothDialects(t, testAggregates) }

func testAggregates(t *testing.T, s *Store) {
	ctx := context.Background()
	// An empty store: empty answers, not errors or nils.
	f, err := s.Facets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Sources == nil || len(f.Sources)+len(f.Langs)+len(f.Actors)+len(f.Topics) != 0 || f.LastDay != "" {
		t.Errorf("facets of an empty store: %+v", f)
	}
	if cs, err := s.DayStance(ctx, "2026-01-01", "2026-12-31", ""); err != nil || cs == nil || len(cs) != 0 {
		t.Errorf("day counts of an empty store: %v, %v", cs, err)
	}

	aggregateItems(t, s)
	const march = "2026-03-01"
	tests := []struct {
		name string
		get  func() ([]dashboard.Cell, error)
		want string
	}{
		{"per day and stance", func() ([]dashboard.Cell, error) { return s.DayStance(ctx, march, "2026-03-05", "") },
			"[2026-03-01/critical=1 2026-03-02/critical=1 2026-03-02/supportive=1 2026-03-05/=1]"},
		{"per day, one topic", func() ([]dashboard.Cell, error) { return s.DayStance(ctx, march, "2026-03-05", "human-rights") },
			"[2026-03-01/critical=1 2026-03-02/critical=1 2026-03-05/=1]"},
		{"per day, bounds inclusive", func() ([]dashboard.Cell, error) { return s.DayStance(ctx, "2026-03-02", "2026-03-02", "") },
			"[2026-03-02/critical=1 2026-03-02/supportive=1]"},
		{"per day, February", func() ([]dashboard.Cell, error) { return s.DayStance(ctx, "2026-02-01", "2026-02-28", "") },
			"[2026-02-27/neutral=1]"},
		{"per topic and stance", func() ([]dashboard.Cell, error) { return s.TopicStance(ctx, march, "2026-03-05") },
			"[human-rights/=1 human-rights/critical=2 privacy-surveillance/critical=1 ratification/supportive=1]"},
		{"per actor and stance", func() ([]dashboard.Cell, error) { return s.ActorStance(ctx, march, "2026-03-05") },
			"[EFF/critical=2 Viet Nam/supportive=1]"},
		{"per actor and stance, with February", func() ([]dashboard.Cell, error) { return s.ActorStance(ctx, "2026-02-01", "2026-03-31") },
			"[EFF/critical=2 UNODC/neutral=1 Viet Nam/supportive=1]"},
		{"per actor and topic", func() ([]dashboard.Cell, error) { return s.ActorTopic(ctx, march, "2026-03-05") },
			"[EFF/human-rights=2 EFF/privacy-surveillance=1 Viet Nam/ratification=1]"},
		{"an empty range", func() ([]dashboard.Cell, error) { return s.ActorTopic(ctx, "2025-01-01", "2025-12-31") }, "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if got := cellsString(cs); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}

	// The dashboard's "unlabelled" filter: relevant items without a stance.
	for _, q := range []struct {
		stance string
		want   string
	}{{string(classify.StanceUnlabelled), "[b1]"}, {"critical", "[a3 a1]"}, {"", "[b1 a3 a2 a1 b2]"}} {
		p, err := s.SearchItems(ctx, dashboard.ItemQuery{Stance: q.stance, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, it := range p.Items {
			keys = append(keys, it.Key)
		}
		if got := fmt.Sprint(keys); got != q.want || p.Total != len(keys) {
			t.Errorf("items of stance %q: %s (total %d), want %s", q.stance, got, p.Total, q.want)
		}
	}

	f, err = s.Facets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%v %v %v %v %s", f.Sources, f.Langs, f.Actors, f.Topics, f.LastDay); got !=
		"[a b] [de en fr vi] [EFF UNODC Viet Nam] [human-rights privacy-surveillance ratification] 2026-03-05" {
		t.Errorf("facets: %s", got)
	}

	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{now, "[a ok 0 items 4 relevant 3 week 4] [b ok 0 items 2 relevant 2 week 2] [c failing 1 items 0 relevant 0 week 0]"},
		{now.AddDate(0, 0, 10), "[a ok 0 items 4 relevant 3 week 0] [b ok 0 items 2 relevant 2 week 0] [c failing 1 items 0 relevant 0 week 0]"},
	} {
		hs, err := s.SourceHealth(ctx, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hs {
			got = append(got, fmt.Sprintf("[%s %s %d items %d relevant %d week %d]", h.ID, h.State, h.Failures, h.Items, h.Relevant, h.Week))
			if h.ID == "c" && (h.LastError != "404 Not Found" || h.ErrorKind != string(fetch.ErrHTTP) || h.NextRun.IsZero()) {
				t.Errorf("failing source: %+v", h)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("source health at %s:\n got %s\nwant %s", tc.now.Format(time.DateOnly), g, tc.want)
		}
	}
}

// TestOutboxHealth checks what check reads of each sink's queue: queued
// and failing counts, the most attempts and the last error of the most
// tried record; delivered records and sinks with nothing queued drop out.
func TestOutboxHealth(t *testing.T) { onBothDialects(t, testOutboxHealth) }

func testOutboxHealth(t *testing.T, s *Store) {
	ctx := context.Background()
	h, err := s.OutboxHealth(ctx)
	if err != nil || len(h) != 0 {
		t.Fatalf("an empty outbox: %v, %v", h, err)
	}
	aggregateItems(t, s) // a: 3 relevant to jsonl and hook; b: 2 relevant to jsonl
	now := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	hook, err := s.Due(ctx, "hook", now, 10)
	if err != nil || len(hook) != 3 {
		t.Fatalf("hook due: %d, %v", len(hook), err)
	}
	jsonl, err := s.Due(ctx, "jsonl", now, 10)
	if err != nil || len(jsonl) != 5 {
		t.Fatalf("jsonl due: %d, %v", len(jsonl), err)
	}
	// hook: one record failed twice (the last time with "503"), one once.
	if err := s.Retry(ctx, now, "timeout", hook[0].ID, hook[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, now, "503 Service Unavailable", hook[0].ID); err != nil {
		t.Fatal(err)
	}
	// jsonl: all delivered.
	var ids []int64
	for _, p := range jsonl {
		ids = append(ids, p.ID)
	}
	if err := s.Ack(ctx, now, ids...); err != nil {
		t.Fatal(err)
	}
	h, err = s.OutboxHealth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]SinkHealth{"hook": {Queued: 3, Failing: 2, MaxAttempts: 2, LastError: "503 Service Unavailable"}}
	if fmt.Sprint(h) != fmt.Sprint(want) {
		t.Errorf("outbox health %+v, want %+v", h, want)
	}
}
