package fetch

import (
	"errors"
	"fmt"
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
