package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
)

// A pass of 304s writes them in groups, and every one of them is in the
// store when RunAll returns: what `once` prints and the next pass reads.
func TestRunAllRecordsEvery304BeforeReturning(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{fetch.Batch{NotModified: true}}}
	r, st := newPipeline(t, f, clk)
	var srcs []Source
	for i := range recordGroup*2 + 7 { // two full groups and a rest
		srcs = append(srcs, Source{Source: fetch.Source{ID: fmt.Sprintf("s%03d", i), Kind: fetch.KindFeed,
			URL: fmt.Sprintf("https://h%d.example/feed", i%5)}, Schedule: "@every 30m"})
	}
	// A failure before: the 304 clears it.
	if _, err := st.RecordFailure(ctx, "s000", fetch.ErrHTTP, "status 500", clk.Now().Add(-time.Hour), clk.Now()); err != nil {
		t.Fatal(err)
	}
	reps := r.RunAll(ctx, srcs, RunOptions{Force: true}, 4)
	for i, rep := range reps {
		if rep.Outcome != OutcomeNotModified || rep.Err != nil {
			t.Fatalf("report %d = %+v", i, rep)
		}
		got, err := st.Source(ctx, srcs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastFetch.Equal(clk.Now()) || !got.LastSuccess.Equal(clk.Now()) || got.Failures != 0 || got.LastError != "" {
			t.Errorf("source %s after the pass: %+v", srcs[i].ID, got)
		}
	}
}

// recordLog is a record function that keeps the groups it was given.
type recordLog struct {
	mu     sync.Mutex
	groups [][]store.NotModified
	ctxErr []error
	fail   error
	wrote  chan struct{}
}

func (l *recordLog) record(ctx context.Context, runs ...store.NotModified) error {
	l.mu.Lock()
	l.groups = append(l.groups, runs)
	l.ctxErr = append(l.ctxErr, ctx.Err())
	l.mu.Unlock()
	if l.wrote != nil {
		l.wrote <- struct{}{}
	}
	return l.fail
}

func (l *recordLog) sizes() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n []int
	for _, g := range l.groups {
		n = append(n, len(g))
	}
	return n
}

func TestNotModifiedWriterGroups(t *testing.T) {
	nm := func(i int) store.NotModified { return store.NotModified{ID: fmt.Sprintf("s%d", i)} }
	t.Run("full groups at once, the rest at close", func(t *testing.T) {
		l := &recordLog{}
		w := newNotModifiedWriter(context.Background(), l.record, loggerOr(nil))
		w.wait = time.Hour // only size and close write here
		for i := range 2*w.group + 3 {
			w.add(nm(i))
		}
		if got := l.sizes(); len(got) != 2 || got[0] != w.group || got[1] != w.group {
			t.Fatalf("groups before close = %v, want two of %d", got, w.group)
		}
		if failed := w.close(); len(failed) != 0 {
			t.Errorf("failed = %v", failed)
		}
		if got := l.sizes(); len(got) != 3 || got[2] != 3 {
			t.Fatalf("groups after close = %v, want the rest of 3 last", got)
		}
		seen := map[string]bool{}
		for _, g := range l.groups {
			for _, r := range g {
				if seen[r.ID] {
					t.Errorf("%s written twice", r.ID)
				}
				seen[r.ID] = true
			}
		}
		if len(seen) != 2*w.group+3 {
			t.Errorf("%d written, want %d", len(seen), 2*w.group+3)
		}
	})
	t.Run("a lone 304 is written after the wait", func(t *testing.T) {
		l := &recordLog{wrote: make(chan struct{}, 4)}
		w := newNotModifiedWriter(context.Background(), l.record, loggerOr(nil))
		w.wait = time.Millisecond
		w.add(nm(1))
		select {
		case <-l.wrote:
		case <-time.After(time.Minute):
			t.Fatal("a lone 304 was not written after its wait")
		}
		w.close()
		if got := l.sizes(); len(got) != 1 || got[0] != 1 {
			t.Errorf("groups = %v, want one of 1 (close has nothing left)", got)
		}
	})
	t.Run("close writes under a context the pass's end does not cancel", func(t *testing.T) {
		l := &recordLog{}
		ctx, cancel := context.WithCancel(context.Background())
		w := newNotModifiedWriter(ctx, l.record, loggerOr(nil))
		w.wait = time.Hour
		w.add(nm(1))
		cancel()
		w.close()
		if len(l.ctxErr) != 1 || l.ctxErr[0] != nil {
			t.Errorf("context errors at the writes = %v, want one nil", l.ctxErr)
		}
	})
}

// failingRecords is a ScheduleStore whose group writes fail.
type failingRecords struct{ err error }

func (failingRecords) Source(_ context.Context, id string) (store.SourceState, error) {
	return store.SourceState{ID: id}, nil
}
func (failingRecords) Sources(context.Context) ([]store.SourceState, error) { return nil, nil }
func (f failingRecords) RecordNotModifiedRuns(context.Context, ...store.NotModified) error {
	return f.err
}
func (f failingRecords) RecordFailures(context.Context, ...store.Failure) error { return f.err }
func (failingRecords) RenewLeases(context.Context, time.Time) error             { return nil }

// A 304 that could not be recorded is its source's failure in the
// pass's reports; a shared pass does not group its 304s.
func TestRunAllReportsUnrecorded304s(t *testing.T) {
	broken := errors.New("disk full")
	var grouped sync.Map
	sc := NewScheduler(SchedulerOptions{Store: failingRecords{err: broken},
		Run: func(_ context.Context, src Source, ro RunOptions) Report {
			grouped.Store(src.ID, ro.notModified != nil)
			if src.ID == "fails" {
				return Report{Source: src.ID, Outcome: OutcomeFailed, Err: errors.New("status 500")}
			}
			if ro.notModified != nil {
				ro.notModified.add(store.NotModified{ID: src.ID})
			}
			return Report{Source: src.ID, Outcome: OutcomeNotModified}
		}})
	srcs := []Source{
		{Source: fetch.Source{ID: "a", URL: "https://a.example/feed"}},
		{Source: fetch.Source{ID: "fails", URL: "https://b.example/feed"}},
	}
	reps := sc.RunAll(context.Background(), srcs, RunOptions{}, 2)
	if reps[0].Outcome != OutcomeFailed || !errors.Is(reps[0].Err, broken) {
		t.Errorf("report of the unrecorded 304 = %+v", reps[0])
	}
	if reps[1].Err == nil || errors.Is(reps[1].Err, broken) {
		t.Errorf("report of the failed run = %+v, want its own error", reps[1])
	}
	if g, _ := grouped.Load("a"); g != true {
		t.Error("a one-off pass did not group its 304s")
	}

	reps = sc.RunAll(context.Background(), srcs[:1], RunOptions{Shared: true, Since: time.Now()}, 2)
	if g, _ := grouped.Load("a"); g != false {
		t.Error("a shared pass grouped its 304s")
	}
	if reps[0].Outcome != OutcomeNotModified {
		t.Errorf("shared report = %+v", reps[0])
	}
}

// A pass whose sources fail writes the failures in groups, each as a run
// on its own writes it (the failures in a row counted on, the backoff
// from the count before), all before RunAll returns.
func TestRunAllRecordsEveryFailureBeforeReturning(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var srcs []Source
	for i := range recordGroup + 5 { // a full group and a rest
		srcs = append(srcs, Source{Source: fetch.Source{ID: fmt.Sprintf("s%03d", i), Kind: fetch.KindFeed,
			URL: fmt.Sprintf("https://h%d.example/feed", i%5)}, Schedule: "@every 30m"})
	}
	down := &fetch.Error{Kind: fetch.ErrHTTP, Err: errors.New("status 503")}
	prepare := func(st *store.Store) {
		t.Helper()
		for range 2 { // failing before: the pass counts on
			if _, err := st.RecordFailure(ctx, "s000", fetch.ErrHTTP, "status 500", now.Add(-time.Hour), now); err != nil {
				t.Fatal(err)
			}
		}
	}
	grouped, gst := newPipeline(t, &scriptFetcher{steps: []any{down}}, &clock{t: now})
	prepare(gst)
	reps := grouped.RunAll(ctx, srcs, RunOptions{Force: true}, 4)
	alone, ast := newPipeline(t, &scriptFetcher{steps: []any{down}}, &clock{t: now})
	prepare(ast)
	for i, src := range srcs {
		want := alone.RunSource(ctx, src, RunOptions{Force: true})
		if reps[i].Outcome != OutcomeFailed || !errors.Is(reps[i].Err, down) || !reps[i].NextRun.Equal(want.NextRun) {
			t.Errorf("report %d = %+v, want %+v", i, reps[i], want)
		}
		got, err := gst.Source(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantSt, err := ast.Source(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Failures != wantSt.Failures || got.ErrorKind != wantSt.ErrorKind || got.LastError != wantSt.LastError ||
			!got.LastFetch.Equal(wantSt.LastFetch) || !got.NextRun.Equal(wantSt.NextRun) {
			t.Errorf("%s after the pass:\n%+v\nafter a run on its own:\n%+v", src.ID, got, wantSt)
		}
	}
	if got, _ := gst.Source(ctx, "s000"); got.Failures != 3 {
		t.Errorf("s000 has %d failures in a row, want 3", got.Failures)
	}
}

// A failure that could not be recorded says so in its report; a shared
// pass does not group its failures.
func TestRunAllReportsUnrecordedFailures(t *testing.T) {
	broken := errors.New("disk full")
	down := errors.New("status 500")
	var grouped sync.Map
	sc := NewScheduler(SchedulerOptions{Store: failingRecords{err: broken},
		Run: func(_ context.Context, src Source, ro RunOptions) Report {
			grouped.Store(src.ID, ro.failures != nil)
			if ro.failures != nil {
				ro.failures.add(store.Failure{ID: src.ID})
			}
			return Report{Source: src.ID, Outcome: OutcomeFailed, Err: down}
		}})
	srcs := []Source{{Source: fetch.Source{ID: "a", URL: "https://a.example/feed"}}}
	reps := sc.RunAll(context.Background(), srcs, RunOptions{}, 2)
	if reps[0].Outcome != OutcomeFailed || !errors.Is(reps[0].Err, down) || !errors.Is(reps[0].Err, broken) {
		t.Errorf("report of the unrecorded failure = %+v, want both errors", reps[0])
	}
	if g, _ := grouped.Load("a"); g != true {
		t.Error("a one-off pass did not group its failures")
	}
	sc.RunAll(context.Background(), srcs, RunOptions{Shared: true, Since: time.Now()}, 2)
	if g, _ := grouped.Load("a"); g != false {
		t.Error("a shared pass grouped its failures")
	}
}
