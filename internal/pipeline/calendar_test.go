package pipeline

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
)

// fetchCall is one fetch: which source, at what time of the clock.
type fetchCall struct {
	id string
	at time.Time
}

// emptyFetcher succeeds with an empty feed and reports each fetch.
type emptyFetcher struct {
	now   func() time.Time
	calls chan fetchCall
}

func (f emptyFetcher) Fetch(_ context.Context, src fetch.Source, _ fetch.Validators) (fetch.Batch, error) {
	f.calls <- fetchCall{src.ID, f.now()}
	return fetch.Batch{}, nil
}

// allWaiting waits until n goroutines wait on the clock and returns
// their deadlines, earliest first.
func (c *fakeClock) allWaiting(t *testing.T, n int) []time.Time {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		c.mu.Lock()
		if len(c.waiters) == n {
			var out []time.Time
			for _, w := range c.waiters {
				out = append(out, w.at)
			}
			c.mu.Unlock()
			slices.SortFunc(out, time.Time.Compare)
			return out
		}
		got := len(c.waiters)
		c.mu.Unlock()
		select {
		case <-c.added:
		case <-time.After(10 * time.Millisecond): // a waiter may also have been removed
		case <-deadline:
			t.Fatalf("%d goroutines wait on the clock, want %d", got, n)
		}
	}
}

// calendarDaemon runs the daemon over srcs on clk until stop is called;
// each source is stored as last fetched at its lastFetch.
type calendarDaemon struct {
	t     *testing.T
	clk   *fakeClock
	st    *store.Store
	calls chan fetchCall
	r     *Pipeline
}

func newCalendarDaemon(t *testing.T, start time.Time) *calendarDaemon {
	clk := newFakeClock(start)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	calls := make(chan fetchCall, 64)
	r := New(Options{Store: st, Now: clk.Now, Logger: slog.New(slog.DiscardHandler),
		Ingest:   IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: emptyFetcher{now: clk.Now, calls: calls}}, Classifier: wordClassifier{}},
		Schedule: SchedulerOptions{After: clk.After}})
	return &calendarDaemon{t: t, clk: clk, st: st, calls: calls, r: r}
}

func (d *calendarDaemon) ranBefore(id string, at time.Time) {
	if err := d.st.RecordNotModified(context.Background(), id, at, time.Time{}); err != nil {
		d.t.Fatal(err)
	}
}

func (d *calendarDaemon) start(srcs []Source) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.r.Daemon(ctx, srcs, DaemonOptions{Tick: time.Hour, Grace: time.Second}) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			d.t.Error(err)
		}
		// The stopped daemon's waits end with it.
		d.clk.mu.Lock()
		d.clk.waiters = nil
		d.clk.mu.Unlock()
	}
}

// fetched waits for the next fetch.
func (d *calendarDaemon) fetched() fetchCall {
	d.t.Helper()
	select {
	case c := <-d.calls:
		return c
	case <-time.After(time.Minute):
		d.t.Fatal("no source was fetched")
		return fetchCall{}
	}
}

// noFetch checks no fetch is reported.
func (d *calendarDaemon) noFetch() {
	d.t.Helper()
	select {
	case c := <-d.calls:
		d.t.Errorf("unexpected fetch of %s at %s", c.id, c.at)
	default:
	}
}

func calendarSource(id, spec string, spread bool) Source {
	return Source{Source: fetch.Source{ID: id, Kind: fetch.KindFeed, URL: "https://example.org/" + id}, Schedule: spec, Spread: spread}
}

// TestCalendarScheduleSpreadBySource: sources sharing an hourly calendar
// schedule with spread on wake at distinct times within the hour after
// their last run, each keeps its phase from one run to the next (exactly
// an hour later), and a source without spread runs on the hour.
func TestCalendarScheduleSpreadBySource(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 20, 0, 0, time.UTC)
	d := newCalendarDaemon(t, now)
	srcs := []Source{calendarSource("plain", "0 * * * *", false)}
	for _, id := range []string{"eff", "hrw", "unodc", "article19"} {
		srcs = append(srcs, calendarSource(id, "0 * * * *", true))
	}
	for _, s := range srcs {
		d.ranBefore(s.ID, now) // every source just ran: none is due
	}
	stop := d.start(srcs)
	defer stop()

	wakes := d.clk.allWaiting(t, len(srcs))
	d.noFetch()
	if len(slices.Compact(slices.Clone(wakes))) != len(srcs) {
		t.Errorf("wake times %v: spread sources share a time", wakes)
	}
	offsets := map[string]time.Duration{}
	for round := range 2 {
		seen := map[string]bool{}
		for range srcs {
			next := d.clk.allWaiting(t, len(srcs))[0]
			if round == 0 && (!next.After(now) || next.After(now.Add(time.Hour))) {
				t.Errorf("a source waits until %s, want within the hour after its last run at %s", next, now)
			}
			d.clk.set(next)
			c := d.fetched()
			if !c.at.Equal(next) {
				t.Errorf("%s fetched at %s, want its slot %s", c.id, c.at, next)
			}
			if seen[c.id] {
				t.Errorf("%s ran twice in one hour", c.id)
			}
			seen[c.id] = true
			offset := next.Sub(next.Truncate(time.Hour))
			if prev, ok := offsets[c.id]; ok && prev != offset {
				t.Errorf("%s ran %s past the hour, then %s: the spread moved", c.id, prev, offset)
			}
			offsets[c.id] = offset
		}
	}
	if offsets["plain"] != 0 {
		t.Errorf("the source without spread ran %s past the hour, want on the hour", offsets["plain"])
	}
	distinct := map[time.Duration]bool{}
	for _, o := range offsets {
		distinct[o] = true
	}
	if len(distinct) != len(srcs) {
		t.Errorf("offsets past the hour %v: want one per source", offsets)
	}
	t.Logf("offsets past the hour: %v", offsets)
}

// TestCalendarScheduleSlotsAndRestart: a weekday schedule in a time zone
// (09:30 in Tokyo, Monday to Friday) through the daemon: a source due at
// start runs at once; after its Friday run it waits for Monday's slot,
// not the weekend; a daemon restarted after a missed slot runs it at once
// and then waits for the next slot, not a day from the late run; one
// restarted before the slot waits for it.
func TestCalendarScheduleSlotsAndRestart(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, tokyo)
	}
	src := calendarSource("weekday", "CRON_TZ=Asia/Tokyo 30 9 * * 1-5", false)
	friday := at(time.November, 27, 9, 30)
	d := newCalendarDaemon(t, friday)
	d.ranBefore(src.ID, at(time.November, 26, 9, 30)) // Thursday's slot
	stop := d.start([]Source{src})

	steps := []struct {
		what string
		wake time.Time // the slot the daemon must wait for next
	}{
		{"after Friday's run: Monday, not the weekend", at(time.November, 30, 9, 30)},
		{"after Monday's run: Tuesday", at(time.December, 1, 9, 30)},
	}
	if c := d.fetched(); !c.at.Equal(friday) {
		t.Errorf("Friday's due slot ran at %s, want at once (%s)", c.at, friday)
	}
	for _, s := range steps[:1] {
		wake := d.clk.allWaiting(t, 1)[0]
		if !wake.Equal(s.wake) {
			t.Errorf("%s: waits until %s, want %s", s.what, wake.In(tokyo), s.wake)
		}
		d.clk.set(wake)
		if c := d.fetched(); !c.at.Equal(s.wake) {
			t.Errorf("%s: ran at %s", s.what, c.at.In(tokyo))
		}
	}
	if wake := d.clk.allWaiting(t, 1)[0]; !wake.Equal(steps[1].wake) {
		t.Errorf("%s: waits until %s, want %s", steps[1].what, wake.In(tokyo), steps[1].wake)
	}
	stop()
	d.noFetch()

	// Down over Tuesday's slot: started at 12:00 it runs at once, then
	// waits for Wednesday 09:30.
	late := at(time.December, 1, 12, 0)
	d.clk.set(late)
	stop = d.start([]Source{src})
	if c := d.fetched(); !c.at.Equal(late) {
		t.Errorf("after a missed slot the restarted daemon ran at %s, want at once (%s)", c.at.In(tokyo), late)
	}
	if wake, want := d.clk.allWaiting(t, 1)[0], at(time.December, 2, 9, 30); !wake.Equal(want) {
		t.Errorf("after the late run: waits until %s, want the next slot %s", wake.In(tokyo), want)
	}
	stop()

	// Restarted early on Wednesday, before its slot: nothing was missed,
	// it waits for 09:30.
	d.clk.set(at(time.December, 2, 8, 0))
	stop = d.start([]Source{src})
	defer stop()
	if wake, want := d.clk.allWaiting(t, 1)[0], at(time.December, 2, 9, 30); !wake.Equal(want) {
		t.Errorf("restarted before the slot: waits until %s, want %s", wake.In(tokyo), want)
	}
	d.noFetch()
}
