package pipeline

import (
	"context"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/store"
)

// Store is everything the pipeline keeps between runs: what it knows of
// each source, the items it has seen, the outbox and the windows of
// scheduled sinks. The pipeline uses nothing else of a store; the
// embedded SQLite store (*store.Store) implements it, and any other store
// must behave the same way.
type Store interface {
	IngestStore
	DeliveryStore
	// RenewLeases extends every claim this process holds (sources,
	// records, windows) to until.
	RenewLeases(ctx context.Context, until time.Time) error
}

// SourceStore keeps the health and schedule state of sources.
type SourceStore interface {
	// Source returns the state of one source; a source never run has a
	// zero state with its ID set.
	Source(ctx context.Context, id string) (store.SourceState, error)
	// Sources returns the state of every source the store knows.
	Sources(ctx context.Context) ([]store.SourceState, error)
	// RecordFailure notes a failed run and when the source may run
	// again; it returns the failures in a row, this one included.
	RecordFailure(ctx context.Context, id string, kind fetch.ErrorKind, msg string, at, nextRun time.Time) (int, error)
	// RecordNotModified notes a run the server answered with 304.
	RecordNotModified(ctx context.Context, id string, at, nextRun time.Time) error
	// RecordNotModifiedRuns notes several 304s in one transaction: all
	// of them or none.
	RecordNotModifiedRuns(ctx context.Context, runs ...store.NotModified) error
	// RecordFailures notes several failed runs in one transaction: all
	// of them or none.
	RecordFailures(ctx context.Context, fs ...store.Failure) error
	// ClaimSource takes a source for one run (see store.SourceClaim): it
	// fails (false) while another process runs it. A run whose process
	// died is taken over once its lease ran out.
	ClaimSource(ctx context.Context, id string, c store.SourceClaim) (bool, error)
	// ReleaseSource gives a source back after its run.
	ReleaseSource(ctx context.Context, id string) error
}

// ItemStore keeps the items of sources and commits runs.
type ItemStore interface {
	// Known returns which of keys are stored for the source and, for
	// those of urls that stored items of the source have, the key of the
	// item stored under the URL.
	Known(ctx context.Context, sourceID string, keys, urls []string) (stored map[string]bool, byURL map[string]string, err error)
	// StoredItems returns the stored items of the source among keys.
	StoredItems(ctx context.Context, sourceID string, keys []string) (map[string]fetch.Item, error)
	// CommitRun writes one successful scheduled run at once: the
	// source's validators and health, its new items with their labels
	// and an outbox row per relevant item and sink. It returns the rows
	// queued.
	CommitRun(ctx context.Context, c store.RunCommit) (int, error)
	// CommitRuns writes several runs as CommitRun would, in one
	// transaction: all or none. It returns the rows each queued.
	CommitRuns(ctx context.Context, cs []store.RunCommit) ([]int, error)
	// CommitBackfill writes items a backfill read and queues the
	// relevant ones, leaving the source's health and schedule alone. It
	// returns the rows queued.
	CommitBackfill(ctx context.Context, c store.BackfillCommit) (int, error)
}

// OutboxStore hands queued records to sinks. Records are claimed one by one:
// a claim lasts until the record is acked or retried, or until its lease
// runs out (a store shared by several processes hands an expired claim
// to another). A store used by one process may treat the lease as
// infinite. Ack and Retry take any subset of claimed records, so a sink
// that took part of a batch acks that part.
type OutboxStore interface {
	// ClaimDue claims up to limit queued records of sink whose next
	// attempt is at or before now, oldest first.
	ClaimDue(ctx context.Context, sink string, now time.Time, lease time.Duration, limit int) ([]store.Pending, error)
	// ClaimWindow claims every queued record of a scheduled sink queued
	// at or before end, whatever its next attempt.
	ClaimWindow(ctx context.Context, sink string, end, now time.Time, lease time.Duration) ([]store.Pending, error)
	// Ack marks records delivered.
	Ack(ctx context.Context, at time.Time, ids ...int64) error
	// Retry releases records, counts a failed attempt and sets their
	// next attempt.
	Retry(ctx context.Context, next time.Time, errMsg string, ids ...int64) error
	// Release gives claimed records back without counting an attempt,
	// to be tried at next at the earliest.
	Release(ctx context.Context, next time.Time, ids ...int64) error
	// Window returns, without claiming them, the queued records of a
	// scheduled sink queued at or before end.
	Window(ctx context.Context, sink string, end time.Time) ([]store.Pending, error)
	// NextAttempt returns the earliest next attempt of the queued records
	// of sink; ok is false when none is queued.
	NextAttempt(ctx context.Context, sink string) (t time.Time, ok bool, err error)
}

// DeliveryStore is what the Outbox uses of a store: the queued records,
// the windows of scheduled sinks, and the stored items a preview lists.
type DeliveryStore interface {
	OutboxStore
	WindowStore
	// Items calls fn for every stored item that f selects, oldest first
	// (what a digest preview lists).
	Items(ctx context.Context, f store.ItemFilter, fn func(store.Labeled) error) error
}

// WindowStore keeps where each scheduled sink (the digest) stands.
type WindowStore interface {
	// SinkWindow returns the window state of a scheduled sink; zero
	// times when it has none.
	SinkWindow(ctx context.Context, sink string) (store.SinkWindow, error)
	// PutSinkWindow replaces it.
	PutSinkWindow(ctx context.Context, sink string, w store.SinkWindow) error
	// LockWindow takes the window lock of a scheduled sink: one process
	// at a time decides, sends and closes the sink's windows, so each is
	// sent by exactly one. It fails (false) while another holds it.
	LockWindow(ctx context.Context, sink string, now time.Time, lease time.Duration) (bool, error)
	// UnlockWindow gives the window lock back.
	UnlockWindow(ctx context.Context, sink string) error
	// CloseWindow acks the records of the window ending at end, moves the
	// sink's last window end to end and clears its pending window, at
	// once.
	CloseWindow(ctx context.Context, sink string, end, at time.Time, ids ...int64) error
}
