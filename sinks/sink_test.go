package sinks_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/sinks"
)

// TestEventID: the id is the first 32 hex digits of SHA-256 over source,
// key and sink joined by NUL bytes. The expected values were computed
// outside Go (python3 hashlib), so a change of the formula fails here.
func TestEventID(t *testing.T) {
	tests := []struct {
		source, key, sink string
		want              string
	}{
		{"desk", "desk-1", "hook", "db26d9c07baced38b4a4deb7eb0b4c5d"},
	}
	for _, tt := range tests {
		if got := sinks.EventID(tt.source, tt.key, tt.sink); got != tt.want {
			t.Errorf("EventID(%q, %q, %q) = %s, want %s", tt.source, tt.key, tt.sink, got, tt.want)
		}
	}
	// Each part counts, and the separators keep "ab"+"c" apart from "a"+"bc".
	base := sinks.EventID("a", "b", "c")
	for _, other := range [][3]string{{"x", "b", "c"}, {"a", "x", "c"}, {"a", "b", "x"}, {"ab", "", "c"}, {"a", "bc", ""}} {
		if sinks.EventID(other[0], other[1], other[2]) == base {
			t.Errorf("EventID%v equals EventID(a, b, c)", other)
		}
	}
	if sinks.EventID("a", "b", "c") != base {
		t.Error("EventID is not stable")
	}
}

func TestRetryError(t *testing.T) {
	inner := io.ErrUnexpectedEOF
	re := &sinks.RetryError{After: 90 * time.Second, Err: inner}
	if got, want := re.Error(), "unexpected EOF (retry after 1m30s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"bare", re, 90 * time.Second},
		{"wrapped", fmt.Errorf("webhook: %w", re), 90 * time.Second},
		{"plain error", errors.New("boom"), 0},
		{"nil", nil, 0},
	}
	for _, tt := range tests {
		if got := sinks.RetryAfter(tt.err); got != tt.want {
			t.Errorf("%s: RetryAfter = %s, want %s", tt.name, got, tt.want)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", re), inner) {
		t.Error("RetryError does not unwrap to its cause")
	}
}
