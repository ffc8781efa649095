package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// blockingSink holds every write until its context ends.
type blockingSink struct{ name string }

func (s blockingSink) Name() string { return s.name }
func (s blockingSink) Write(ctx context.Context, _ []sinks.Record) error {
	<-ctx.Done()
	return ctx.Err()
}

// When Flush runs out of time with records queued, its error says so and
// wraps the deadline (or the cancellation), names a sink's own failure,
// and never blames the store for a call the deadline cut short.
func TestFlushOutOfTimeSaysWhy(t *testing.T) {
	down := errors.New("status 500: receiver down")
	tests := []struct {
		name     string
		sink     sinks.Sink
		cancel   bool // cancel instead of a deadline
		wantIs   error
		wantSays string
	}{
		{"a failing receiver", &memSink{name: "hook", fail: []error{down, down, down, down, down, down}}, false, context.DeadlineExceeded, "receiver down"},
		{"a write cut short by the deadline", blockingSink{name: "slow"}, false, context.DeadlineExceeded, "records still queued: context deadline exceeded"},
		{"cancelled (a signal)", blockingSink{name: "slow"}, true, context.Canceled, "records still queued: context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
			f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a", "b")}}}
			r, _ := newPipeline(t, f, clk, tc.sink)
			if rep := r.RunSource(context.Background(), feedSrc, RunOptions{DeliverExisting: true}); rep.Queued != 2 {
				t.Fatalf("queued %d, want 2", rep.Queued)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if tc.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			n, err := r.Flush(ctx)
			if n != 0 || err == nil {
				t.Fatalf("Flush = %d, %v; want 0 delivered and an error", n, err)
			}
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantSays) {
				t.Errorf("error %q does not say %q", err, tc.wantSays)
			}
			if strings.Contains(err.Error(), "store:") {
				t.Errorf("error %q blames the store", err)
			}
		})
	}
}
