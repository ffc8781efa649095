package pipeline

import (
	"container/heap"
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
//
// Waiting work is kept in a queue per host, so handing a worker on costs
// a look at each host with work waiting, not at every waiting work. Work
// given with submit waits without a goroutine: one is started when the
// work is admitted, so a pass over 10,000 sources keeps a few goroutines,
// not 10,000 parked ones whose stacks every collection would scan.
type pool struct {
	mu      sync.Mutex
	free    int
	perHost int // 0: no limit per host
	running map[string]int
	waiting map[string]*hostQueue // by host
	ready   readyHosts            // queues whose hosts admit work, oldest head first
	seq     uint64                // arrival order of waiting work
	queued  int                   // waiting works, in all queues
}

// hostQueue is the waiting work of one host, oldest first.
type hostQueue struct {
	host  string
	ws    []*waiter
	head  int
	key   uint64 // seq of its first work when it was put in ready
	index int    // in ready; -1 when not there
}

// waiter is work waiting for a worker: a blocked caller of acquire
// (ready is closed when it has one) or submitted work (run is started on
// a goroutine of its own).
type waiter struct {
	host  string
	seq   uint64
	ready chan struct{}
	run   func()
	gone  bool // its caller stopped waiting
}

// newPool returns a pool of workers goroutines (default 4) that runs at
// most perHost works of one host at once (0: no limit).
func newPool(workers, perHost int) *pool {
	if workers <= 0 {
		workers = 4
	}
	return &pool{free: workers, perHost: max(perHost, 0), running: map[string]int{}, waiting: map[string]*hostQueue{}}
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
	return guard(ctx, log, what, fn)
}

// submit queues fn for a worker and returns at once; done gets what
// doFor would have returned, on the goroutine that ran fn (ctx's error
// without running fn when ctx is done first). fn may call free to give
// its worker back before it returns (it then only waits, and the next
// work may start); a second call does nothing. A panic is logged with
// attrs added to log's, which are only put together then: a pass over
// 10,000 sources built a logger for each before.
func (p *pool) submit(ctx context.Context, log *slog.Logger, what, host string, fn func(free func()), done func(error), attrs ...any) {
	run := func() {
		var once sync.Once
		free := func() { once.Do(func() { p.release(host) }) }
		err := guard(ctx, log, what, func() { fn(free) }, attrs...)
		free()
		done(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued == 0 && p.admits(host) {
		p.start(host)
		go run()
		return
	}
	p.enqueue(&waiter{host: host, run: run})
	p.dispatch()
}

// guard runs fn unless ctx is done, turning a panic into an error
// logged to log (with attrs) as what crashed.
func guard(ctx context.Context, log *slog.Logger, what string, fn func(), attrs ...any) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("crashed: %v", v)
			log.With(attrs...).Error(what+" crashed", "err", err)
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
	return p.free > 0 && p.hostAdmits(host)
}

// hostAdmits tells whether host has room for one more work; p.mu is held.
func (p *pool) hostAdmits(host string) bool {
	return host == "" || p.perHost == 0 || p.running[host] < p.perHost
}

func (p *pool) acquire(ctx context.Context, host string) error {
	p.mu.Lock()
	if p.queued == 0 && p.admits(host) {
		p.start(host)
		p.mu.Unlock()
		return nil
	}
	w := &waiter{host: host, ready: make(chan struct{})}
	p.enqueue(w)
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
			w.gone = true // dropped when it reaches the head of its queue
			p.queued--
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
	if q := p.waiting[host]; q != nil {
		p.offer(q)
	}
}

// enqueue adds w at the end of its host's queue; p.mu is held.
func (p *pool) enqueue(w *waiter) {
	p.seq++
	w.seq = p.seq
	q := p.waiting[w.host]
	if q == nil {
		q = &hostQueue{host: w.host, index: -1}
		p.waiting[w.host] = q
	}
	q.ws = append(q.ws, w)
	p.queued++
	p.offer(q)
}

// offer puts q among the ready queues when it has work waiting and its
// host has room, unless it is there already; p.mu is held.
func (p *pool) offer(q *hostQueue) {
	if q.index >= 0 || !p.hostAdmits(q.host) {
		return
	}
	w := q.first()
	if w == nil {
		delete(p.waiting, q.host)
		return
	}
	q.key = w.seq
	heap.Push(&p.ready, q)
}

// first returns the oldest work of q still waiting, dropping the ones
// whose callers left; nil when none is left.
func (q *hostQueue) first() *waiter {
	for q.head < len(q.ws) && q.ws[q.head].gone {
		q.ws[q.head] = nil
		q.head++
	}
	if q.head == len(q.ws) {
		q.ws, q.head = q.ws[:0], 0
		return nil
	}
	return q.ws[q.head]
}

// pop removes q's first work.
func (q *hostQueue) pop() {
	q.ws[q.head] = nil
	q.head++
	if q.head > 32 && q.head*2 >= len(q.ws) { // keep the slice from growing without bound
		q.ws = append(q.ws[:0], q.ws[q.head:]...)
		q.head = 0
	}
}

// dispatch hands free workers to the longest-waiting works whose hosts
// admit them; p.mu is held. A ready queue whose host filled up, or whose
// first works left, is put right when it comes to the top.
func (p *pool) dispatch() {
	for p.free > 0 && p.ready.Len() > 0 {
		q := p.ready[0]
		w := q.first()
		switch {
		case w == nil || !p.hostAdmits(q.host):
			heap.Pop(&p.ready)
			if w == nil {
				delete(p.waiting, q.host)
			}
			continue
		case w.seq != q.key: // its first works left: it waits longer now
			q.key = w.seq
			heap.Fix(&p.ready, 0)
			continue
		}
		heap.Pop(&p.ready)
		q.pop()
		p.queued--
		p.start(q.host)
		p.offer(q)
		if w.run != nil {
			go w.run()
		} else {
			close(w.ready)
		}
	}
}

// readyHosts is a heap of host queues by the arrival of their first
// work (container/heap).
type readyHosts []*hostQueue

func (h readyHosts) Len() int           { return len(h) }
func (h readyHosts) Less(i, j int) bool { return h[i].key < h[j].key }
func (h readyHosts) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *readyHosts) Push(x any) {
	q := x.(*hostQueue)
	q.index = len(*h)
	*h = append(*h, q)
}
func (h *readyHosts) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	q.index = -1
	*h = old[:len(old)-1]
	return q
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
