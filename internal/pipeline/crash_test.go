package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// The crash test re-runs its own test binary as the process that dies:
// with these variables set, the test is that process.
const (
	crashChildDB   = "TREATYWATCH_CRASH_CHILD_DB"
	crashChildSent = "TREATYWATCH_CRASH_CHILD_SENT"
)

// sentWindow is what the dying process's sink sent before it was killed.
type sentWindow struct {
	Start, End time.Time
	EventIDs   []string
}

// hangingWindowSink records the window it sends in a file and then hangs,
// as a process does that is killed between sending and acknowledging.
type hangingWindowSink struct {
	windowSink
	sentPath string
}

func (h *hangingWindowSink) WriteWindow(_ context.Context, w sinks.Window, recs []sinks.Record) error {
	s := sentWindow{Start: w.Start, End: w.End}
	for _, r := range recs {
		s.EventIDs = append(s.EventIDs, r.EventID)
	}
	b, _ := json.Marshal(s)
	tmp := h.sentPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err == nil {
		os.Rename(tmp, h.sentPath)
	}
	// The test kills the process here (a sleep, not an empty select,
	// which the runtime may end as a deadlock).
	time.Sleep(10 * time.Minute)
	return errors.New("not killed within 10 minutes")
}

// crashChild is the process that dies: it opens the store, finds the
// 09:00 window due and hangs in the sink after sending it.
func crashChild(t *testing.T, db, sent string) {
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 9, 10, 0, 0, time.UTC)}
	hs := &hangingWindowSink{windowSink: windowSink{memSink: memSink{name: "digest"}, every: time.Hour}, sentPath: sent}
	r := New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{}, Classifier: wordClassifier{}},
		Outbox: OutboxOptions{Sinks: []sinks.Sink{hs}}})
	_, err = r.Deliver(ctx)
	t.Fatalf("the sink returned instead of hanging: %v", err)
}

// TestScheduledWindowIsStableAcrossACrash: a process is SIGKILLed after
// its scheduled sink sent a window and before the window was
// acknowledged. Reopening the store shows the records still queued and
// the window fixed; a process started hours later offers exactly the
// window that was sent (same bounds, same records), closes it, and the
// next window starts where that one ended.
func TestScheduledWindowIsStableAcrossACrash(t *testing.T) {
	if db := os.Getenv(crashChildDB); db != "" {
		crashChild(t, db, os.Getenv(crashChildSent))
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	sentPath := filepath.Join(dir, "sent.json")

	// 08:10: the digest is first seen (its window starts now) and a run
	// queues two records for it.
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 8, 10, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a", "b")}}}
	ws := &windowSink{memSink: memSink{name: "digest"}, every: time.Hour}
	r := New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
		Outbox: OutboxOptions{Sinks: []sinks.Sink{ws}}})
	if _, err := r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := r.RunSource(ctx, feedSrc, RunOptions{DeliverExisting: true}); rep.Err != nil || rep.New != 2 {
		t.Fatalf("run: %+v", rep)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// 09:10 in another process, killed while its sink holds the window.
	var out bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^TestScheduledWindowIsStableAcrossACrash$", "-test.v")
	child.Env = append(os.Environ(), crashChildDB+"="+db, crashChildSent+"="+sentPath)
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	deadline := time.After(2 * time.Minute)
	var sent sentWindow
	for sent.End.IsZero() {
		select {
		case err := <-exited:
			t.Fatalf("the process exited (%v) before its sink sent the window:\n%s", err, out.String())
		case <-deadline:
			child.Process.Kill()
			t.Fatalf("the process did not send the window in 2 minutes:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if b, err := os.ReadFile(sentPath); err == nil {
			if err := json.Unmarshal(b, &sent); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := <-exited; !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the process ended with %v, want killed by SIGKILL:\n%s", err, out.String())
	}
	wantStart := time.Date(2026, 11, 23, 8, 10, 0, 0, time.UTC)
	wantEnd := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if !sent.Start.Equal(wantStart) || !sent.End.Equal(wantEnd) || len(sent.EventIDs) != 2 {
		t.Fatalf("the killed process sent %+v, want 08:10 to 09:00 with 2 records", sent)
	}

	// The store of the dead process: the records are still queued and the
	// window it handed over is fixed.
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if d, err := st.OutboxDepth(ctx); err != nil || d["digest"] != 2 {
		t.Fatalf("after the kill the outbox holds %v (%v), want the 2 records still queued", d, err)
	}
	if w, err := st.SinkWindow(ctx, "digest"); err != nil || !w.Pending.Equal(wantEnd) || !w.Last.Equal(wantStart) {
		t.Fatalf("after the kill the window state is %+v (%v), want last %s, pending %s", w, err, wantStart, wantEnd)
	}

	// Restarted much later, at 12:10: the very same window again.
	clk = &clock{t: time.Date(2026, 11, 23, 12, 10, 0, 0, time.UTC)}
	ws = &windowSink{memSink: memSink{name: "digest"}, every: time.Hour}
	r = New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
		Outbox: OutboxOptions{Sinks: []sinks.Sink{ws}}})
	if _, err := r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ws.windows) != 1 || ws.windows[0] != (sinks.Window{Start: sent.Start, End: sent.End}) {
		t.Fatalf("after the crash the sink was offered %+v, want the window sent before it, %s to %s", ws.windows, sent.Start, sent.End)
	}
	if got := ws.ids(); !slices.Equal(got, sent.EventIDs) {
		t.Errorf("the window was resent with records %v, want the ones sent before the kill %v", got, sent.EventIDs)
	}
	if d, _ := st.OutboxDepth(ctx); d["digest"] != 0 {
		t.Errorf("records still queued: %v", d)
	}
	// The next window starts where the acknowledged one ended.
	clk.Add(time.Hour)
	if _, err := r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ws.windows) != 2 || !ws.windows[1].Start.Equal(sent.End) {
		t.Errorf("windows = %+v, want the second to start at %s", ws.windows, sent.End)
	}
}
