package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
)

// fakeClock is a clock whose time moves only when the test moves it;
// After registers a waiter that fires when the time reaches its deadline.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []fakeWaiter
	added   chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t, added: make(chan struct{}, 64)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := fakeWaiter{at: c.t.Add(d), ch: make(chan time.Time, 1)}
	c.waiters = append(c.waiters, w)
	select {
	case c.added <- struct{}{}:
	default:
	}
	return w.ch
}

// waiter waits until some goroutine waits on the clock and returns the
// earliest deadline.
func (c *fakeClock) waiter(t *testing.T) time.Time {
	t.Helper()
	return c.waitersN(t, 1)
}

// waitersN waits until n goroutines wait on the clock and returns the
// earliest deadline.
func (c *fakeClock) waitersN(t *testing.T, n int) time.Time {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		c.mu.Lock()
		if len(c.waiters) >= n {
			at := c.waiters[0].at
			for _, w := range c.waiters {
				if w.at.Before(at) {
					at = w.at
				}
			}
			c.mu.Unlock()
			return at
		}
		c.mu.Unlock()
		select {
		case <-c.added:
		case <-deadline:
			t.Fatalf("fewer than %d goroutines wait on the clock", n)
		}
	}
}

// set moves the time to t and fires the waiters whose deadline passed.
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	c.waiters = kept
}

// failingFetcher fails every fetch and reports the clock's time of each.
type failingFetcher struct {
	now   func() time.Time
	calls chan time.Time
}

func (f failingFetcher) Fetch(context.Context, fetch.Source, fetch.Validators) (fetch.Batch, error) {
	f.calls <- f.now()
	return fetch.Batch{}, &fetch.Error{Kind: fetch.ErrHTTP, Status: 503, Err: errors.New("status 503")}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loggedNextRuns returns the next_run of every "fetch failed" record.
func (s *syncBuffer) loggedNextRuns(t *testing.T) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	dec := json.NewDecoder(bytes.NewReader(s.b.Bytes()))
	for dec.More() {
		var rec struct {
			Msg     string `json:"msg"`
			NextRun string `json:"next_run"`
		}
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if rec.Msg == "fetch failed" {
			next, err := time.Parse(time.RFC3339, rec.NextRun)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, next)
		}
	}
	return out
}

// TestDaemonRunsAtTheLoggedNextRun: a failing source's logged next_run is
// when the daemon runs it again, on a simulated clock; a daemon started
// after that time runs it at once.
func TestDaemonRunsAtTheLoggedNextRun(t *testing.T) {
	start := time.Date(2026, 11, 23, 23, 15, 0, 0, time.UTC)
	clk := newFakeClock(start)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := failingFetcher{now: clk.Now, calls: make(chan time.Time, 16)}
	var logs syncBuffer
	r := New(Options{Store: st, Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Ingest:   IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: f}, Classifier: wordClassifier{}},
		Schedule: SchedulerOptions{After: clk.After}})
	// A schedule far longer than the backoff: the retry comes first.
	src := Source{Source: fetch.Source{ID: "s1", Kind: fetch.KindFeed, URL: "https://example.org/feed"}, Schedule: "@every 30m", Spread: true}

	fetchedAt := func() time.Time {
		t.Helper()
		select {
		case at := <-f.calls:
			return at
		case <-time.After(time.Minute):
			t.Fatal("the source was not fetched")
			return time.Time{}
		}
	}
	daemon := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.Daemon(ctx, []Source{src}, DaemonOptions{Tick: time.Hour, Grace: time.Second}) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}

	stop := daemon()
	if at := fetchedAt(); !at.Equal(start) {
		t.Errorf("a source never run ran at %s, want at once (%s)", at, start)
	}
	for run := 1; run <= 2; run++ {
		wake := clk.waiter(t)
		logged := logs.loggedNextRuns(t)
		if len(logged) != run {
			t.Fatalf("%d failures logged, want %d", len(logged), run)
		}
		next := logged[run-1]
		if !wake.Equal(next) {
			t.Errorf("run %d: logged next_run %s, but the daemon waits until %s", run, next, wake)
		}
		clk.set(next)
		if at := fetchedAt(); !at.Equal(next) {
			t.Errorf("run %d: fetched again at %s, want the logged next_run %s", run, at, next)
		}
	}
	clk.waiter(t) // the third failure is recorded
	stop()
	logged := logs.loggedNextRuns(t)
	last := logged[len(logged)-1]

	// Down past the logged time: the restarted daemon runs it at once.
	restart := last.Add(10 * time.Minute)
	clk.set(restart)
	stop = daemon()
	defer stop()
	if at := fetchedAt(); !at.Equal(restart) {
		t.Errorf("after a restart past next_run %s the source ran at %s, want at once (%s)", last, at, restart)
	}
	if want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}; len(logged) == 3 {
		for i, next := range logged {
			prev := start
			if i > 0 {
				prev = logged[i-1]
			}
			if next.Sub(prev) != want[i] {
				t.Errorf("failure %d: next run after %s, want the backoff %s", i+1, next.Sub(prev), want[i])
			}
		}
	}
}
