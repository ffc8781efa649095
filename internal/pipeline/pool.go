package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
)

// pool runs work on at most a fixed number of goroutines at once. A
// panic in the work is recovered and returned as an error, so one bad
// source cannot stop the others.
//
// Work may name the host it fetches from. A free worker takes the
// longest-waiting work whose host has fewer than perHost runs going, so
// that workers do not all queue behind one host's politeness limit while
// other hosts' sources wait: a config that lists its sources grouped by
// host runs as fast as one that interleaves them.
type pool struct {
	mu      sync.Mutex
	free    int
	perHost int // 0: no limit per host
	running map[string]int
	waiting []*waiter // in arrival order
}

// waiter is work waiting for a worker; ready is closed when it has one.
type waiter struct {
	host  string
	ready chan struct{}
}

// newPool returns a pool of workers goroutines (default 4) that runs at
// most perHost works of one host at once (0: no limit).
func newPool(workers, perHost int) *pool {
	if workers <= 0 {
		workers = 4
	}
	return &pool{free: workers, perHost: max(perHost, 0), running: map[string]int{}}
}

// do waits for a free worker and runs fn on the calling goroutine. It
// returns ctx's error without running fn when ctx is done first.
// A panic is logged to log as what crashed.
func (p *pool) do(ctx context.Context, log *slog.Logger, what string, fn func()) error {
	return p.doFor(ctx, log, what, "", fn)
}

// doFor is do for work that fetches from host ("": none in particular).
func (p *pool) doFor(ctx context.Context, log *slog.Logger, what, host string, fn func()) (err error) {
	if err := p.acquire(ctx, host); err != nil {
		return err
	}
	defer p.release(host)
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("crashed: %v", v)
			log.Error(what+" crashed", "err", err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	fn()
	return nil
}

// admits tells whether work for host may start now; p.mu is held.
func (p *pool) admits(host string) bool {
	return p.free > 0 && (host == "" || p.perHost == 0 || p.running[host] < p.perHost)
}

func (p *pool) acquire(ctx context.Context, host string) error {
	p.mu.Lock()
	if len(p.waiting) == 0 && p.admits(host) {
		p.start(host)
		p.mu.Unlock()
		return nil
	}
	w := &waiter{host: host, ready: make(chan struct{})}
	p.waiting = append(p.waiting, w)
	p.dispatch()
	p.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		select {
		case <-w.ready: // given a worker meanwhile: hand it on
			p.stop(host)
			p.dispatch()
		default:
			for i, o := range p.waiting {
				if o == w {
					p.waiting = append(p.waiting[:i], p.waiting[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

func (p *pool) release(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop(host)
	p.dispatch()
}

// start and stop count a work in or out; p.mu is held.
func (p *pool) start(host string) {
	p.free--
	if host != "" {
		p.running[host]++
	}
}

func (p *pool) stop(host string) {
	p.free++
	if host != "" {
		if p.running[host]--; p.running[host] <= 0 {
			delete(p.running, host)
		}
	}
}

// dispatch hands free workers to the longest-waiting works whose hosts
// admit them; p.mu is held.
func (p *pool) dispatch() {
	for i := 0; i < len(p.waiting) && p.free > 0; {
		w := p.waiting[i]
		if !p.admits(w.host) {
			i++
			continue
		}
		p.start(w.host)
		close(w.ready)
		p.waiting = append(p.waiting[:i], p.waiting[i+1:]...)
	}
}

// hostOf is the host a source fetches from, lower-cased ("" when its URL
// has none).
func hostOf(src Source) string {
	u, err := url.Parse(src.URL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
