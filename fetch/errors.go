package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/internal/redact"
)

// ErrorKind says what went wrong in words a user can act on.
type ErrorKind string

// Kinds of fetch failure.
const (
	ErrNetwork  ErrorKind = "network"   // DNS, connection refused or reset
	ErrTimeout  ErrorKind = "timeout"   // the server did not answer in time
	ErrHTTP     ErrorKind = "http"      // a status code that is not 2xx or 304
	ErrBlocked  ErrorKind = "blocked"   // a 403 or a bot-wall challenge page
	ErrTooLarge ErrorKind = "too-large" // the body exceeded the cap
	ErrParse    ErrorKind = "parse"     // the body is not a feed or page we can read
	ErrRefused  ErrorKind = "refused"   // we refused to connect (private address)
	ErrConfig   ErrorKind = "config"    // the source itself is misconfigured
)

// Error is a fetch failure with its kind and, for HTTP failures, the status
// and the Retry-After the server sent.
type Error struct {
	Kind       ErrorKind
	URL        string
	Status     int
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	msg := string(e.Kind)
	if e.Status != 0 {
		msg = fmt.Sprintf("%s: status %d", msg, e.Status)
	}
	if e.URL != "" {
		msg += " from " + redact.URL(e.URL)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether trying again later may succeed.
func (e *Error) Transient() bool {
	switch e.Kind {
	case ErrNetwork, ErrTimeout, ErrBlocked:
		return true
	case ErrHTTP:
		return e.Status == 408 || e.Status == 429 || e.Status >= 500
	}
	return false
}

// KindOf returns the kind of a fetch error, or ErrNetwork for errors
// that did not come through this package.
func KindOf(err error) ErrorKind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return ErrNetwork
}

// RetryAfterOf returns the Retry-After carried by err, or zero.
func RetryAfterOf(err error) time.Duration {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.RetryAfter
	}
	return 0
}

// Reason says why a fetch failed in one short line without the URL (the
// caller names the source): "network: cannot resolve the host name
// \"un.org\"; check the URL: lookup un.org: no such host". The
// net/http error inside, which repeats the URL, is reduced to its cause.
func Reason(err error) string {
	var fe *Error
	if !errors.As(err, &fe) {
		return err.Error()
	}
	msg := string(fe.Kind)
	if fe.Status != 0 {
		msg = fmt.Sprintf("%s: status %d", msg, fe.Status)
	}
	if fe.Err == nil {
		return msg
	}
	var dns *net.DNSError
	if errors.As(fe.Err, &dns) {
		switch {
		case dns.IsNotFound:
			return fmt.Sprintf("%s: no such host %q: check the URL", msg, dns.Name)
		case dns.IsTimeout:
			return fmt.Sprintf("%s: cannot resolve %q: the DNS server did not answer in time", msg, dns.Name)
		}
		return fmt.Sprintf("%s: cannot resolve %q: the DNS server cannot be reached", msg, dns.Name)
	}
	inner := fe.Err.Error()
	var ue *url.Error
	if errors.As(fe.Err, &ue) {
		inner = strings.Replace(inner, ue.Error(), ue.Err.Error(), 1)
	}
	return msg + ": " + inner
}
