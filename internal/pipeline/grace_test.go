package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// gateSink refuses every write until opened; it counts the calls.
type gateSink struct {
	mu    sync.Mutex
	open  bool
	calls int
	got   []sinks.Record
}

func (g *gateSink) Name() string { return "gate" }

func (g *gateSink) Write(_ context.Context, recs []sinks.Record) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if !g.open {
		return errors.New("receiver down")
	}
	g.got = append(g.got, recs...)
	return nil
}

func (g *gateSink) state() (calls, got int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, len(g.got)
}

// TestGraceFlushDeliversWhatIsStillQueued: the daemon is stopped while
// both records are still queued (its sink refused them, and with an
// hour-long tick nothing else would try again); the receiver comes back
// just before the stop, and the grace-period flush is what delivers.
func TestGraceFlushDeliversWhatIsStillQueued(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := &gateSink{}
	f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a", "b")}}}
	r := New(Options{Store: st, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
		Outbox: OutboxOptions{Sinks: []sinks.Sink{g}, Backoff: schedule.Backoff{Base: 20 * time.Millisecond}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- r.Daemon(ctx, []Source{feedSrc}, DaemonOptions{DeliverExisting: true, Tick: time.Hour, Grace: time.Minute})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		calls, _ := g.state()
		d, err := st.OutboxDepth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if calls > 0 && d["gate"] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refused delivery within 30s: %d calls, depth %v", calls, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.mu.Lock()
	g.open = true
	callsBefore := g.calls
	g.mu.Unlock()
	cancel() // both records still queued
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the daemon did not stop")
	}
	calls, got := g.state()
	t.Logf("refused calls before the stop %d; after: %d calls, %d records", callsBefore, calls, got)
	if got != 2 {
		t.Errorf("the grace flush delivered %d records, want 2", got)
	}
	if d, _ := st.OutboxDepth(context.Background()); d["gate"] != 0 {
		t.Errorf("records still queued after the grace flush: %v", d)
	}
}
