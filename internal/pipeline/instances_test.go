package pipeline

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/pgtest"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// countingFetcher returns one item and records the clock's time of each
// fetch.
type countingFetcher struct {
	now func() time.Time
	mu  sync.Mutex
	at  []time.Time
}

func (f *countingFetcher) Fetch(_ context.Context, src fetch.Source, _ fetch.Validators) (fetch.Batch, error) {
	f.mu.Lock()
	f.at = append(f.at, f.now())
	f.mu.Unlock()
	b := fetch.Batch{Items: items("a")}
	b.Items[0].SourceID = src.ID
	return b, nil
}

func (f *countingFetcher) fetches() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.at...)
}

// TestTwoDaemonsShareTheSchedule runs two daemons (two instances, each
// its own store handle, so its own claims) over one database on one
// simulated clock. A third instance claimed the source and died: both
// daemons find the source held, look again each tick, and once the dead
// instance's lease ran out exactly one of them takes the run over. Then
// at each scheduled time both wake and exactly one fetches.
func TestTwoDaemonsShareTheSchedule(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	clk := newFakeClock(start)
	path := filepath.Join(t.TempDir(), "db")
	open := func() *store.Store {
		st, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	src := Source{Source: fetch.Source{ID: "s1", Kind: fetch.KindFeed, URL: "https://example.org/feed"}, Schedule: "@every 1h"}
	dead := open()
	if ok, err := dead.ClaimSource(ctx, src.ID, store.SourceClaim{Now: start, Until: start.Add(2 * time.Minute)}); !ok || err != nil {
		t.Fatalf("the dead instance's claim: %v %v", ok, err)
	}

	f := &countingFetcher{now: clk.Now}
	var stops []func()
	for range 2 {
		r := New(Options{Store: open(), Now: clk.Now, Lease: 2 * time.Minute,
			Ingest:   IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
			Schedule: SchedulerOptions{After: clk.After}})
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- r.Daemon(dctx, []Source{src}, DaemonOptions{Tick: time.Minute, Grace: time.Second}) }()
		stops = append(stops, func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()

	// Held by the dead instance until 08:02: both look again each minute.
	for clk.Now().Before(start.Add(3 * time.Minute)) {
		if n := len(f.fetches()); n != 0 {
			t.Fatalf("fetched %d times at %s while another instance's claim was live", n, clk.Now())
		}
		clk.set(clk.waitersN(t, 2))
	}
	takeover := clk.Now()
	for clk.Now().Before(takeover.Add(3 * time.Hour)) {
		clk.set(clk.waitersN(t, 2))
	}
	clk.waitersN(t, 2) // both wait again: the last run is over
	var want []time.Time
	for i := range 4 {
		want = append(want, takeover.Add(time.Duration(i)*time.Hour))
	}
	if got := f.fetches(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fetched at %v, want once at each of %v (taken over once the dead lease ran out, then once per slot)", got, want)
	}
	if !takeover.Equal(start.Add(3 * time.Minute)) {
		t.Errorf("taken over at %s, want at the first tick after the dead lease ended (%s)", takeover, start.Add(3*time.Minute))
	}
}

// lockedWindowSink is a scheduled sink that takes a while to send (as an
// SMTP server does), so that instances sending at once would overlap,
// and records every window it was given.
type lockedWindowSink struct {
	name    string
	every   time.Duration
	mu      sync.Mutex
	windows []sinks.Window
	ids     map[string]int
}

func (w *lockedWindowSink) Name() string                                { return w.name }
func (w *lockedWindowSink) Write(context.Context, []sinks.Record) error { return nil }
func (w *lockedWindowSink) Next(t time.Time) time.Time                  { return t.Truncate(w.every).Add(w.every) }

func (w *lockedWindowSink) sent() ([]sinks.Window, map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sinks.Window(nil), w.windows...), maps.Clone(w.ids)
}

func (w *lockedWindowSink) WriteWindow(_ context.Context, win sinks.Window, recs []sinks.Record) error {
	time.Sleep(30 * time.Millisecond)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.windows = append(w.windows, win)
	for _, r := range recs {
		w.ids[r.EventID]++
	}
	return nil
}

// TestInstancesSendEachWindowOnce: three instances on one PostgreSQL
// database deliver at the same moments; each digest window is sent by
// exactly one of them, with each record once.
func TestInstancesSendEachWindowOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	clk := &clock{t: time.Date(2026, 11, 23, 8, 10, 0, 0, time.UTC)}
	ws := &lockedWindowSink{name: "digest", every: time.Hour, ids: map[string]int{}}
	var runners []*Pipeline
	var fetchers []*scriptFetcher
	for range 3 {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f := &scriptFetcher{}
		fetchers = append(fetchers, f)
		runners = append(runners, New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
			Outbox: OutboxOptions{Sinks: []sinks.Sink{ws}}}))
	}
	deliverAll := func() {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(func() {
				for range 3 {
					if _, err := r.Deliver(ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}
	deliverAll() // first sight: the window starts now
	const windows = 4
	queued := 0
	for w := range windows {
		// One instance commits new items inside the window.
		keys := []string{fmt.Sprintf("w%d-a", w), fmt.Sprintf("w%d-b", w)}
		f := fetchers[w%len(fetchers)]
		f.steps = []any{fetch.Batch{Items: items(keys...)}}
		rep := runners[w%len(runners)].RunSource(ctx, feedSrc, RunOptions{Force: true, DeliverExisting: true})
		if rep.Err != nil {
			t.Fatal(rep.Err)
		}
		queued += rep.Queued
		clk.Add(time.Hour)
		deliverAll()
	}
	got, ids := ws.sent()
	if len(got) != windows {
		t.Errorf("%d windows sent, want %d (one per window): %+v", len(got), windows, got)
	}
	for i := 1; i < len(got); i++ {
		if !got[i].Start.Equal(got[i-1].End) {
			t.Errorf("window %d starts %s, want the end of the one before (%s)", i, got[i].Start, got[i-1].End)
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("record %s sent %d times", id, n)
		}
	}
	if len(ids) != queued || queued != 2*windows {
		t.Errorf("%d records sent, %d queued, want %d", len(ids), queued, 2*windows)
	}
	t.Logf("3 instances delivering at once: %d windows sent for %d windows, %d distinct records", len(got), windows, len(ids))
}
