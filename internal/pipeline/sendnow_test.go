package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// A digest sent by hand covers the window from the last digest to now;
// a failed send leaves that very window to the next attempt; the
// scheduled send that follows covers only what came after.
func TestSendNow(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 8, 10, 0, 0, time.UTC)
	clk := &clock{t: start}
	f := &scriptFetcher{steps: []any{
		fetch.Batch{Items: items("a", "b")},
		fetch.Batch{Items: items("a", "b", "c")},
	}}
	ws := &windowSink{memSink: memSink{name: "digest", fail: []error{errors.New("smtp down")}}, every: time.Hour}
	r, _ := newPipeline(t, f, clk, ws)
	r.Deliver(ctx) // first sight: the window starts now
	r.RunSource(ctx, feedSrc, RunOptions{DeliverExisting: true})

	next, err := r.ScheduledWindow(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	if want := (sinks.Window{Start: start, End: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}); next != want {
		t.Errorf("scheduled window = %+v, want %+v", next, want)
	}

	clk.Add(20 * time.Minute) // 08:30
	if _, _, err := r.SendNow(ctx, ws); err == nil {
		t.Fatal("want the failure")
	}
	clk.Add(5 * time.Minute) // 08:35: the retry completes the 08:30 window, not a new one
	n, w, err := r.SendNow(ctx, ws)
	if err != nil || n != 2 {
		t.Fatalf("SendNow = %d, %v", n, err)
	}
	sent := sinks.Window{Start: start, End: time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)}
	if w != sent || len(ws.windows) != 1 || ws.windows[0] != sent {
		t.Errorf("sent window %+v (sink got %+v), want %+v", w, ws.windows, sent)
	}
	if next, _ := r.ScheduledWindow(ctx, ws); next.Start != sent.End {
		t.Errorf("the next scheduled window starts at %s, want %s", next.Start, sent.End)
	}

	r.RunSource(ctx, feedSrc, RunOptions{Force: true}) // c is queued at 08:35
	clk.Add(30 * time.Minute)                          // 09:05: the 09:00 send is due
	if n, err := r.Deliver(ctx); err != nil || n != 1 {
		t.Fatalf("scheduled send after the manual one delivered %d, %v; want only c", n, err)
	}
	if got := ws.ids(); len(got) != 3 {
		t.Errorf("the sink got %d records in all, want 3 (each once)", len(got))
	}
	if ws.windows[1].Start != sent.End {
		t.Errorf("scheduled window %+v does not start where the manual one ended", ws.windows[1])
	}
}
