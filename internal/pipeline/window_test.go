package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/window"
)

func mustWindow(t *testing.T, days, hours, tz string) *window.Window {
	t.Helper()
	w, err := window.Parse(days, hours, tz)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A source outside its active window is not fetched, nothing of it is
// stored, and the report says when it resumes; inside it runs as usual.
func TestActiveWindow(t *testing.T) {
	ctx := context.Background()
	// Saturday 5 Dec 2026, 10:00 UTC.
	clk := &clock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a")}}}
	r, st := newPipeline(t, f, clk, &memSink{name: "mem"})
	src := feedSrc
	src.Active = mustWindow(t, "mon-fri", "07:00-19:00", "Europe/Berlin")

	rep := r.RunSource(ctx, src, RunOptions{})
	want := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC) // Monday 07:00 in Berlin
	if rep.Outcome != OutcomeInactive || !rep.NextRun.Equal(want) {
		t.Fatalf("weekend run = %+v, want inactive until %s", rep, want)
	}
	if f.calls != 0 {
		t.Errorf("fetched %d times outside the window", f.calls)
	}
	if s, err := st.Source(ctx, src.ID); err != nil || !s.LastFetch.IsZero() {
		t.Errorf("state changed outside the window: %+v, %v", s, err)
	}

	// The daemon's schedule puts the next run at the opening too.
	sch, err := ScheduleFor(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := sch.Next(clk.Now()); !got.Equal(want) {
		t.Errorf("scheduled next run = %s, want %s", got, want)
	}
	// Inside the window the schedule is the source's own.
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	if got := sch.Next(monday); !got.Equal(monday.Add(30 * time.Minute)) {
		t.Errorf("next run inside the window = %s, want %s", got, monday.Add(30*time.Minute))
	}

	clk.Add(want.Sub(clk.Now()))
	rep = r.RunSource(ctx, src, RunOptions{})
	if rep.Outcome != OutcomeOK || f.calls != 1 {
		t.Errorf("run when the window opens = %+v (fetches %d)", rep, f.calls)
	}
}

// Records for a sink in its quiet hours wait in the outbox and go out
// when the window ends; other sinks are not held back. Flush does not
// wait for a quiet sink.
func TestQuietHours(t *testing.T) {
	ctx := context.Background()
	// Monday 7 Dec 2026, 23:00 Berlin (22:00 UTC).
	clk := &clock{t: time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)}
	f := &scriptFetcher{steps: []any{
		fetch.Batch{Items: items("a")},
		fetch.Batch{Items: items("a", "b", "c")},
	}}
	quiet, loud := &memSink{name: "quiet"}, &memSink{name: "loud"}
	r, st := newPipeline(t, f, clk, quiet, loud)
	r.Outbox.o.Quiet = map[string]*window.Window{"quiet": mustWindow(t, "", "22:00-07:00", "Europe/Berlin")}

	r.RunSource(ctx, feedSrc, RunOptions{})
	clk.Add(time.Minute)
	r.RunSource(ctx, feedSrc, RunOptions{Force: true})
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := r.Flush(fctx); err != nil {
		t.Fatalf("flush with a quiet sink: %v", err)
	}
	if len(loud.ids()) != 2 || len(quiet.ids()) != 0 {
		t.Fatalf("during quiet hours: loud got %d, quiet got %d; want 2 and 0", len(loud.ids()), len(quiet.ids()))
	}
	until := r.QuietUntil("quiet")
	if want := time.Date(2026, 12, 8, 6, 0, 0, 0, time.UTC); !until.Equal(want) {
		t.Errorf("QuietUntil = %s, want %s", until, want)
	}
	if depth, _ := st.OutboxDepth(ctx); depth["quiet"] != 2 {
		t.Errorf("outbox of the quiet sink = %d, want 2", depth["quiet"])
	}

	clk.Add(until.Sub(clk.Now()))
	if _, err := r.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if len(quiet.ids()) != 2 || !r.QuietUntil("quiet").IsZero() {
		t.Errorf("after quiet hours the quiet sink got %d records, want 2", len(quiet.ids()))
	}
}
