package storetest

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
)

// testCommitRuns checks that CommitRuns writes what CommitRun writes run
// by run (items, dashboard rows, source state, outbox rows, counts), and
// that a group with a run that cannot be written leaves nothing.
func testCommitRuns(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	runs := []store.RunCommit{
		{SourceID: "a", At: t0, NextRun: t0.Add(time.Hour), Validators: fetch.Validators{ETag: `"a1"`}, Listed: 3,
			Items: []store.Labeled{labeled("a", "1", true), labeled("a", "2", false), labeled("a", "3", true)}, Sinks: []string{"x", "y"}},
		{SourceID: "b", At: t0, Listed: 0},
		{SourceID: "c", At: t0.Add(time.Minute), Validators: fetch.Validators{LastModified: "Sun, 06 Dec 2026 08:00:00 GMT"}, Listed: 2,
			Items: []store.Labeled{labeled("c", "1", false), labeled("c", "2", true)}},
	}
	type state struct {
		queued []int
		items  []string
		due    map[string][]string
		health []string
		facts  int
	}
	read := func(s *store.Store, queued []int) state {
		st := state{queued: queued, due: map[string][]string{}}
		s.Items(ctx, store.ItemFilter{}, func(l store.Labeled) error {
			st.items = append(st.items, l.Item.SourceID+"/"+l.Item.Key+"/"+l.Item.Title)
			return nil
		})
		slices.Sort(st.items)
		for _, sink := range []string{"x", "y"} {
			due, err := s.Due(ctx, sink, t0, 100)
			if err != nil {
				t.Fatal(err)
			}
			st.due[sink] = eventIDs(due)
			slices.Sort(st.due[sink])
		}
		for _, r := range runs {
			src, err := s.Source(ctx, r.SourceID)
			if err != nil {
				t.Fatal(err)
			}
			st.health = append(st.health, strings.Join([]string{r.SourceID, src.Validators.ETag, src.Validators.LastModified,
				src.LastSuccess.String(), src.NextRun.String()}, "|"))
		}
		page, err := s.SearchItems(ctx, dashboard.ItemQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		st.facts = page.Total
		return st
	}

	one := open(t, newDSN(t))
	var byRun []int
	for _, r := range runs {
		n, err := one.CommitRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		byRun = append(byRun, n)
	}
	grouped := open(t, newDSN(t))
	queued, err := grouped.CommitRuns(ctx, runs)
	if err != nil {
		t.Fatal(err)
	}
	want, got := read(one, byRun), read(grouped, queued)
	if !slices.Equal(got.queued, []int{4, 0, 0}) {
		t.Errorf("CommitRuns queued %v, want [4 0 0]", got.queued)
	}
	if !slices.Equal(got.queued, want.queued) || !slices.Equal(got.items, want.items) || !slices.Equal(got.health, want.health) ||
		!slices.Equal(got.due["x"], want.due["x"]) || !slices.Equal(got.due["y"], want.due["y"]) || got.facts != want.facts {
		t.Errorf("CommitRuns wrote\n%+v\nCommitRun run by run wrote\n%+v", got, want)
	}

	// A second pass: the items stored already are updated (a new
	// title), the new one is added, each the same as run by run.
	again := []store.RunCommit{runs[0], runs[2]}
	again[0].At, again[1].At = t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	again[0].Items = []store.Labeled{labeled("a", "1", true), labeled("a", "4", true)}
	again[0].Items[0].Item.Title = "renamed"
	again[1].Items = []store.Labeled{labeled("c", "2", true)}
	again[1].Items[0].Item.Title = "renamed too"
	byRun = nil
	for _, r := range again {
		n, err := one.CommitRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		byRun = append(byRun, n)
	}
	if queued, err = grouped.CommitRuns(ctx, again); err != nil {
		t.Fatal(err)
	}
	want, got = read(one, byRun), read(grouped, queued)
	if !slices.Contains(got.items, "a/1/renamed") || !slices.Contains(got.items, "c/2/renamed too") || !slices.Contains(got.items, "a/4/"+labeled("a", "4", true).Item.Title) {
		t.Errorf("a second CommitRuns left items %v", got.items)
	}
	if !slices.Equal(got.queued, want.queued) || !slices.Equal(got.items, want.items) || !slices.Equal(got.health, want.health) ||
		!slices.Equal(got.due["x"], want.due["x"]) || !slices.Equal(got.due["y"], want.due["y"]) || got.facts != want.facts {
		t.Errorf("a second CommitRuns wrote\n%+v\nCommitRun run by run wrote\n%+v", got, want)
	}

	// All or none: a run whose item cannot be encoded (a score that is
	// not a number) fails the group, and the runs before it are not kept.
	none := open(t, newDSN(t))
	bad := labeled("z", "1", true)
	bad.Result.Score = math.NaN()
	_, err = none.CommitRuns(ctx, append(slices.Clone(runs[:1]), store.RunCommit{SourceID: "z", At: t0, Listed: 1, Items: []store.Labeled{bad}, Sinks: []string{"x"}}))
	if err == nil {
		t.Fatal("CommitRuns took a run whose item cannot be encoded")
	}
	if st := read(none, nil); len(st.items) != 0 || len(st.due["x"]) != 0 {
		t.Errorf("a failed group left %v and %v queued", st.items, st.due["x"])
	}
}
