package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
)

// countingStore counts the reads of one source's state and the dedupe
// lookups.
type countingStore struct {
	*store.Store
	reads, lookups atomic.Int32
}

func (s *countingStore) Known(ctx context.Context, id string, keys, urls []string) (map[string]bool, map[string]string, error) {
	s.lookups.Add(1)
	return s.Store.Known(ctx, id, keys, urls)
}

func (s *countingStore) Source(ctx context.Context, id string) (store.SourceState, error) {
	s.reads.Add(1)
	return s.Store.Source(ctx, id)
}

// validatorFetcher answers each source with one new item a pass and an
// ETag of its own, and records the validators each fetch was given.
type validatorFetcher struct {
	mu   sync.Mutex
	pass int
	prev map[string]fetch.Validators
}

func (f *validatorFetcher) Fetch(_ context.Context, src fetch.Source, prev fetch.Validators) (fetch.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prev[src.ID] = prev
	n := strconv.Itoa(f.pass)
	it := fetch.Item{SourceID: src.ID, Key: src.ID + "-" + n, Title: "news " + n, URL: src.URL + "/" + n}
	return fetch.Batch{Items: []fetch.Item{it}, Next: fetch.Validators{ETag: `"` + src.ID + `"`}}, nil
}

// A pass no other process shares reads the state of its sources in one
// query, and each run takes its own from there: the second pass sends
// the validators the first stored. A source the snapshot shows was never
// run has no stored item, so its run skips the dedupe lookup. A shared
// pass reads each under its claim.
func TestPassReadsSourceStatesOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	f := &validatorFetcher{prev: map[string]fetch.Validators{}}
	clk := &clock{t: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	p := New(Options{Store: cs, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}}})
	var srcs []Source
	for _, id := range []string{"a", "b", "c"} {
		srcs = append(srcs, Source{Source: fetch.Source{ID: id, Kind: fetch.KindFeed, URL: "https://" + id + ".example/feed"}, Schedule: "@every 1h"})
	}
	tests := []struct {
		name        string
		ro          RunOptions
		wantReads   int32
		wantLookups int32
		wantPrev    []string // ETags sent, by source
	}{
		{name: "first pass", ro: RunOptions{Force: true}, wantReads: 0, wantLookups: 0, wantPrev: []string{"", "", ""}},
		{name: "second pass", ro: RunOptions{Force: true}, wantReads: 0, wantLookups: 3, wantPrev: []string{`"a"`, `"b"`, `"c"`}},
		{name: "shared pass", ro: RunOptions{Force: true, Shared: true}, wantReads: 3, wantLookups: 3, wantPrev: []string{`"a"`, `"b"`, `"c"`}},
	}
	for _, tt := range tests {
		cs.reads.Store(0)
		cs.lookups.Store(0)
		f.mu.Lock()
		f.pass++
		f.mu.Unlock()
		clk.Add(time.Hour)
		if tt.ro.Shared {
			tt.ro.Since = clk.Now()
		}
		for _, rep := range p.RunAll(ctx, srcs, tt.ro, 2) {
			if rep.Err != nil || rep.Outcome != OutcomeOK {
				t.Fatalf("%s: %s: %s %v", tt.name, rep.Source, rep.Outcome, rep.Err)
			}
		}
		var prev []string
		for _, s := range srcs {
			prev = append(prev, f.prev[s.ID].ETag)
		}
		if got := cs.reads.Load(); got != tt.wantReads || !slices.Equal(prev, tt.wantPrev) {
			t.Errorf("%s: %d reads of one source's state, ETags sent %q; want %d and %q", tt.name, got, prev, tt.wantReads, tt.wantPrev)
		}
		if got := cs.lookups.Load(); got != tt.wantLookups {
			t.Errorf("%s: %d dedupe lookups, want %d", tt.name, got, tt.wantLookups)
		}
	}
}
