package fetch

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// hostLimiter keeps at most perHost requests in flight per host (a
// request is in flight until its body is closed) and starts requests to
// one host at least interval apart. Waiting honours the request's
// context. One hostLimiter is shared by every transport of a Client.
type hostLimiter struct {
	perHost  int
	interval time.Duration

	// now and sleep are the clock; tests replace them to observe what
	// the limiter decided without measuring wall-clock gaps.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	// full, when set, is called when a request finds every slot of its
	// host taken and starts to wait; tests use it to see the wait.
	full func(host string)

	mu    sync.Mutex
	hosts map[string]*hostSlot
}

type hostSlot struct {
	sem       chan struct{}
	nextStart time.Time // guarded by hostLimiter.mu
}

func newHostLimiter(perHost int, interval time.Duration) *hostLimiter {
	return &hostLimiter{perHost: perHost, interval: interval, hosts: map[string]*hostSlot{},
		now: time.Now, sleep: sleepCtx}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *hostLimiter) slot(host string) *hostSlot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.hosts[host]
	if !ok {
		s = &hostSlot{sem: make(chan struct{}, l.perHost)}
		l.hosts[host] = s
	}
	return s
}

// acquire waits for a free slot and for the host's next start time. The
// returned func releases the slot; it is safe to call more than once.
func (l *hostLimiter) acquire(ctx context.Context, host string) (func(), error) {
	s := l.slot(host)
	select {
	case s.sem <- struct{}{}:
	default:
		if l.full != nil {
			l.full(host)
		}
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	release := func() { once.Do(func() { <-s.sem }) }

	if l.interval > 0 {
		l.mu.Lock()
		now := l.now()
		start := s.nextStart
		if start.Before(now) {
			start = now
		}
		s.nextStart = start.Add(l.interval)
		l.mu.Unlock()
		if wait := start.Sub(now); wait > 0 {
			if err := l.sleep(ctx, wait); err != nil {
				release()
				return nil, err
			}
		}
	}
	return release, nil
}

type timeoutKey struct{}

// withRequestTimeout asks the limiter to bound each request (after its
// turn has come, through reading the body) by d.
func withRequestTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, timeoutKey{}, d)
}

// limitTransport is the RoundTripper that applies a hostLimiter.
type limitTransport struct {
	lim  *hostLimiter
	next http.RoundTripper
}

func (l limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Host)
	release, err := l.lim.acquire(req.Context(), host)
	if err != nil {
		return nil, err
	}
	cancel := context.CancelFunc(func() {})
	if d, ok := req.Context().Value(timeoutKey{}).(time.Duration); ok && d > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), d)
		req = req.WithContext(ctx)
	}
	resp, err := l.next.RoundTrip(req)
	if err != nil {
		cancel()
		release()
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, done: func() { cancel(); release() }}
	return resp, nil
}

// releaseBody frees the host slot and the request's timeout when the body
// is closed.
type releaseBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
