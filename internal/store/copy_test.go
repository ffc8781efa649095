package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/pgtest"
	"github.com/treatywatch/treatywatch/internal/store"
)

// TestCopySQLiteToPostgres moves a state with seen items, a delivered and
// a pending record, source health and sink state from an SQLite file to
// an empty PostgreSQL database, and finds all of it there; a second copy
// into the now full database is refused.
func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	src, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	item := func(key string, relevant bool) store.Labeled {
		return store.Labeled{Item: fetch.Item{SourceID: "desk", Key: key, URL: "https://desk.example.org/" + key, Title: "t " + key},
			Result: classify.Result{Relevant: relevant, Rules: "r1"}}
	}
	if _, err := src.CommitRun(ctx, store.RunCommit{SourceID: "desk", At: at, Validators: fetch.Validators{ETag: `"e1"`}, Listed: 3,
		Items: []store.Labeled{item("a", true), item("b", true), item("c", false)}, Sinks: []string{"hook"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.RecordFailure(ctx, "broken", fetch.ErrBlocked, "status 403", at, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	due, _ := src.ClaimDue(ctx, "hook", at, time.Minute, 10)
	if len(due) != 2 {
		t.Fatalf("due = %d", len(due))
	}
	if err := src.Ack(ctx, at, due[0].ID); err != nil { // a delivered, b pending
		t.Fatal(err)
	}
	if err := src.PutState(ctx, "digest/last", []byte("w1")); err != nil {
		t.Fatal(err)
	}

	dsn := pgtest.NewDatabase(t)
	dst, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := store.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep["sources"] != 2 || rep["items"] != 3 || rep["outbox"] != 2 || rep["kv"] < 1 {
		t.Errorf("copied %v", rep)
	}
	st, _ := dst.Source(ctx, "desk")
	if st.Validators.ETag != `"e1"` || !st.Initialised || !st.LastSuccess.Equal(at) {
		t.Errorf("source after copy = %+v", st)
	}
	if b, _ := dst.Source(ctx, "broken"); b.Failures != 1 || !b.NextRun.Equal(at.Add(time.Hour)) {
		t.Errorf("failing source after copy = %+v", b)
	}
	if stored, _, _ := dst.Known(ctx, "desk", []string{"a", "b", "c", "d"}, nil); len(stored) != 3 || stored["d"] {
		t.Errorf("stored after copy = %v, want a, b and c", stored)
	}
	pending, _ := dst.ClaimDue(ctx, "hook", at, time.Minute, 10)
	if len(pending) != 1 || pending[0].Record.EventID != due[1].Record.EventID || pending[0].Record.Item.Title != "t b" {
		t.Errorf("pending after copy = %+v", pending)
	}
	if v, ok, _ := dst.GetState(ctx, "digest/last"); !ok || string(v) != "w1" {
		t.Errorf("state after copy = %q %v", v, ok)
	}
	var titles []string
	dst.Items(ctx, store.ItemFilter{SourceID: "desk"}, func(l store.Labeled) error { titles = append(titles, l.Item.Title); return nil })
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"t a", "t b", "t c"}) {
		t.Errorf("items after copy = %v", titles)
	}
	if _, err := store.Copy(ctx, src, dst, nil); err == nil || !strings.Contains(err.Error(), "empty store") {
		t.Errorf("copy into a full store: %v", err)
	}
}

// TestCopyIntoSQLiteKeepsTheDashboard: items copied into an SQLite store
// are listed, found by their words and counted under their topics there,
// with an analyst's correction still deciding an item's labels.
func TestCopyIntoSQLiteKeepsTheDashboard(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	open := func(name string) *store.Store {
		s, err := store.Open(ctx, filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src := open("from.db")
	item := func(key, title string, relevant bool) store.Labeled {
		return store.Labeled{Item: fetch.Item{SourceID: "desk", Key: key, Title: title, Summary: "Delegates met in Vienna."},
			Result: classify.Result{Relevant: relevant, Rules: "r1", Topics: []rules.Topic{"ratification"}, Stance: classify.StanceNeutral}}
	}
	if _, err := src.CommitRun(ctx, store.RunCommit{SourceID: "desk", At: at, Listed: 3,
		Items: []store.Labeled{item("a", "Treaty signed", true), item("b", "Treaty ratified", true), item("c", "Football results", false)}}); err != nil {
		t.Fatal(err)
	}
	b, err := src.SearchItems(ctx, dashboard.ItemQuery{Text: "ratified"})
	if err != nil || b.Total != 1 {
		t.Fatalf("source search: %+v, %v", b, err)
	}
	if _, err := src.AddCorrection(ctx, dashboard.Correction{ItemID: b.Items[0].ID, Who: "alice", At: at,
		Label: dashboard.Label{Relevant: true, Stance: "critical", Topics: []rules.Topic{"human-rights"}}}); err != nil {
		t.Fatal(err)
	}
	dst := open("to.db")
	if _, err := store.Copy(ctx, src, dst, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    dashboard.ItemQuery
		want []string // keys
	}{
		{"every item", dashboard.ItemQuery{Relevance: dashboard.AnyRelevance}, []string{"a", "b", "c"}},
		{"relevant", dashboard.ItemQuery{}, []string{"a", "b"}},
		{"by a word of the title", dashboard.ItemQuery{Text: "football", Relevance: dashboard.AnyRelevance}, []string{"c"}},
		{"by a word of the summary", dashboard.ItemQuery{Text: "vienna"}, []string{"a", "b"}},
		{"machine topic", dashboard.ItemQuery{Topic: "ratification"}, []string{"a"}},
		{"corrected topic and stance", dashboard.ItemQuery{Topic: "human-rights", Stance: "critical", Corrected: true}, []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := dst.SearchItems(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range p.Items {
				got = append(got, it.Key)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("copied store lists %v, want %v", got, tc.want)
			}
		})
	}
}
