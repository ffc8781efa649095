package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// TestPoolTakesAFreeHost: with every worker free but one host at its
// limit, the next work of another host starts before older works of the
// busy host; when the host frees, its longest-waiting work goes next.
func TestPoolTakesAFreeHost(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := newPool(2, 1)
	ctx := context.Background()
	started := make(chan string, 10)
	finish := map[string]chan struct{}{}
	waiting := func() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.waiting) }
	submit := func(name, host string) {
		finish[name] = make(chan struct{})
		done := finish[name]
		go p.doFor(ctx, log, name, host, func() { started <- name; <-done })
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
		n := len(p.waiting)
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
	if len(p.waiting) != 0 {
		t.Errorf("%d works still waiting", len(p.waiting))
	}
	p.mu.Unlock()
	close(hold)
}
