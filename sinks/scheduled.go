package sinks

import (
	"context"
	"time"
)

// Window is the span of time a scheduled delivery covers: records queued
// after Start and at or before End.
type Window struct {
	Start, End time.Time
}

// Scheduled is implemented by sinks that take their records in one batch
// at set times (the digest) rather than as they come. The outbox calls
// WriteWindow once Next(last send) has passed, with every record queued
// in the window, also when there are none; on error the same window is
// offered again later, so WriteWindow must send the same message for the
// same window.
type Scheduled interface {
	Sink
	// Next returns the first send time strictly after t.
	Next(t time.Time) time.Time
	WriteWindow(ctx context.Context, w Window, recs []Record) error
}

// State is a small key-value store a sink may keep its own state in
// (what a digest sent last, the message rendered for a window). It is
// kept in the same database as the outbox.
type State interface {
	GetState(ctx context.Context, key string) (val []byte, ok bool, err error)
	PutState(ctx context.Context, key string, val []byte) error
}

// HealthState is how a source is doing, as reports show it.
type HealthState string

// Health states of a source.
const (
	HealthOK      HealthState = "ok"
	HealthPending HealthState = "pending" // never fetched successfully yet
	HealthFailing HealthState = "failing" // its last fetches failed
	HealthBlocked HealthState = "blocked" // the site refuses it (403, a bot wall)
)

// Bad reports whether the source needs someone to look: failing or
// blocked.
func (h HealthState) Bad() bool { return h == HealthFailing || h == HealthBlocked }

// SourceStatus is the health of one source, for reports.
type SourceStatus struct {
	ID          string      `json:"id"`
	Name        string      `json:"name,omitempty"`
	State       HealthState `json:"state"`
	LastError   string      `json:"last_error,omitempty"`
	Failures    int         `json:"failures"`
	LastSuccess time.Time   `json:"last_success,omitzero"`
	LastFetch   time.Time   `json:"last_fetch,omitzero"`
	NextRun     time.Time   `json:"next_run,omitzero"`
}

// Health reports the state of every source.
type Health interface {
	SourceStatuses(ctx context.Context) ([]SourceStatus, error)
}
