package fetch

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/treatywatch/treatywatch/internal/redact"
)

// Defaults of ClientOptions.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBody      = 10 << 20
	DefaultPerHost      = 1
	DefaultHostInterval = time.Second
	DefaultMaxRedirects = 5
)

// errorBodyCap bounds how much of an error response is read to look for a
// bot-wall challenge page.
const errorBodyCap = 256 << 10

// ClientOptions configure a Client. Zero values mean the defaults.
type ClientOptions struct {
	// UserAgent names the project and a contact URL, e.g.
	// "treatywatch/0.1 (+https://example.org/contact)".
	UserAgent string
	// Timeout bounds one request, from the moment its turn comes (after
	// the per-host wait) until the body is read. Source.Timeout overrides.
	Timeout time.Duration
	// MaxBody caps the body in bytes, both as sent and once decompressed.
	MaxBody int64
	// PerHost is the number of requests in flight per host.
	PerHost int
	// HostInterval is the least time between two request starts to one
	// host. Zero means the default (1 s); a negative value means none.
	HostInterval time.Duration
	// MaxRedirects is how many redirects one Get follows.
	MaxRedirects int
	// AllowPrivate lists address ranges that may be reached although they
	// are private, loopback, link-local or otherwise internal.
	AllowPrivate []netip.Prefix
	Logger       *slog.Logger
	// DialControl, when set, runs on every direct connection after the
	// address check and before the connection is made; an error aborts
	// the dial. It is a hook for tests: nothing leaves the machine when it
	// returns an error.
	DialControl func(network, address string) error
	// DNS is a DNS server ("10.0.0.2:53") to resolve host names with
	// instead of the system's resolver; empty: the system's.
	DNS string
}

// Client is the shared HTTP client of all fetchers. It implements Getter
// and is safe for concurrent use.
type Client struct {
	opts    ClientOptions
	log     *slog.Logger
	guard   *guard
	limiter *hostLimiter
	direct  *http.Client

	mu      sync.Mutex
	proxied map[string]*http.Client // by proxy URL
}

var _ Getter = (*Client)(nil)

// NewClient returns a Client with one transport for direct connections.
// Transports for proxies are made on first use and kept.
func NewClient(opts ClientOptions) *Client {
	if opts.UserAgent == "" {
		opts.UserAgent = "treatywatch/0.1"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.PerHost <= 0 {
		opts.PerHost = DefaultPerHost
	}
	if opts.HostInterval == 0 {
		opts.HostInterval = DefaultHostInterval
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		opts:    opts,
		log:     opts.Logger,
		guard:   &guard{allow: opts.AllowPrivate, hook: opts.DialControl, resolver: resolverFor(opts.DNS)},
		limiter: newHostLimiter(opts.PerHost, opts.HostInterval),
		proxied: map[string]*http.Client{},
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, Control: c.guard.control, Resolver: c.guard.resolver}
	c.direct = c.newHTTPClient(newTransport(dialer, nil), false)
	return c
}

// resolverFor returns a resolver that asks the DNS server at addr, or nil
// (the system's) when addr is empty.
func resolverFor(addr string) *net.Resolver {
	if addr == "" {
		return nil
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

func newTransport(dialer *net.Dialer, proxy *url.URL) *http.Transport {
	t := &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if proxy != nil {
		t.Proxy = http.ProxyURL(proxy)
	}
	return t
}

func (c *Client) newHTTPClient(t http.RoundTripper, viaProxy bool) *http.Client {
	return &http.Client{
		Transport: userAgent{ua: c.opts.UserAgent, next: limitTransport{lim: c.limiter, next: t}},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > c.opts.MaxRedirects {
				return &redirectError{n: c.opts.MaxRedirects}
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirected to %q, which is not an http or https URL", req.URL.Redacted())
			}
			if viaProxy {
				return c.guard.checkHost(req.Context(), req.URL.Hostname())
			}
			return nil
		},
	}
}

// httpClient returns the client for a source's proxy setting.
func (c *Client) httpClient(proxy string) (*http.Client, error) {
	if proxy == "" {
		return c.direct, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc, ok := c.proxied[proxy]; ok {
		return hc, nil
	}
	u, err := url.Parse(proxy)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad proxy URL %q: want http://, https:// or socks5://host:port", proxy)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("bad proxy URL %q: scheme %q is not http, https or socks5", proxy, u.Scheme)
	}
	// The proxy is chosen by the operator, so dialling it is not checked;
	// the targets are (see guard.checkHost).
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	hc := c.newHTTPClient(newTransport(dialer, u), true)
	c.proxied[proxy] = hc
	return hc, nil
}

// userAgent sets the User-Agent header unless the request has one.
type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", u.ua)
	}
	return u.next.RoundTrip(req)
}

type redirectError struct{ n int }

func (e *redirectError) Error() string {
	return fmt.Sprintf("stopped after %d redirects (http.max_redirects); the URL may loop, use the final URL instead", e.n)
}

const acceptHeader = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, " +
	"application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"

// Get fetches url for src: the source's headers (Cookie included), proxy
// and timeout, the validators of prev, the per-host limit, the body cap
// and decompression. Errors are *Error.
func (c *Client) Get(ctx context.Context, src Source, rawURL string, prev Validators) (*Response, error) {
	start := time.Now()
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Kind: ErrConfig, URL: rawURL, Err: errors.New("not an absolute http or https URL")}
	}
	hc, err := c.httpClient(src.Proxy)
	if err != nil {
		return nil, &Error{Kind: ErrConfig, URL: rawURL, Err: err}
	}
	if src.Proxy != "" {
		if err := c.guard.checkHost(ctx, u.Hostname()); err != nil {
			return nil, &Error{Kind: ErrRefused, URL: rawURL, Err: err}
		}
	}
	timeout := c.opts.Timeout
	if src.Timeout > 0 {
		timeout = src.Timeout
	}
	req, err := http.NewRequestWithContext(withRequestTimeout(ctx, timeout), http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &Error{Kind: ErrConfig, URL: rawURL, Err: err}
	}
	req.Header.Set("Accept", acceptHeader)
	for k, v := range src.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	// Set last: we decode the body ourselves, with our own caps.
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}

	resp, err := hc.Do(req)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, c.transportError(ctx, rawURL, status, timeout, err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL.String()
	out := &Response{
		Status:    resp.StatusCode,
		FinalURL:  final,
		Header:    resp.Header,
		Next:      Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
		FetchedAt: time.Now(),
	}
	out.RetryAfter = cacheLifetime(resp.Header, out.FetchedAt)
	defer func() {
		c.log.Debug("fetch: get", "source", src.ID, "url", redact.URL(rawURL), "status", resp.StatusCode,
			"bytes", len(out.Body), "duration", time.Since(start))
	}()

	switch {
	case resp.StatusCode == http.StatusNotModified:
		out.NotModified = true
		if out.Next == (Validators{}) {
			out.Next = prev
		}
		return out, nil
	case resp.StatusCode >= 400:
		body, _ := c.readBody(resp, errorBodyCap)
		return nil, statusError(resp, final, body, out.FetchedAt)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return nil, &Error{Kind: ErrHTTP, URL: final, Status: resp.StatusCode,
			Err: fmt.Errorf("unexpected status %s", resp.Status)}
	}
	limit := c.opts.MaxBody
	if src.MaxBody > 0 {
		limit = src.MaxBody
	}
	if resp.ContentLength > limit && resp.Header.Get("Content-Encoding") == "" {
		return nil, tooLarge(final, limit)
	}
	body, err := c.readBody(resp, limit)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fe.URL = final
			return nil, fe
		}
		return nil, c.transportError(ctx, final, resp.StatusCode, timeout, err)
	}
	if vendor := challenge(resp.Header, resp.StatusCode, body); vendor != "" {
		return nil, blockedError(final, resp.StatusCode, vendor, 0)
	}
	out.Body = body
	return out, nil
}

func tooLarge(url string, limit int64) *Error {
	return &Error{Kind: ErrTooLarge, URL: url,
		Err: fmt.Errorf("the response is larger than the %s cap (defaults.max_body, or the source's max_body)", byteSize(limit))}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// readBody reads and decompresses the body, at most limit bytes on the
// wire and at most limit bytes once decompressed (the guard against
// decompression bombs).
func (c *Client) readBody(resp *http.Response, limit int64) ([]byte, error) {
	wire := &countingReader{r: io.LimitReader(resp.Body, limit+1)}
	r, err := decompress(wire, resp.Header.Get("Content-Encoding"))
	if err != nil {
		return nil, &Error{Kind: ErrParse, Status: resp.StatusCode, Err: err}
	}
	size := int64(-1)
	if resp.Header.Get("Content-Encoding") == "" && resp.ContentLength <= limit {
		size = resp.ContentLength
	}
	body, err := readAll(io.LimitReader(r, limit+1), size)
	if int64(len(body)) > limit || wire.n > limit {
		return nil, tooLarge("", limit)
	}
	if err != nil {
		if resp.Header.Get("Content-Encoding") != "" && isDecodeError(err) {
			return nil, &Error{Kind: ErrParse, Status: resp.StatusCode,
				Err: fmt.Errorf("the body is not valid %s data: %w", resp.Header.Get("Content-Encoding"), err)}
		}
		return nil, err
	}
	return body, nil
}

// readAll reads r to its end into a buffer of size bytes (the announced
// Content-Length) when size is known (not negative), so that a body is
// read without growing and copying its buffer again and again; more or
// fewer bytes than announced are read all the same.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1) // +1: the end is seen without growing
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func isDecodeError(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, zlib.ErrHeader) || errors.Is(err, zlib.ErrChecksum) ||
		errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.HasPrefix(err.Error(), "brotli:")
}

// decompress undoes the Content-Encoding list, last applied first.
func decompress(r io.Reader, contentEncoding string) (io.Reader, error) {
	if contentEncoding == "" {
		return r, nil
	}
	codings := strings.Split(contentEncoding, ",")
	for i := len(codings) - 1; i >= 0; i-- {
		switch coding := strings.ToLower(strings.TrimSpace(codings[i])); coding {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("the body is not valid gzip data: %w", err)
			}
			r = zr
		case "deflate":
			// "deflate" should be zlib-wrapped, but some servers send raw
			// deflate: look at the header to tell.
			br := bufio.NewReader(r)
			h, _ := br.Peek(2)
			if len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
				zr, err := zlib.NewReader(br)
				if err != nil {
					return nil, fmt.Errorf("the body is not valid deflate data: %w", err)
				}
				r = zr
			} else {
				r = flate.NewReader(br)
			}
		case "br":
			r = brotli.NewReader(r)
		default:
			return nil, fmt.Errorf("the server used the unsupported Content-Encoding %q", coding)
		}
	}
	return r, nil
}

// transportError turns an error of http.Client.Do or of reading the body
// into an *Error with words a user can act on.
func (c *Client) transportError(ctx context.Context, rawURL string, status int, timeout time.Duration, err error) *Error {
	var (
		refused  *RefusedError
		redirect *redirectError
		dnsErr   *net.DNSError
		tlsErr   *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &refused):
		return &Error{Kind: ErrRefused, URL: rawURL, Err: refused}
	case errors.As(err, &redirect):
		return &Error{Kind: ErrHTTP, URL: rawURL, Status: status, Err: redirect}
	case errors.Is(ctx.Err(), context.Canceled):
		return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("cancelled before the server answered: %w", ctx.Err())}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &Error{Kind: ErrTimeout, URL: rawURL,
			Err: fmt.Errorf("no complete answer within %s (http.timeout, or the source's timeout): %w", timeout, context.DeadlineExceeded)}
	case errors.As(err, &dnsErr):
		return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("cannot resolve the host name %q; check the URL: %w", dnsErr.Name, err)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("the server refused the connection; it may be down: %w", err)}
	case errors.Is(err, syscall.ECONNRESET):
		return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("the connection was reset: %w", err)}
	case errors.As(err, &tlsErr):
		return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("the server's TLS certificate is not valid: %w", err)}
	case errors.As(err, &recErr):
		return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("the server does not speak TLS; try http:// instead: %w", err)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &Error{Kind: ErrNetwork, URL: rawURL, Err: fmt.Errorf("network error: %w", err)}
}

// statusError describes an error status.
func statusError(resp *http.Response, final string, body []byte, now time.Time) *Error {
	retry, _ := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	if vendor := challenge(resp.Header, resp.StatusCode, body); vendor != "" {
		return blockedError(final, resp.StatusCode, vendor, retry)
	}
	code := resp.StatusCode
	e := &Error{Kind: ErrHTTP, URL: final, Status: code, RetryAfter: retry}
	switch {
	case code == http.StatusForbidden:
		e.Kind = ErrBlocked
		e.Err = errors.New("access forbidden: the server refuses this client, perhaps as a bot; " +
			"set headers or cookies for this source, or a proxy")
	case code == http.StatusUnauthorized:
		e.Err = errors.New("the server wants credentials: set an Authorization header or a Cookie for this source")
	case code == http.StatusNotFound:
		e.Err = errors.New("not found: the feed moved or the URL is wrong; check the source URL")
	case code == http.StatusGone:
		e.Err = errors.New("gone: the server says this URL was removed for good")
	case code == http.StatusTooManyRequests:
		if retry > 0 {
			e.Err = fmt.Errorf("too many requests: the server asks to wait %s", retry)
		} else {
			e.Err = errors.New("too many requests: the server rate-limits us; fetch this source less often")
		}
	case code >= 500:
		e.Err = fmt.Errorf("the server failed (%s); this is usually temporary", strings.TrimSpace(resp.Status))
	default:
		e.Err = fmt.Errorf("the server answered %s", strings.TrimSpace(resp.Status))
	}
	return e
}

func blockedError(url string, status int, vendor string, retry time.Duration) *Error {
	return &Error{Kind: ErrBlocked, URL: url, Status: status, RetryAfter: retry,
		Err: fmt.Errorf("%s bot protection answered with a challenge page instead of the content; "+
			"try later, or set cookies, headers or a proxy for this source", vendor)}
}

// challengeMarkers are strings only a bot-wall challenge page carries,
// lower-cased, with the name of the vendor.
var challengeMarkers = []struct{ marker, vendor string }{
	{"<title>just a moment...</title>", "Cloudflare"},
	{"<title>attention required! | cloudflare</title>", "Cloudflare"},
	{"/cdn-cgi/challenge-platform/", "Cloudflare"},
	{"cf-chl-", "Cloudflare"},
	{"cf_chl_", "Cloudflare"},
	{"<title>ddos-guard</title>", "DDoS-Guard"},
	{"check.ddos-guard.net", "DDoS-Guard"},
	{"_incapsula_resource", "Imperva"},
	{"captcha-delivery.com", "DataDome"},
	{"px-captcha", "PerimeterX"},
	{"<title>checking your browser", "The site's"},
	{"sgcaptcha", "SiteGround"},
}

// challenge returns the vendor of a bot-wall challenge page, or "".
// Normal pages behind Cloudflare may load its challenge-platform script
// too, so a successful response counts as a challenge only when it is as
// small as challenge pages are.
func challenge(h http.Header, status int, body []byte) string {
	if strings.EqualFold(h.Get("cf-mitigated"), "challenge") {
		return "Cloudflare"
	}
	ct := strings.ToLower(h.Get("Content-Type"))
	if ct != "" && !strings.Contains(ct, "html") {
		return ""
	}
	if status < 300 && len(body) > 64<<10 {
		return ""
	}
	low := strings.ToLower(string(head(body, 32<<10)))
	for _, m := range challengeMarkers {
		if strings.Contains(low, m.marker) {
			return m.vendor
		}
	}
	if strings.EqualFold(h.Get("Server"), "ddos-guard") && !strings.Contains(low, "<rss") && !strings.Contains(low, "<feed") {
		return "DDoS-Guard"
	}
	return ""
}

// cacheLifetime is how long the response may be reused: Cache-Control
// max-age (less Age), else Expires (against Date); zero when the response
// says nothing or forbids caching.
func cacheLifetime(h http.Header, now time.Time) time.Duration {
	if cc := strings.ToLower(h.Get("Cache-Control")); cc != "" {
		for _, d := range strings.Split(cc, ",") {
			d = strings.TrimSpace(d)
			if d == "no-store" || d == "no-cache" {
				return 0
			}
		}
		for _, d := range strings.Split(cc, ",") {
			d = strings.TrimSpace(d)
			if v, ok := strings.CutPrefix(d, "max-age="); ok {
				n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
				if err != nil || n <= 0 {
					return 0
				}
				age, _ := strconv.ParseInt(h.Get("Age"), 10, 64)
				if age >= n {
					return 0
				}
				return time.Duration(n-max(age, 0)) * time.Second
			}
		}
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0
		}
		base := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		if t.After(base) {
			return t.Sub(base)
		}
	}
	return 0
}
