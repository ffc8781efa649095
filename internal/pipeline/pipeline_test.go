package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// scriptFetcher returns queued batches or errors in order; the last one repeats.
type scriptFetcher struct {
	mu    sync.Mutex
	steps []any // fetch.Batch or error
	calls int
	prev  []fetch.Validators
}

func (f *scriptFetcher) Fetch(_ context.Context, src fetch.Source, prev fetch.Validators) (fetch.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prev = append(f.prev, prev)
	step := f.steps[min(f.calls, len(f.steps)-1)]
	f.calls++
	if err, ok := step.(error); ok {
		return fetch.Batch{}, err
	}
	b := step.(fetch.Batch)
	for i := range b.Items {
		b.Items[i].SourceID = src.ID
	}
	return b, nil
}

// wordClassifier marks items relevant when the title holds "treaty".
type wordClassifier struct{}

func (wordClassifier) Classify(it fetch.Item) classify.Result {
	rel := strings.Contains(strings.ToLower(it.Title), "treaty")
	return classify.Result{Relevant: rel, Rules: "test"}
}

// memSink records what it took and fails while fail > 0.
type memSink struct {
	mu   sync.Mutex
	name string
	fail []error
	got  []sinks.Record
}

func (s *memSink) Name() string { return s.name }
func (s *memSink) Write(_ context.Context, recs []sinks.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		err := s.fail[0]
		s.fail = s.fail[1:]
		return err
	}
	s.got = append(s.got, recs...)
	return nil
}
func (s *memSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, r := range s.got {
		ids = append(ids, r.EventID)
	}
	return ids
}

func items(keys ...string) []fetch.Item {
	var out []fetch.Item
	for _, k := range keys {
		out = append(out, fetch.Item{Key: k, Title: "UN cybercrime treaty " + k, URL: "https://example.org/" + k})
	}
	return out
}

func newPipeline(t *testing.T, f fetch.Fetcher, clk *clock, ss ...sinks.Sink) (*Pipeline, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
		Outbox: OutboxOptions{Sinks: ss}})
	return r, st
}

var feedSrc = Source{Source: fetch.Source{ID: "s1", Kind: fetch.KindFeed, URL: "https://example.org/feed"}, Schedule: "@every 30m"}

func TestFirstRunDoesNotFlood(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name            string
		deliverExisting bool
		wantFirst       int
	}{
		{"default marks seen", false, 0},
		{"deliver existing", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
			f := &scriptFetcher{steps: []any{
				fetch.Batch{Items: items("a", "b"), Next: fetch.Validators{ETag: `"1"`}},
				fetch.Batch{Items: items("a", "b", "c", "c"), Next: fetch.Validators{ETag: `"2"`}},
			}}
			sink := &memSink{name: "mem"}
			r, _ := newPipeline(t, f, clk, sink)
			rep := r.RunSource(ctx, feedSrc, RunOptions{DeliverExisting: tt.deliverExisting})
			if rep.Err != nil || rep.New != 2 || rep.Queued != tt.wantFirst {
				t.Fatalf("first run = %+v", rep)
			}
			r.Flush(ctx)
			if got := len(sink.ids()); got != tt.wantFirst {
				t.Errorf("first run delivered %d, want %d", got, tt.wantFirst)
			}
			rep = r.RunSource(ctx, feedSrc, RunOptions{})
			if rep.New != 1 || rep.Queued != 1 {
				t.Fatalf("second run = %+v (a repeated key must count once)", rep)
			}
			if f.prev[1].ETag != `"1"` {
				t.Errorf("second fetch sent validators %+v", f.prev[1])
			}
			r.Flush(ctx)
			if got := len(sink.ids()); got != tt.wantFirst+1 {
				t.Errorf("after second run delivered %d, want %d", got, tt.wantFirst+1)
			}
		})
	}
}

func TestFailureSchedulesRetry(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		err      error
		failures int
		minWait  time.Duration
		maxWait  time.Duration
	}{
		{"429 with Retry-After 120", &fetch.Error{Kind: fetch.ErrHTTP, Status: 429, RetryAfter: 120 * time.Second}, 1, 120 * time.Second, 121 * time.Second},
		{"first network error", &fetch.Error{Kind: fetch.ErrNetwork, Err: errors.New("connection refused")}, 1, time.Minute, time.Minute},
		{"ten failures reach the cap", &fetch.Error{Kind: fetch.ErrTimeout}, 10, 4 * time.Hour, 4 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
			f := &scriptFetcher{steps: []any{tt.err}}
			r, st := newPipeline(t, f, clk)
			var rep Report
			for range tt.failures {
				rep = r.RunSource(ctx, feedSrc, RunOptions{})
				if rep.Outcome != OutcomeFailed {
					t.Fatalf("outcome = %s", rep.Outcome)
				}
				clk.t = rep.NextRun // run again as soon as allowed
			}
			s, _ := st.Source(ctx, "s1")
			wait := s.NextRun.Sub(s.LastFetch)
			if wait < tt.minWait || wait > tt.maxWait {
				t.Errorf("next run after %s, want within [%s, %s]", wait, tt.minWait, tt.maxWait)
			}
			if s.Failures != tt.failures || s.Status().State != "failing" {
				t.Errorf("state = %+v", s.Status())
			}
			// Before the next run time the source waits; after it, it runs again.
			clk.t = s.NextRun.Add(-time.Second)
			if rep := r.RunSource(ctx, feedSrc, RunOptions{}); rep.Outcome != OutcomeWaiting {
				t.Errorf("before next run: outcome %s, want waiting", rep.Outcome)
			}
			clk.t = s.NextRun
			calls := f.calls
			r.RunSource(ctx, feedSrc, RunOptions{})
			if f.calls != calls+1 {
				t.Error("the source was not fetched again at its next run time: a failing source must stay scheduled")
			}
		})
	}
}

func TestDeliveryRetriesUntilTaken(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a", "b", "c")}}}
	sink := &memSink{name: "hook", fail: []error{
		errors.New("status 500"),
		&sinks.RetryError{After: 90 * time.Second, Err: errors.New("status 429")},
		context.DeadlineExceeded,
	}}
	r, st := newPipeline(t, f, clk, sink)
	r.RunSource(ctx, feedSrc, RunOptions{DeliverExisting: true})
	for i := 0; i < 3; i++ {
		if n, err := r.Deliver(ctx); err == nil || n != 0 {
			t.Fatalf("attempt %d: delivered %d, err %v; want a failure", i, n, err)
		}
		next, ok, _ := st.NextAttempt(ctx, "hook")
		if !ok {
			t.Fatal("records were dropped after a failure")
		}
		if i == 1 && next.Sub(clk.Now()) < 90*time.Second {
			t.Errorf("Retry-After 90s not honoured: next attempt in %s", next.Sub(clk.Now()))
		}
		if n, _ := r.Deliver(ctx); n != 0 {
			t.Fatal("delivered before the retry time")
		}
		clk.t = next
	}
	if n, err := r.Deliver(ctx); err != nil || n != 3 {
		t.Fatalf("final delivery = %d, %v", n, err)
	}
	if n, _ := r.Deliver(ctx); n != 0 {
		t.Errorf("acked records were delivered again: %d", n)
	}
	if ids := sink.ids(); len(ids) != 3 {
		t.Errorf("sink got %v", ids)
	}
}

type windowSink struct {
	memSink
	every   time.Duration
	windows []sinks.Window
	sizes   []int
}

func (w *windowSink) Next(t time.Time) time.Time { return t.Truncate(w.every).Add(w.every) }
func (w *windowSink) WriteWindow(ctx context.Context, win sinks.Window, recs []sinks.Record) error {
	if err := w.Write(ctx, recs); err != nil {
		return err
	}
	w.windows = append(w.windows, win)
	w.sizes = append(w.sizes, len(recs))
	return nil
}

func TestScheduledSinkGetsWindows(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 10, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{
		fetch.Batch{Items: items("a", "b")},
		fetch.Batch{Items: items("a", "b", "c")},
	}}
	ws := &windowSink{memSink: memSink{name: "digest", fail: []error{errors.New("smtp down")}}, every: time.Hour}
	r, _ := newPipeline(t, f, clk, ws)
	if _, err := r.Deliver(ctx); err != nil { // first sight: the window starts now
		t.Fatal(err)
	}
	r.RunSource(ctx, feedSrc, RunOptions{DeliverExisting: true})
	if n, _ := r.Deliver(ctx); n != 0 || len(ws.windows) != 0 {
		t.Fatal("window delivered before its end")
	}
	clk.Add(time.Hour) // 09:10: the 09:00 window is due; the first send fails
	if _, err := r.Deliver(ctx); err == nil {
		t.Fatal("want the failure")
	}
	r.RunSource(ctx, feedSrc, RunOptions{}) // c is queued at 09:10, after the window end
	if n, err := r.Deliver(ctx); err != nil || n != 2 {
		t.Fatalf("retry of the window delivered %d, %v; want a and b", n, err)
	}
	want := sinks.Window{Start: time.Date(2026, 11, 23, 8, 10, 0, 0, time.UTC), End: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if ws.windows[0] != want {
		t.Errorf("window = %+v, want %+v", ws.windows[0], want)
	}
	clk.Add(3 * time.Hour) // down for several windows: one send covers them
	if n, _ := r.Deliver(ctx); n != 1 || len(ws.windows) != 2 || !ws.windows[1].End.Equal(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("catch-up window = %+v (n=%d)", ws.windows, n)
	}
}

func TestSpreadKeepsPeriod(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := range 8 {
		src := Source{Source: fetch.Source{ID: fmt.Sprintf("src-%d", i)}, Schedule: "@every 30m", Spread: true}
		sch, err := ScheduleFor(src)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
		a := sch.Next(t0)
		b := sch.Next(a)
		if b.Sub(a) != 30*time.Minute {
			t.Errorf("%s: period %s, want 30m", src.ID, b.Sub(a))
		}
		seen[a.Sub(t0)%(30*time.Minute)] = true
	}
	if len(seen) < 4 {
		t.Errorf("offsets are not spread: %v", seen)
	}
	if _, err := ScheduleFor(Source{Schedule: "61 * * * *"}); err == nil {
		t.Error("bad schedule accepted")
	}
}

func TestPanickingSourceDoesNotStopOthers(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	good := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a")}}}
	r, _ := newPipeline(t, good, clk)
	r.Ingester.o.Fetchers["page"] = panicFetcher{}
	bad := Source{Source: fetch.Source{ID: "bad", Kind: "page"}, Schedule: "@every 1h"}
	reps := r.RunAll(ctx, []Source{bad, feedSrc}, RunOptions{}, 2)
	if reps[0].Outcome != OutcomeFailed || reps[1].Outcome != OutcomeOK {
		t.Errorf("reports = %+v", reps)
	}
}

type panicFetcher struct{}

func (panicFetcher) Fetch(context.Context, fetch.Source, fetch.Validators) (fetch.Batch, error) {
	panic("boom")
}

func TestDaemonStopsAndFlushes(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a", "b")}}}
	sink := &memSink{name: "mem"}
	r, st := newPipeline(t, f, clk, sink)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- r.Daemon(ctx, []Source{feedSrc}, DaemonOptions{DeliverExisting: true, Tick: 10 * time.Millisecond})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.ids()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(sink.ids()); got != 2 {
		t.Errorf("delivered %d, want 2", got)
	}
	if d, _ := st.OutboxDepth(context.Background()); d["mem"] != 0 {
		t.Errorf("outbox not empty: %v", d)
	}
}

// TestChangedGUIDIsNotNew: an article that comes back under a new GUID
// (same URL) is not new; items of one batch sharing a URL stay distinct.
func TestChangedGUIDIsNotNew(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	rekeyed := items("a")[0]
	rekeyed.Key = "a-retitled" // same URL as a
	shared := items("s1", "s2")
	for i := range shared {
		shared[i].URL = "https://example.org/a" // known, but shared by both
	}
	f := &scriptFetcher{steps: []any{
		fetch.Batch{Items: items("a", "b")},
		fetch.Batch{Items: append([]fetch.Item{rekeyed}, items("b", "c")...)},
		fetch.Batch{Items: shared},
	}}
	sink := &memSink{name: "mem"}
	r, _ := newPipeline(t, f, clk, sink)
	tests := []struct {
		name    string
		wantNew int
	}{
		{"first run", 2},
		{"a under a new GUID, and c", 1},
		{"two events on one page", 2},
	}
	for _, tt := range tests {
		rep := r.RunSource(ctx, feedSrc, RunOptions{DeliverExisting: true})
		if rep.Err != nil || rep.New != tt.wantNew {
			t.Errorf("%s: new = %d (err %v), want %d", tt.name, rep.New, rep.Err, tt.wantNew)
		}
	}
}
