package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/sinktest"
)

const secret = "s3cret-shared-with-the-receiver"

// verifySignature is the receiver's check, written as the README shows it
// (and independent of Sign): HMAC-SHA256 over "<timestamp>.<body>", and
// a timestamp no more than five minutes away.
func verifySignature(r *http.Request, body []byte, secret []byte) bool {
	ts := r.Header.Get("X-Treatywatch-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || math.Abs(time.Since(time.Unix(sec, 0)).Seconds()) > 300 {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(r.Header.Get("X-Treatywatch-Signature")))
}

// step is what the receiver does with one request.
type step func(w http.ResponseWriter, r *http.Request) (accepted bool)

func accept(w http.ResponseWriter, r *http.Request) bool {
	w.WriteHeader(http.StatusNoContent)
	return true
}

func status(code int, header ...string) step {
	return func(w http.ResponseWriter, r *http.Request) bool {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, "<html>\n  <b>receiver says no</b>\n</html>")
		return false
	}
}

// hang answers nothing until the client gives up.
func hang(w http.ResponseWriter, r *http.Request) bool {
	<-r.Context().Done()
	return false
}

// receiver is a webhook endpoint that verifies signatures, keeps every
// body it accepted, and follows a script for its first requests.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	script   []step
	requests int
	bodies   []sinks.Envelope // accepted, duplicates included
	headers  []http.Header
	pings    int
}

func newReceiver(t *testing.T, script ...step) *receiver {
	rc := &receiver{t: t, script: script}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodPost || !verifySignature(r, body, []byte(secret)) {
		rc.t.Errorf("receiver: %s with a bad signature: %s", r.Method, body)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var env sinks.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		rc.t.Errorf("receiver: body is not JSON: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if got := r.Header.Get(HeaderEventID); got != env.EventID {
		rc.t.Errorf("receiver: event id header %q, body %q", got, env.EventID)
	}
	rc.mu.Lock()
	var next step = accept
	if rc.requests < len(rc.script) {
		next = rc.script[rc.requests]
	}
	rc.requests++
	rc.mu.Unlock()
	if !next(w, r) {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if env.EventType == sinks.EventPing {
		rc.pings++
		return
	}
	rc.bodies = append(rc.bodies, env)
	rc.headers = append(rc.headers, r.Header.Clone())
}

func (rc *receiver) received(*testing.T) []sinks.Envelope {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]sinks.Envelope(nil), rc.bodies...)
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Target {
			rc := newReceiver(t)
			opts := Options{Name: "hook", URL: rc.srv.URL + "/in", Secret: secret}
			return sinktest.Target{
				Sink:     New(opts),
				Received: rc.received,
				Restart:  func(*testing.T) sinks.Sink { return New(opts) },
			}
		},
	})
}

// TestDeliveryThroughFailures drives Write as the outbox would, against a
// receiver that fails its first calls: a 500, a 429 with Retry-After in
// seconds, a 503 with Retry-After as a date, a hang past the timeout. The
// receiver ends with every record, each event id once after its own
// dedupe, each body signed.
func TestDeliveryThroughFailures(t *testing.T) {
	rc := newReceiver(t,
		accept,                                 // evt-0
		status(http.StatusInternalServerError), // evt-1: the batch fails, evt-0 was taken
		accept, accept,                         // evt-0 again (a duplicate), evt-1
		status(http.StatusTooManyRequests, "Retry-After", "7"),
		status(http.StatusServiceUnavailable, "Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat)),
		hang,
	)
	s := New(Options{Name: "alerts", URL: rc.srv.URL + "/hook", Secret: secret, Timeout: 300 * time.Millisecond})
	recs := sinktest.Records(5)

	type want struct {
		substr     string
		retryAfter time.Duration // approximate for the date form
	}
	wants := []want{
		{"status 500 Internal Server Error: <html> <b>receiver says no</b> </html>", 0},
		{"status 429 Too Many Requests", 7 * time.Second},
		{"status 503 Service Unavailable", 90 * time.Second},
		{"no response within 300ms", 0},
	}
	var attempts int
	for ; ; attempts++ {
		if attempts > 10 {
			t.Fatal("not delivered after 10 attempts")
		}
		err := s.Write(t.Context(), recs)
		if err == nil {
			break
		}
		if attempts >= len(wants) {
			t.Fatalf("attempt %d: unexpected error %v", attempts+1, err)
		}
		w := wants[attempts]
		for _, part := range []string{"alerts", rc.srv.URL + "/hook", w.substr} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("attempt %d: error %q does not contain %q", attempts+1, err, part)
			}
		}
		after := sinks.RetryAfter(err)
		if d := after - w.retryAfter; d < -2*time.Second || d > 0 || (w.retryAfter == 0) != (after == 0) {
			t.Errorf("attempt %d: retry after %s, want about %s", attempts+1, after, w.retryAfter)
		}
		// An outbox would sleep max(backoff, after) here.
	}
	if attempts != len(wants) {
		t.Errorf("delivered after %d failures, want %d", attempts, len(wants))
	}

	got := rc.received(t)
	if len(got) <= len(recs) {
		t.Errorf("receiver got %d bodies; the script should have made it see duplicates", len(got))
	}
	uniq := sinktest.Dedupe(got)
	if len(uniq) != len(recs) {
		t.Fatalf("receiver holds %d distinct events, want %d", len(uniq), len(recs))
	}
	for i, e := range uniq {
		if e.EventID != recs[i].EventID {
			t.Errorf("event %d is %s, want %s", i, e.EventID, recs[i].EventID)
		}
		if e.SchemaVersion != sinks.SchemaVersion || e.EventType != sinks.EventLabelled {
			t.Errorf("event %s: schema_version %d event_type %q", e.EventID, e.SchemaVersion, e.EventType)
		}
	}
}

func TestRequest(t *testing.T) {
	rc := newReceiver(t)
	s := New(Options{
		Name: "hook", URL: rc.srv.URL, Secret: secret,
		Headers: map[string]string{
			"Authorization":   "Bearer token",
			"Content-Type":    "text/plain",
			HeaderSignature:   "sha256=forged",
			"X-Custom-Header": "yes",
		},
	})
	recs := sinktest.Records(1)
	if err := s.Write(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	h := rc.headers[0]
	rc.mu.Unlock()
	for k, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      DefaultUserAgent,
		"Authorization":   "Bearer token",
		"X-Custom-Header": "yes",
		HeaderEventID:     recs[0].EventID,
		HeaderEventType:   sinks.EventLabelled,
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s: %q, want %q", k, got, want)
		}
	}
	// The signature header was verified by the receiver, so the forged
	// one did not get through.
}

func TestNoSecret(t *testing.T) {
	sigs := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sigs <- r.Header.Values(HeaderSignature)
	}))
	defer srv.Close()
	if err := New(Options{Name: "x", URL: srv.URL}).Write(t.Context(), sinktest.Records(1)); err != nil {
		t.Fatal(err)
	}
	if sig := <-sigs; len(sig) != 0 {
		t.Errorf("signature %q sent without a secret", sig)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"not found", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "status 404 Not Found"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				return // a followed redirect would land here and "succeed"
			}
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, "status 302 Found: redirect to /elsewhere"},
		{"429 without Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTooManyRequests)
		}, "status 429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			err := New(Options{Name: "hook", URL: srv.URL, Secret: secret}).Write(t.Context(), sinktest.Records(2))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "hook") {
				t.Fatalf("error %v, want one naming the sink, the URL and %q", err, tt.want)
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Errorf("error is not a *StatusError")
			}
			if sinks.RetryAfter(err) != 0 {
				t.Errorf("retry after %s without a Retry-After header", sinks.RetryAfter(err))
			}
		})
	}
	t.Run("no server", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		err := New(Options{Name: "hook", URL: url}).Write(t.Context(), sinktest.Records(1))
		if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "no response") {
			t.Errorf("error %v", err)
		}
	})
}

// TestCancelDuringRequest: a shutdown cancels a request in flight.
func TestCancelDuringRequest(t *testing.T) {
	rc := newReceiver(t, hang)
	s := New(Options{Name: "hook", URL: rc.srv.URL, Secret: secret, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := s.Write(ctx, sinktest.Records(1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
	if strings.Contains(err.Error(), "within") {
		t.Errorf("a cancellation reported as a timeout: %v", err)
	}
}

func TestCheck(t *testing.T) {
	rc := newReceiver(t, status(http.StatusForbidden))
	s := New(Options{Name: "hook", URL: rc.srv.URL, Secret: secret})
	if err := s.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "status 403") {
		t.Errorf("Check against a 403: %v", err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.pings != 1 || len(rc.bodies) != 0 {
		t.Errorf("receiver got %d pings and %d records, want 1 and 0", rc.pings, len(rc.bodies))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"99999999", MaxRetryAfter, true},
		{"99999999999999999999", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Sat, 01 Nov 2025 11:00:00 GMT", 0, true},
		{"Sun, 02 Nov 2025 12:00:00 GMT", MaxRetryAfter, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"event_id":"e1"}`)
	now := time.Unix(1_760_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(secret, ts, body)
	// Fixed vector: printf '1760000000.{"event_id":"e1"}' | openssl dgst -sha256 -hmac "$secret"
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
		t.Fatalf("Sign = %s, want %s", sig, want)
	}
	tests := []struct {
		name   string
		secret string
		sig    string
		ts     string
		body   string
		at     time.Time
		ok     bool
	}{
		{"good", secret, sig, ts, string(body), now, true},
		{"wrong secret", "other", sig, ts, string(body), now, false},
		{"tampered body", secret, sig, ts, `{"event_id":"e2"}`, now, false},
		{"moved timestamp", secret, sig, strconv.FormatInt(now.Unix()+1, 10), string(body), now, false},
		{"replayed late", secret, sig, ts, string(body), now.Add(10 * time.Minute), false},
		{"bad timestamp", secret, sig, "yesterday", string(body), now, false},
	}
	for _, tt := range tests {
		err := Verify(tt.secret, tt.sig, tt.ts, []byte(tt.body), tt.at, 5*time.Minute)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// A record whose text is larger than the sink's budget arrives cut to
// fit, signed, with its event id and URL whole; at the default budget of
// a webhook sink (1 MiB) and at a small one.
func TestMaxBytes(t *testing.T) {
	for _, max := range []int{1 << 20, 2048} {
		t.Run(strconv.Itoa(max), func(t *testing.T) {
			var sizes []int
			var mu sync.Mutex
			rc := newReceiver(t)
			inner := rc.srv.Config.Handler
			rc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				sizes = append(sizes, int(r.ContentLength))
				mu.Unlock()
				inner.ServeHTTP(w, r)
			})
			recs := sinktest.Records(2)
			recs[0].Item.Summary = strings.Repeat("A long summary of the convention. ", max/20)
			recs[0].Item.Title = strings.Repeat("Заголовок ", max/10)
			s := New(Options{Name: "hook", URL: rc.srv.URL, Secret: secret, MaxBytes: max})
			if err := s.Write(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			got := rc.received(t)
			if len(got) != 2 {
				t.Fatalf("received %d records, want 2", len(got))
			}
			for i, n := range sizes {
				if n > max {
					t.Errorf("request %d: %d bytes over a budget of %d", i, n, max)
				}
			}
			if sizes[0] < max-64 {
				t.Errorf("request 0: %d bytes, cut far below the budget of %d", sizes[0], max)
			}
			e := got[0]
			if e.EventID != recs[0].EventID || e.Item.URL != recs[0].Item.URL || e.Item.Key != recs[0].Item.Key {
				t.Errorf("ids or URL cut: %+v", e.Item)
			}
			if !strings.HasSuffix(e.Item.Summary, sinks.Marker) {
				t.Errorf("summary not marked as cut (%d bytes)", len(e.Item.Summary))
			}
			if strings.HasSuffix(got[1].Item.Summary, sinks.Marker) || strings.HasSuffix(got[1].Item.Title, sinks.Marker) {
				t.Error("a record within the budget was cut")
			}
		})
	}
}
