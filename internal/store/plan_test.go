package store

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/dashboard"
)

// TestDashboardQueriesUseIndexes: every query the dashboard's reads run
// on SQLite finds its rows through an index; none reads a whole table
// (a store of a few hundred thousand items would then take seconds per
// page).
func TestDashboardQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, fd, err := openFaulty(t, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	aggregateItems(t, s)
	s.db.wstmts.bg.Wait() // the commits' statements, prepared in the background
	var queries []string
	fd.mu.Lock()
	fd.queries = func(q string) {
		if !slices.Contains(queries, q) {
			queries = append(queries, q)
		}
	}
	fd.mu.Unlock()
	page, err := s.SearchItems(ctx, dashboard.ItemQuery{Relevance: dashboard.AnyRelevance})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("items: %+v, %v", page, err)
	}
	some := page.Items[0].ID
	for _, q := range []dashboard.ItemQuery{
		{}, {Relevance: dashboard.IrrelevantOnly}, {Relevance: dashboard.AnyRelevance},
		{Text: "title"}, {Text: "title", Relevance: dashboard.IrrelevantOnly}, {Text: "title", Relevance: dashboard.AnyRelevance},
		{Topic: "human-rights"}, {Stance: "critical"}, {Stance: "unlabelled"}, {Actor: "EFF"}, {Lang: "en"},
		{Lang: "de", Relevance: dashboard.IrrelevantOnly}, {Source: "a"}, {Source: "a", Relevance: dashboard.IrrelevantOnly},
		{Source: "a", Relevance: dashboard.AnyRelevance}, {From: "2026-03-01", To: "2026-03-02"},
		{From: "2026-03-01", To: "2026-03-02", Relevance: dashboard.IrrelevantOnly}, {Corrected: true},
	} {
		if _, err := s.SearchItems(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	from, to := "2026-03-01", "2026-03-31"
	calls := []func() error{
		func() error { _, err := s.ItemDetail(ctx, some); return err },
		func() error { _, err := s.DayStance(ctx, from, to, ""); return err },
		func() error { _, err := s.DayStance(ctx, from, to, "human-rights"); return err },
		func() error { _, err := s.TopicStance(ctx, from, to); return err },
		func() error { _, err := s.ActorStance(ctx, from, to); return err },
		func() error { _, err := s.ActorTopic(ctx, from, to); return err },
		func() error { _, err := s.TreatyEvents(ctx); return err },
		func() error { _, err := s.SourceHealth(ctx, time.Now()); return err },
		func() error { _, err := s.Facets(ctx); return err },
		func() error {
			_, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: some, Who: "t", Label: dashboard.Label{Relevant: true}})
			return err
		},
		func() error { return s.Corrected(ctx, func(dashboard.ItemDetail) error { return nil }) },
	}
	for _, call := range calls {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	fd.mu.Lock()
	fd.queries = nil
	fd.mu.Unlock()
	// A plan reads a whole table when it scans or searches it without an
	// index (a search by index says USING); a scan of a subquery's or a
	// common table expression's rows (which the plan builds first) is not
	// one.
	scan := regexp.MustCompile(`^(?:SCAN|SEARCH) (\w+)$`)
	built := regexp.MustCompile(`^(?:MATERIALIZE|CO-ROUTINE) (\w+)$`)
	checked := 0
	for _, q := range queries {
		if !strings.HasPrefix(q, "SELECT") && !strings.HasPrefix(q, "WITH") {
			continue // writes (a correction) and statements of the driver
		}
		checked++
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		subqueries := map[string]bool{}
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
			if m := built.FindStringSubmatch(detail); m != nil {
				subqueries[m[1]] = true
			}
		}
		rows.Close()
		for _, d := range plan {
			if m := scan.FindStringSubmatch(d); m != nil && !subqueries[m[1]] {
				t.Errorf("%s\nreads all of %s:\n  %s", strings.Join(strings.Fields(q), " "), m[1], strings.Join(plan, "\n  "))
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d queries checked: the dashboard's reads went unrecorded", checked)
	}
}
