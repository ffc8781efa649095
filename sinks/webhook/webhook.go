package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/redact"
	"github.com/treatywatch/treatywatch/sinks"
)

// Headers set on every request.
const (
	HeaderSignature = "X-Treatywatch-Signature"
	HeaderTimestamp = "X-Treatywatch-Timestamp"
	HeaderEventID   = "X-Treatywatch-Event-Id"
	HeaderEventType = "X-Treatywatch-Event-Type"
)

// Defaults.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultUserAgent = "treatywatch (+https://github.com/treatywatch/treatywatch)"
	// MaxRetryAfter caps the delay a receiver's Retry-After can ask for.
	MaxRetryAfter = time.Hour
)

// Options configure a webhook sink.
type Options struct {
	Name string
	// URL receives one POST per record.
	URL string
	// Secret signs every body with HMAC-SHA256; empty sends no signature.
	Secret string
	// Timeout bounds one request, response included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Headers are added to every request (Authorization, for instance).
	// They cannot replace Content-Type or the X-Treatywatch-* headers.
	Headers map[string]string
	// UserAgent replaces DefaultUserAgent.
	UserAgent string
	// Client sends the requests; nil means a client of its own. Redirects
	// are never followed: a POST turned into a GET would be taken for a
	// delivery.
	Client *http.Client
	// Logger receives one debug line per delivery; nil discards them.
	Logger *slog.Logger
	// Now is the clock of the signature timestamp; nil means time.Now.
	Now func() time.Time
	// MaxBytes bounds a request body: text fields are cut to fit (see
	// sinks.FitEnvelope). Zero means no budget.
	MaxBytes int
}

// Sink POSTs each record as a signed JSON Envelope. It is safe for
// concurrent use.
type Sink struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
}

var (
	_ sinks.Sink    = (*Sink)(nil)
	_ sinks.Taker   = (*Sink)(nil)
	_ sinks.Checker = (*Sink)(nil)
)

// New returns a webhook sink. The URL is checked by the configuration;
// a bad one makes every Write fail.
func New(opts Options) *Sink {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client // a shallow copy shares the transport
	} else {
		c.Timeout = opts.Timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Sink{opts: opts, client: &c, log: log}
}

// Name returns the configured sink name.
func (s *Sink) Name() string { return s.opts.Name }

// Write POSTs the records one by one, in order (WriteTaking without
// acknowledgements). It stops at the first failure and returns its
// error. A 429 or 503 with Retry-After gives a *sinks.RetryError.
// Receivers still drop event ids they have seen: delivery is at least
// once.
func (s *Sink) Write(ctx context.Context, recs []sinks.Record) error {
	return s.WriteTaking(ctx, recs, nil)
}

// WriteTaking POSTs the records one by one, in order, and calls took
// with each record's index as soon as the receiver answered its POST
// with a 2xx, so that the outbox acknowledges it before the next is
// sent. It stops at the first failure.
func (s *Sink) WriteTaking(ctx context.Context, recs []sinks.Record, took func(i int) error) error {
	for i, r := range recs {
		if err := ctx.Err(); err != nil {
			return s.errorf("event %s: %w", r.EventID, err)
		}
		if r.EventID == "" {
			return s.errorf("record without event id")
		}
		env := sinks.NewEnvelope(r)
		body, err := sinks.FitEnvelope(&env, s.opts.MaxBytes, func(e sinks.Envelope) ([]byte, error) { return Marshal(e) })
		if err != nil {
			return s.errorf("event %s: encode: %w", r.EventID, err)
		}
		if err := s.post(ctx, r.EventID, sinks.EventLabelled, body); err != nil {
			return err
		}
		if took != nil {
			if err := took(i); err != nil {
				return s.errorf("event %s: delivered, but not acknowledged: %w", r.EventID, err)
			}
		}
	}
	return nil
}

// Ping is the body Check sends: a signed event a receiver should answer
// with 2xx and otherwise ignore.
type Ping struct {
	SchemaVersion int       `json:"schema_version"`
	EventType     string    `json:"event_type"` // "ping"
	EventID       string    `json:"event_id"`
	Sink          string    `json:"sink"`
	Sent          time.Time `json:"sent"`
}

// Check POSTs a signed Ping (event_type "ping") and expects a 2xx, the
// way a receiver is first tested: it checks the URL, the network path,
// the receiver's signature check and its status codes without
// delivering a record.
func (s *Sink) Check(ctx context.Context) error {
	now := s.opts.Now().UTC()
	p := Ping{
		SchemaVersion: sinks.SchemaVersion,
		EventType:     sinks.EventPing,
		EventID:       "ping-" + strconv.FormatInt(now.UnixNano(), 36),
		Sink:          s.opts.Name,
		Sent:          now,
	}
	body, err := Marshal(p)
	if err != nil {
		return s.errorf("ping: encode: %w", err)
	}
	return s.post(ctx, p.EventID, sinks.EventPing, body)
}

// Marshal encodes v as a webhook body: JSON without HTML escaping, with
// no trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Sign returns the signature header value for body sent at ts (unix
// seconds): "sha256=" and the hex HMAC-SHA256, keyed with secret, of the
// timestamp, a dot and the body bytes.
func Sign(secret string, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header value against body and the timestamp
// header, and that the timestamp is within tolerance of now. Receivers
// written in Go can call it; the README shows the same in a few lines.
func Verify(secret, signature, ts string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: timestamp %s is %s away from now", ts, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("webhook: signature does not match")
	}
	return nil
}

func (s *Sink) post(parent context.Context, eventID, eventType string, body []byte) error {
	ctx, cancel := context.WithTimeout(parent, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return s.errorf("event %s: %w", eventID, err)
	}
	req.Header.Set("User-Agent", s.opts.UserAgent)
	for k, v := range s.opts.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	ts := strconv.FormatInt(s.opts.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderEventType, eventType)
	req.Header.Set(HeaderTimestamp, ts)
	if s.opts.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(s.opts.Secret, ts, body))
	} else {
		req.Header.Del(HeaderSignature)
	}

	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		err = redact.URLError(err)
		if parent.Err() == nil && ctx.Err() != nil {
			return s.errorf("event %s: no response within %s: %w", eventID, s.opts.Timeout, err)
		}
		return s.errorf("event %s: no response: %w", eventID, err)
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	resp.Body.Close()
	s.log.Debug("webhook delivery", "sink", s.opts.Name, "url", redact.URL(s.opts.URL), "event_id", eventID,
		"status", resp.StatusCode, "duration", time.Since(start))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = &StatusError{Sink: s.opts.Name, URL: redact.URL(s.opts.URL), EventID: eventID, Status: resp.StatusCode, Body: clean(snippet)}
	if loc := resp.Header.Get("Location"); resp.StatusCode < 400 && loc != "" {
		err.(*StatusError).Body = "redirect to " + loc + " (not followed; configure the final URL)"
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if after, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return &sinks.RetryError{After: after, Err: err}
		}
	}
	return err
}

// StatusError is a response that was not a 2xx.
type StatusError struct {
	Sink, URL, EventID string
	Status             int
	// Body is the start of the response body, for the log.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("webhook sink %s: POST %s: event %s: status %d %s", e.Sink, e.URL, e.EventID, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func (s *Sink) errorf(format string, args ...any) error {
	return fmt.Errorf("webhook sink %s: POST %s: "+format, append([]any{s.opts.Name, redact.URL(s.opts.URL)}, args...)...)
}

// retryAfter is the Retry-After a receiver sent, capped at MaxRetryAfter.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	d, ok := fetch.ParseRetryAfter(v, now)
	return min(d, MaxRetryAfter), ok
}

// clean makes a response snippet fit on one log line.
func clean(b []byte) string {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("?"))
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
