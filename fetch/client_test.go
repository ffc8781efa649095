package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// testClient is a client that may reach the local test servers.
func testClient(opts ClientOptions) *Client {
	if opts.AllowPrivate == nil {
		opts.AllowPrivate = loopback
	}
	if opts.HostInterval == 0 {
		opts.HostInterval = -1
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	return NewClient(opts)
}

func wantKind(t *testing.T, err error, kind ErrorKind) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *fetch.Error", err, err)
	}
	if fe.Kind != kind {
		t.Fatalf("error kind %q, want %q: %v", fe.Kind, kind, err)
	}
	return fe
}

// hostCounter counts concurrent requests per Host header.
type hostCounter struct {
	mu       sync.Mutex
	inFlight map[string]int
	max      map[string]int
	starts   []time.Time
}

func (h *hostCounter) handler(delay time.Duration) http.Handler {
	h.inFlight, h.max = map[string]int{}, map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.inFlight[r.Host]++
		h.max[r.Host] = max(h.max[r.Host], h.inFlight[r.Host])
		h.starts = append(h.starts, time.Now())
		h.mu.Unlock()
		time.Sleep(delay)
		fmt.Fprint(w, "ok")
		h.mu.Lock()
		h.inFlight[r.Host]--
		h.mu.Unlock()
	})
}

func TestPerHostLimit(t *testing.T) {
	for _, perHost := range []int{1, 2} {
		t.Run(fmt.Sprint(perHost), func(t *testing.T) {
			var hc hostCounter
			srv := httptest.NewServer(hc.handler(20 * time.Millisecond))
			defer srv.Close()
			// Two names for the same server: two hosts for the limiter.
			port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
			urls := []string{"http://127.0.0.1:" + port + "/", "http://localhost:" + port + "/"}
			c := testClient(ClientOptions{PerHost: perHost})
			var wg sync.WaitGroup
			errs := make(chan error, 24)
			for i := range 24 {
				wg.Go(func() {
					_, err := c.Get(context.Background(), Source{}, urls[i%2], Validators{})
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for host, m := range hc.max {
				if m > perHost {
					t.Errorf("host %s saw %d requests at once, limit %d", host, m, perHost)
				}
			}
			if len(hc.max) != 2 {
				t.Errorf("hosts seen: %v", hc.max)
			}
		})
	}
}

// fakeClock is a clock whose sleeps advance it at once.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	return ctx.Err()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestHostInterval checks the start times the limiter decides, on a fake
// clock: no wall-clock gap is measured, so a busy machine cannot fail it.
func TestHostInterval(t *testing.T) {
	const interval = 80 * time.Millisecond
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		steps []string        // host to acquire, or "+D" to advance the clock by D
		want  []time.Duration // start of each acquire, after t0
	}{
		{"one host spaced", []string{"a", "a", "a", "a"}, []time.Duration{0, interval, 2 * interval, 3 * interval}},
		{"hosts independent", []string{"a", "b", "a", "b"}, []time.Duration{0, 0, interval, interval}},
		{"quiet host starts at once", []string{"a", "+1s", "a", "a"}, []time.Duration{0, time.Second, time.Second + interval}},
		{"partly waited", []string{"a", "+30ms", "a"}, []time.Duration{0, interval}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			l := newHostLimiter(8, interval)
			l.now, l.sleep = clock.now, clock.sleep
			var got []time.Duration
			for _, step := range tc.steps {
				if d, ok := strings.CutPrefix(step, "+"); ok {
					dur, err := time.ParseDuration(d)
					if err != nil {
						t.Fatal(err)
					}
					clock.advance(dur)
					continue
				}
				release, err := l.acquire(context.Background(), step)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, clock.now().Sub(t0))
				release()
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("starts %v, want %v", got, tc.want)
			}
		})
	}
}

// TestHostIntervalThroughClient checks the limiter is in the client's
// path: four concurrent requests to one host cannot all arrive before
// three intervals have passed. Only a lower bound, which load cannot
// break.
func TestHostIntervalThroughClient(t *testing.T) {
	var hc hostCounter
	srv := httptest.NewServer(hc.handler(0))
	defer srv.Close()
	const interval = 50 * time.Millisecond
	c := testClient(ClientOptions{PerHost: 4, HostInterval: interval})
	begin := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), Source{}, srv.URL, Validators{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(hc.starts) != 4 {
		t.Fatalf("%d requests", len(hc.starts))
	}
	if last := hc.starts[3].Sub(begin); last < 3*interval {
		t.Errorf("fourth request arrived %v after the first was sent, want at least %v", last, 3*interval)
	}
}

// TestWaitForHostHonoursContext checks that a request which must wait for
// its host (every slot taken, or the host interval not yet over) really
// waits, never reaches the server while waiting, and gives up with its
// context's cancellation; the slot it waited for stays usable. The wait
// is seen through the limiter's hooks, not measured.
func TestWaitForHostHonoursContext(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration // the host interval; an hour means the second request must sleep
		holdSlot bool          // the first request keeps the only slot until the end
	}{
		{"slot taken", -1, true},
		{"interval not over", time.Hour, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []string
			)
			arrived := make(chan struct{}, 4)
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.URL.Path)
				mu.Unlock()
				arrived <- struct{}{}
				if r.URL.Path == "/hold" {
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}
				fmt.Fprint(w, "ok")
			}))
			defer srv.Close()
			var releaseOnce sync.Once
			unblock := func() { releaseOnce.Do(func() { close(release) }) }
			defer unblock()

			c := testClient(ClientOptions{PerHost: 1, HostInterval: tc.interval})
			waiting := make(chan string, 4)
			c.limiter.full = func(host string) { waiting <- "slot " + host }
			sleep := c.limiter.sleep
			c.limiter.sleep = func(ctx context.Context, d time.Duration) error {
				waiting <- fmt.Sprintf("interval %v", d.Round(time.Minute))
				return sleep(ctx, d)
			}

			first := "/first"
			if tc.holdSlot {
				first = "/hold"
			}
			firstDone := make(chan error, 1)
			go func() {
				_, err := c.Get(context.Background(), Source{}, srv.URL+first, Validators{})
				firstDone <- err
			}()
			waitFor(t, arrived, "the first request at the server")
			if !tc.holdSlot {
				if err := waitFor(t, firstDone, "the first request's answer"); err != nil {
					t.Fatal(err)
				}
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			secondDone := make(chan error, 1)
			go func() {
				_, err := c.Get(ctx, Source{}, srv.URL+"/second", Validators{})
				secondDone <- err
			}()
			why := waitFor(t, waiting, "the second request to wait for the host")
			want := "slot " + strings.TrimPrefix(srv.URL, "http://")
			if !tc.holdSlot {
				want = "interval 1h0m0s"
			}
			if why != want {
				t.Errorf("the second request waited for %q, want %q", why, want)
			}
			select {
			case err := <-secondDone:
				t.Fatalf("the second request returned while it should wait: %v", err)
			default:
			}
			cancel()
			err := waitFor(t, secondDone, "the cancelled request to return")
			fe := wantKind(t, err, ErrNetwork)
			if !errors.Is(fe, context.Canceled) || !strings.Contains(fe.Error(), "cancelled") {
				t.Errorf("error %v, want the context's cancellation", fe)
			}
			mu.Lock()
			got := fmt.Sprint(seen)
			mu.Unlock()
			if got != "["+first+"]" {
				t.Errorf("the server saw %s, want only %s: the waiting request must not be sent", got, first)
			}

			if tc.holdSlot {
				// The cancelled waiter took nothing: once the first
				// request ends, the next one gets the slot at once.
				unblock()
				if err := waitFor(t, firstDone, "the first request's answer"); err != nil {
					t.Fatal(err)
				}
				resp, err := c.Get(context.Background(), Source{}, srv.URL+"/third", Validators{})
				if err != nil {
					t.Fatalf("request after the cancelled waiter: %v", err)
				}
				if string(resp.Body) != "ok" {
					t.Errorf("body %q", resp.Body)
				}
				select {
				case w := <-waiting:
					t.Errorf("the third request waited (%s) for a slot nobody held", w)
				default:
				}
			}
		})
	}
}

// waitFor receives from ch, failing the test after a deadline generous
// enough for a loaded machine.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestStatusErrors(t *testing.T) {
	const cfPage = `<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div id="cf-chl-widget"></div></body></html>`
	const ddosGuard = `<html><head><title>DDoS-Guard</title></head><body>Checking your browser</body></html>`
	const attention = `<html><head><title>Attention Required! | Cloudflare</title></head></html>`
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		kind       ErrorKind
		retryAfter time.Duration
		transient  bool
		words      string
	}{
		{"429 seconds", 429, map[string]string{"Retry-After": "120"}, "slow down", ErrHTTP, 120 * time.Second, true, "wait 2m0s"},
		{"429 date", 429, map[string]string{"Retry-After": time.Now().Add(300 * time.Second).UTC().Format(http.TimeFormat)}, "", ErrHTTP, 290 * time.Second, true, "too many requests"},
		{"503 retry", 503, map[string]string{"Retry-After": "60"}, "down", ErrHTTP, 60 * time.Second, true, "temporary"},
		{"404", 404, nil, "nope", ErrHTTP, 0, false, "check the source URL"},
		{"410", 410, nil, "", ErrHTTP, 0, false, "removed"},
		{"401", 401, nil, "", ErrHTTP, 0, false, "credentials"},
		{"403 plain", 403, nil, "Forbidden", ErrBlocked, 0, true, "forbidden"},
		{"403 cloudflare", 403, map[string]string{"Content-Type": "text/html"}, cfPage, ErrBlocked, 0, true, "Cloudflare"},
		{"503 cloudflare", 503, map[string]string{"Content-Type": "text/html; charset=UTF-8"}, cfPage, ErrBlocked, 0, true, "challenge page"},
		{"429 ddos-guard", 429, map[string]string{"Retry-After": "30", "Content-Type": "text/html"}, ddosGuard, ErrBlocked, 30 * time.Second, true, "DDoS-Guard"},
		{"200 challenge", 200, map[string]string{"Content-Type": "text/html"}, cfPage, ErrBlocked, 0, true, "Cloudflare"},
		{"200 attention", 200, map[string]string{"Content-Type": "text/html"}, attention, ErrBlocked, 0, true, "Cloudflare"},
		{"cf-mitigated header", 403, map[string]string{"cf-mitigated": "challenge"}, "", ErrBlocked, 0, true, "Cloudflare"},
		{"500", 500, nil, "boom", ErrHTTP, 0, true, "500 Internal Server Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			_, err := testClient(ClientOptions{}).Get(context.Background(), Source{}, srv.URL, Validators{})
			fe := wantKind(t, err, tc.kind)
			if fe.Status != tc.status {
				t.Errorf("status %d, want %d", fe.Status, tc.status)
			}
			if fe.RetryAfter < tc.retryAfter || (tc.retryAfter == 0 && fe.RetryAfter != 0) {
				t.Errorf("RetryAfter %v, want %v", fe.RetryAfter, tc.retryAfter)
			}
			if RetryAfterOf(err) != fe.RetryAfter {
				t.Errorf("RetryAfterOf %v", RetryAfterOf(err))
			}
			if fe.Transient() != tc.transient {
				t.Errorf("Transient() = %v", fe.Transient())
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Errorf("error %q does not say %q", err, tc.words)
			}
		})
	}
}

func TestContentIsNotAChallenge(t *testing.T) {
	article := "<!DOCTYPE html><html><head><title>UN cybercrime treaty</title></head><body>" +
		strings.Repeat("<p>The convention was opened for signature in Hanoi.</p>", 2000) +
		`<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script></body></html>`
	tests := []struct{ name, contentType, body string }{
		// A feed that mentions a challenge page in its text is a feed.
		{"feed", "application/rss+xml", `<rss><channel><item><title>Just a moment... with cf-chl- in it</title></item></channel></rss>`},
		// Pages behind Cloudflare load its script without being a challenge.
		{"article with challenge-platform script", "text/html; charset=utf-8", article},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			resp, err := testClient(ClientOptions{}).Get(context.Background(), Source{}, srv.URL, Validators{})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tc.body {
				t.Errorf("body of %d bytes", len(resp.Body))
			}
		})
	}
}

func compress(t *testing.T, coding string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w, _ = gzip.NewWriterLevel(&b, gzip.BestSpeed)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "raw-deflate":
		w, _ = flate.NewWriter(&b, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriterLevel(&b, 1)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestContentEncodingAndCaps(t *testing.T) {
	text := bytes.Repeat([]byte("<item>Übereinkommen gegen Cyberkriminalität</item>\n"), 200) // ~10 KB
	zeros := make([]byte, 12<<20)
	tests := []struct {
		name    string
		coding  string // Content-Encoding sent
		compr   string // how the body is compressed
		body    []byte
		maxBody int64
		kind    ErrorKind // "" for success
	}{
		{"identity", "", "", text, 0, ""},
		{"gzip", "gzip", "gzip", text, 0, ""},
		{"deflate zlib", "deflate", "deflate", text, 0, ""},
		{"deflate raw", "deflate", "raw-deflate", text, 0, ""},
		{"br", "br", "br", text, 0, ""},
		{"body cap", "", "", text, 4096, ErrTooLarge},
		{"body at cap", "", "", text, int64(len(text)), ""},
		{"gzip bomb", "gzip", "gzip", zeros, 1 << 20, ErrTooLarge},
		{"br bomb", "br", "br", zeros, 1 << 20, ErrTooLarge},
		{"default cap bomb", "gzip", "gzip", zeros, 0, ErrTooLarge},
		{"not gzip", "gzip", "", text, 0, ErrParse},
		{"unknown coding", "compress", "", text, 0, ErrParse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := tc.body
			if tc.compr != "" {
				wire = compress(t, tc.compr, tc.body)
			}
			var gotAE string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAE = r.Header.Get("Accept-Encoding")
				if tc.coding != "" {
					w.Header().Set("Content-Encoding", tc.coding)
				}
				w.Write(wire)
			}))
			defer srv.Close()
			resp, err := testClient(ClientOptions{MaxBody: tc.maxBody}).Get(context.Background(), Source{}, srv.URL, Validators{})
			if gotAE != "gzip, deflate, br" {
				t.Errorf("Accept-Encoding %q", gotAE)
			}
			if tc.kind != "" {
				fe := wantKind(t, err, tc.kind)
				if tc.kind == ErrTooLarge && !strings.Contains(fe.Error(), "defaults.max_body, or the source's max_body") {
					t.Errorf("error %q does not name the setting", fe)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, tc.body) {
				t.Errorf("body of %d bytes, want %d", len(resp.Body), len(tc.body))
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/r/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			io.WriteString(w, "final")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := testClient(ClientOptions{MaxRedirects: 3})

	resp, err := c.Get(context.Background(), Source{}, srv.URL+"/r/3", Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.FinalURL != srv.URL+"/r/0" || string(resp.Body) != "final" {
		t.Errorf("final URL %s, body %q", resp.FinalURL, resp.Body)
	}
	for _, path := range []string{"/r/4", "/loop"} {
		_, err = c.Get(context.Background(), Source{}, srv.URL+path, Validators{})
		fe := wantKind(t, err, ErrHTTP)
		if !strings.Contains(fe.Error(), "3 redirects") {
			t.Errorf("%s: error %q", path, fe)
		}
	}
}

func TestTimeouts(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		name       string
		client     time.Duration
		source     time.Duration
		path       string
		wantWithin time.Duration
	}{
		{"client timeout, no answer", 150 * time.Millisecond, 0, "/hang", 2 * time.Second},
		{"source timeout overrides", 10 * time.Second, 150 * time.Millisecond, "/hang", 2 * time.Second},
		{"body stalls", 150 * time.Millisecond, 0, "/stall", 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient(ClientOptions{Timeout: tc.client})
			start := time.Now()
			_, err := c.Get(context.Background(), Source{Timeout: tc.source}, srv.URL+tc.path, Validators{})
			fe := wantKind(t, err, ErrTimeout)
			if d := time.Since(start); d > tc.wantWithin {
				t.Errorf("took %v", d)
			}
			if !fe.Transient() || !strings.Contains(fe.Error(), "no complete answer within") {
				t.Errorf("error %q", fe)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close() // nothing listens there now
	_, err := testClient(ClientOptions{}).Get(context.Background(), Source{}, u, Validators{})
	fe := wantKind(t, err, ErrNetwork)
	if !strings.Contains(fe.Error(), "refused the connection") {
		t.Errorf("error %q", fe)
	}
	_, err = testClient(ClientOptions{}).Get(context.Background(), Source{}, "ftp://example.org/x", Validators{})
	wantKind(t, err, ErrConfig)
	_, err = testClient(ClientOptions{}).Get(context.Background(), Source{Proxy: "gopher://x"}, "http://192.0.2.1/", Validators{})
	wantKind(t, err, ErrConfig)
}

func TestRequestHeadersAndConditionalGet(t *testing.T) {
	const etag, lastMod = `"abc"`, "Mon, 02 Jan 2006 15:04:05 GMT"
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Header().Set("Cache-Control", "public, max-age=600")
		io.WriteString(w, "body")
	}))
	defer srv.Close()
	c := testClient(ClientOptions{UserAgent: "treatywatch/0.1 (+https://example.org/contact)"})
	src := Source{Headers: map[string]string{"Cookie": "session=1", "X-Api-Key": "k"}}

	resp, err := c.Get(context.Background(), src, srv.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("User-Agent") != "treatywatch/0.1 (+https://example.org/contact)" || got.Get("Cookie") != "session=1" || got.Get("X-Api-Key") != "k" {
		t.Errorf("request headers %v", got)
	}
	if resp.Next != (Validators{ETag: etag, LastModified: lastMod}) || resp.RetryAfter != 10*time.Minute || resp.Status != 200 {
		t.Errorf("response %+v", resp)
	}

	resp, err = c.Get(context.Background(), src, srv.URL, resp.Next)
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("If-None-Match") != etag || got.Get("If-Modified-Since") != lastMod {
		t.Errorf("conditional headers %v", got)
	}
	if !resp.NotModified || len(resp.Body) != 0 || resp.Next.ETag != etag {
		t.Errorf("304 response %+v", resp)
	}
}

func TestProxy(t *testing.T) {
	var proxied string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied = r.URL.String() // a proxy sees the absolute URL
		io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	// The proxy itself is on loopback: dialling the operator's proxy is
	// allowed without allow-listing.
	c := NewClient(ClientOptions{HostInterval: -1})
	src := Source{Proxy: proxy.URL}
	resp, err := c.Get(context.Background(), src, "http://192.0.2.1/feed.xml", Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "via proxy" || proxied != "http://192.0.2.1/feed.xml" {
		t.Errorf("body %q, proxy saw %q", resp.Body, proxied)
	}
	// Private targets stay refused through a proxy.
	_, err = c.Get(context.Background(), src, "http://10.255.255.1/", Validators{})
	wantKind(t, err, ErrRefused)
}

func TestCacheLifetime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"nothing", nil, 0},
		{"max-age", map[string]string{"Cache-Control": "public, max-age=3600"}, time.Hour},
		{"max-age less age", map[string]string{"Cache-Control": "max-age=3600", "Age": "600"}, 50 * time.Minute},
		{"no-cache", map[string]string{"Cache-Control": "no-cache, max-age=3600"}, 0},
		{"expires", map[string]string{"Expires": now.Add(2 * time.Hour).Format(http.TimeFormat), "Date": now.Format(http.TimeFormat)}, 2 * time.Hour},
		{"expires past", map[string]string{"Expires": now.Add(-time.Hour).Format(http.TimeFormat), "Date": now.Format(http.TimeFormat)}, 0},
		{"expires zero", map[string]string{"Expires": "0"}, 0},
		{"max-age wins", map[string]string{"Cache-Control": "max-age=60", "Expires": now.Add(2 * time.Hour).Format(http.TimeFormat)}, time.Minute},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := cacheLifetime(h, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	for v, want := range map[string]time.Duration{
		"120": 120 * time.Second, "-5": 0, "soon": 0, "": 0, "99999999999999999999": 0,
		"99999999": 7 * 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat):  90 * time.Second,
		now.Add(-90 * time.Second).Format(http.TimeFormat): 0,
	} {
		if got, _ := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestSSRF checks that internal addresses are refused at dial time, for
// sources and for redirects, and allowed once listed. DialControl records
// every dial that passed the check and stops those to 10/8 and 169.254/16
// before the connection is made, so no packet goes there.
func TestSSRF(t *testing.T) {
	var hits int
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	redirect := func(target string) string { return srv.URL + "/to?u=" + url.QueryEscape(target) }

	errStopped := errors.New("test: dial stopped before connect")
	type dial struct{ dialled []string }
	newClient := func(d *dial, allow ...string) *Client {
		var prefixes []netip.Prefix
		for _, a := range allow {
			prefixes = append(prefixes, netip.MustParsePrefix(a))
		}
		return NewClient(ClientOptions{
			AllowPrivate: prefixes,
			Timeout:      2 * time.Second,
			HostInterval: -1,
			DialControl: func(network, address string) error {
				mu.Lock()
				d.dialled = append(d.dialled, address)
				mu.Unlock()
				if strings.HasPrefix(address, "10.") || strings.HasPrefix(address, "169.254.") {
					return errStopped
				}
				return nil
			},
		})
	}

	t.Run("refused by default", func(t *testing.T) {
		var d dial
		c := newClient(&d)
		for _, u := range []string{
			srv.URL + "/ok",
			"http://localhost:" + port + "/ok", // a name that resolves to loopback
			"http://10.255.255.1/",
			"http://169.254.169.254/latest/meta-data/",
			"http://[::1]:" + port + "/ok",
			"http://100.64.0.1/",
		} {
			_, err := c.Get(context.Background(), Source{}, u, Validators{})
			fe := wantKind(t, err, ErrRefused)
			if !strings.Contains(fe.Error(), "http.allow_private") {
				t.Errorf("%s: error %q does not name the setting", u, fe)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(d.dialled) != 0 || hits != 0 {
			t.Errorf("dials that passed the check: %v; hits %d", d.dialled, hits)
		}
	})

	t.Run("redirect refused", func(t *testing.T) {
		var d dial
		c := newClient(&d, "127.0.0.1/32")
		for _, target := range []string{
			"http://10.255.255.1/",
			"http://169.254.169.254/latest/meta-data/",
			"http://127.0.0.2:" + port + "/ok",
		} {
			_, err := c.Get(context.Background(), Source{}, redirect(target), Validators{})
			wantKind(t, err, ErrRefused)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range d.dialled {
			if !strings.HasPrefix(a, "127.0.0.1:") {
				t.Errorf("dialled %s", a)
			}
		}
	})

	t.Run("allowed once listed", func(t *testing.T) {
		var d dial
		c := newClient(&d, "127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16")
		resp, err := c.Get(context.Background(), Source{}, srv.URL+"/ok", Validators{})
		if err != nil || string(resp.Body) != "ok" {
			t.Fatalf("loopback allowed: %v", err)
		}
		if _, err := c.Get(context.Background(), Source{}, redirect("http://localhost:"+port+"/ok"), Validators{}); err != nil {
			t.Fatalf("redirect to allowed loopback: %v", err)
		}
		for _, u := range []string{"http://10.255.255.1/", "http://169.254.169.254/latest/meta-data/", redirect("http://10.255.255.1/")} {
			_, err := c.Get(context.Background(), Source{}, u, Validators{})
			fe := wantKind(t, err, ErrNetwork)
			if !errors.Is(fe, errStopped) {
				t.Errorf("%s: %v, want the test hook's error", u, fe)
			}
		}
		want := map[string]bool{"10.255.255.1:80": false, "169.254.169.254:80": false}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range d.dialled {
			if _, ok := want[a]; ok {
				want[a] = true
			}
		}
		for a, seen := range want {
			if !seen {
				t.Errorf("no dial to %s passed the check", a)
			}
		}
	})
}
