package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// A commit that queued records kicks the outbox: the daemon delivers at
// once instead of at its next tick. A run that queued nothing does not.
func TestCommitThatQueuedKicksTheOutbox(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a")}, fetch.Batch{Items: items("a", "b")}}}
	p, _ := newPipeline(t, f, clk, &memSink{name: "mem"})

	if rep := p.RunSource(ctx, feedSrc, RunOptions{}); rep.Err != nil || rep.Queued != 0 {
		t.Fatalf("first run: %+v", rep)
	}
	select {
	case <-p.Kicks():
		t.Fatal("a first run that queued nothing kicked the outbox")
	default:
	}
	if rep := p.RunSource(ctx, feedSrc, RunOptions{Force: true}); rep.Err != nil || rep.Queued != 1 {
		t.Fatalf("second run: %+v", rep)
	}
	select {
	case <-p.Kicks():
	default:
		t.Fatal("a run that queued a record did not kick the outbox")
	}
}

// The Scheduler needs only a function that runs a source: RunAll runs
// each source once on the pool, and a panic in one is that source's
// failure while the others run.
func TestSchedulerRunsWhatItIsGiven(t *testing.T) {
	var mu sync.Mutex
	ran := map[string]RunOptions{}
	var logged syncBuffer
	sc := NewScheduler(SchedulerOptions{Logger: slog.New(slog.NewTextHandler(&logged, nil)), Run: func(_ context.Context, src Source, ro RunOptions) Report {
		if src.ID == "bad" {
			panic("boom")
		}
		mu.Lock()
		defer mu.Unlock()
		ran[src.ID] = ro
		return Report{Source: src.ID, Outcome: OutcomeOK}
	}})
	srcs := []Source{
		{Source: fetch.Source{ID: "a", URL: "https://a.example/feed"}},
		{Source: fetch.Source{ID: "bad", URL: "https://a.example/other"}},
		{Source: fetch.Source{ID: "c", URL: "https://c.example/feed"}},
	}
	ro := RunOptions{DeliverExisting: true}
	reps := sc.RunAll(context.Background(), srcs, ro, 2)
	for i, want := range []Outcome{OutcomeOK, OutcomeFailed, OutcomeOK} {
		if reps[i].Source != srcs[i].ID || reps[i].Outcome != want {
			t.Errorf("report %d = %+v, want %s %s", i, reps[i], srcs[i].ID, want)
		}
	}
	if len(ran) != 2 || !reflect.DeepEqual(ran["a"], ro) || !reflect.DeepEqual(ran["c"], ro) {
		t.Errorf("ran = %v", ran)
	}
	if out := logged.String(); !strings.Contains(out, `msg="source run crashed" source=bad err="crashed: boom"`) {
		t.Errorf("the crash was logged as\n%s\nwant it with its source", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := sc.Each(ctx, srcs, 2, "check", func(context.Context, int, Source) { t.Error("ran after ctx ended") })
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Each after cancel, source %d: %v", i, err)
		}
	}
}
