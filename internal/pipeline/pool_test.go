package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestPoolTakesAFreeHost: with every worker free but one host at its
// limit, the next work of another host starts before older works of the
// busy host; when the host frees, its longest-waiting work goes next.
// Work waits the same way whether its caller blocks (doFor) or hands
// it over (submit).
func TestPoolTakesAFreeHost(t *testing.T) {
	for _, mode := range []string{"doFor", "submit"} {
		t.Run(mode, func(t *testing.T) { testPoolTakesAFreeHost(t, mode) })
	}
}

func testPoolTakesAFreeHost(t *testing.T, mode string) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := newPool(2, 1)
	ctx := context.Background()
	started := make(chan string, 10)
	finish := map[string]chan struct{}{}
	waiting := func() int { p.mu.Lock(); defer p.mu.Unlock(); return p.queued }
	submit := func(name, host string) {
		finish[name] = make(chan struct{})
		done := finish[name]
		work := func() { started <- name; <-done }
		if mode == "submit" {
			p.submit(ctx, log, name, host, func(func()) { work() }, func(error) {})
			return
		}
		go p.doFor(ctx, log, name, host, work)
	}
	next := func() string {
		select {
		case s := <-started:
			return s
		case <-time.After(30 * time.Second):
			t.Fatal("no work started")
			return ""
		}
	}
	submit("a1", "a")
	if got := next(); got != "a1" {
		t.Fatalf("started %s first", got)
	}
	for i, name := range []string{"a2", "a3"} {
		submit(name, "a")
		for waiting() != i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	submit("b1", "b")
	if got := next(); got != "b1" {
		t.Fatalf("started %s while host b was free, want b1", got)
	}
	submit("b2", "b") // both workers busy: it waits behind a2 and a3
	for waiting() != 3 {
		time.Sleep(time.Millisecond)
	}
	close(finish["b1"])
	if got := next(); got != "b2" {
		t.Fatalf("after b1, started %s, want b2 (a is still busy)", got)
	}
	close(finish["a1"])
	var order []string
	order = append(order, next())
	close(finish["a2"])
	order = append(order, next())
	if !slices.Equal(order, []string{"a2", "a3"}) {
		t.Errorf("host a's works started in order %v", order)
	}
	close(finish["a3"])
	close(finish["b2"])
}

// TestPoolWaitEndsWithContext: a work waiting for a worker gives up when
// its context ends, without running, and leaves the queue.
func TestPoolWaitEndsWithContext(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := newPool(1, 0)
	hold := make(chan struct{})
	running := make(chan struct{})
	go p.do(context.Background(), log, "holder", func() { close(running); <-hold })
	<-running
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	ran := false
	go func() { errc <- p.doFor(ctx, log, "waiter", "h", func() { ran = true }) }()
	for {
		p.mu.Lock()
		n := p.queued
		p.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled wait returned %v, ran %v", err, ran)
	}
	p.mu.Lock()
	if p.queued != 0 {
		t.Errorf("%d works still waiting", p.queued)
	}
	p.mu.Unlock()
	close(hold)
}

// TestPoolSubmittedWorkHasNoGoroutine: thousands of submitted works wait
// without a goroutine each, run in the order they came within a host,
// and, once the context ends, the ones not started return its error
// without running.
func TestPoolSubmittedWorkHasNoGoroutine(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := newPool(2, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hold := make(chan struct{})
	var (
		mu   sync.Mutex
		ran  []int
		errs = map[int]error{}
		wg   sync.WaitGroup
	)
	before := runtime.NumGoroutine()
	const n = 5000
	wg.Add(n)
	for i := range n {
		host := []string{"a", "b", "c"}[i%3]
		p.submit(ctx, log, "work", host, func(func()) {
			<-hold
			mu.Lock()
			ran = append(ran, i)
			enough := len(ran) == 100
			mu.Unlock()
			if enough {
				cancel()
			}
		}, func(err error) {
			mu.Lock()
			errs[i] = err
			mu.Unlock()
			wg.Done()
		})
	}
	if g := runtime.NumGoroutine() - before; g > 10 {
		t.Errorf("%d goroutines for %d submitted works on 2 workers", g, n)
	}
	close(hold)
	wg.Wait()
	if len(ran) < 100 || len(ran) > 102 { // the two running when the context ended may finish
		t.Errorf("%d works ran, want 100 (the context ended then)", len(ran))
	}
	last := map[int]int{}
	for _, i := range ran {
		if prev, ok := last[i%3]; ok && prev > i {
			t.Errorf("work %d ran after work %d of the same host", i, prev)
		}
		last[i%3] = i
	}
	cancelled := 0
	for _, err := range errs {
		if errors.Is(err, context.Canceled) {
			cancelled++
		}
	}
	if cancelled+len(ran) != n {
		t.Errorf("%d ran, %d cancelled, of %d", len(ran), cancelled, n)
	}
	if p.queued != 0 || p.free != 2 {
		t.Errorf("pool left with %d waiting, %d free workers", p.queued, p.free)
	}
}

// TestPoolWorkFreesItsWorker: work that gives its worker back lets the
// next work start while it still waits, and the worker is counted back
// once however often the work frees it.
func TestPoolWorkFreesItsWorker(t *testing.T) {
	tests := []struct {
		name  string
		frees int // calls of free by the first work
	}{
		{name: "freed once", frees: 1},
		{name: "freed twice", frees: 2},
		{name: "not freed", frees: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			p := newPool(1, 0)
			ctx := context.Background()
			release := make(chan struct{})
			secondRan := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(2)
			p.submit(ctx, log, "first", "h", func(free func()) {
				for range tt.frees {
					free()
				}
				if tt.frees > 0 {
					<-secondRan // the only worker is free: the second work runs meanwhile
				}
				<-release
			}, func(error) { wg.Done() })
			p.submit(ctx, log, "second", "h", func(func()) { close(secondRan) }, func(error) { wg.Done() })
			if tt.frees == 0 {
				select {
				case <-secondRan:
					t.Fatal("the second work ran while the first held the only worker")
				default:
				}
			}
			close(release)
			wg.Wait()
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.free != 1 || len(p.running) != 0 {
				t.Errorf("after both: %d free workers, running %v; want 1 and none", p.free, p.running)
			}
		})
	}
}
