package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
)

// A one-off pass (RunAll) writes the records of its runs that change
// nothing but a source's health in groups: the 304s (a source that
// answered 304 Not Modified stored nothing but its health and next run)
// and the failures (a count, a reason and the next try). A transaction
// of its own for each was most of what a pass of 304s cost, and a pass
// over sources that all fail (the network down) would write thousands.
// Runs with new items commit those with their validators and health
// (commitGroup).
//
// Durability: a group is written when it is full, a short while after
// its first record, and before RunAll returns (also when the pass is
// cancelled). A process killed in between loses those last records, and
// nothing else: their sources keep the state of their previous run, so
// the next pass fetches them again (a 304's with the same conditional
// GET, a failure's without waiting out a longer backoff). No item is
// lost or delivered twice, since neither brings any.
const (
	// recordGroup is how many records one transaction writes at most.
	recordGroup = 64
	// recordWait is how long a record waits at most for others to share
	// its transaction.
	recordWait = 500 * time.Millisecond
	// recordTimeout bounds the writing of one group.
	recordTimeout = 30 * time.Second
)

// runRecords collects records of one kind (T) from the runs of one pass
// and writes them in groups with record.
type runRecords[T any] struct {
	record func(ctx context.Context, rs ...T) error
	source func(T) string  // the source a record is of
	lost   string          // logged when a group could not be written
	ctx    context.Context // not cancelled with the pass: see close
	log    *slog.Logger
	group  int
	wait   time.Duration

	mu      sync.Mutex
	pending []T
	timer   *time.Timer // runs flush a wait after the first pending record
	failed  map[string]error

	writing sync.Mutex // one group at a time, in the order taken
}

// newNotModifiedWriter returns the writer of a pass's 304s
// (store.RecordNotModifiedRuns), under a context that outlives ctx's
// cancellation.
func newNotModifiedWriter(ctx context.Context, record func(context.Context, ...store.NotModified) error, log *slog.Logger) *runRecords[store.NotModified] {
	return newRunRecords(ctx, record, func(r store.NotModified) string { return r.ID },
		"304s not recorded; their sources are fetched again (conditionally) on the next run", log)
}

// newFailureWriter returns the writer of a pass's failures
// (store.RecordFailures), under a context that outlives ctx's
// cancellation.
func newFailureWriter(ctx context.Context, record func(context.Context, ...store.Failure) error, log *slog.Logger) *runRecords[store.Failure] {
	return newRunRecords(ctx, record, func(f store.Failure) string { return f.ID },
		"failures not recorded; their sources are tried again on the next run without a longer backoff", log)
}

func newRunRecords[T any](ctx context.Context, record func(context.Context, ...T) error, source func(T) string, lost string, log *slog.Logger) *runRecords[T] {
	return &runRecords[T]{record: record, source: source, lost: lost, ctx: context.WithoutCancel(ctx), log: log,
		group: recordGroup, wait: recordWait, failed: map[string]error{}}
}

// add queues one record. The run that fills a group writes it.
func (w *runRecords[T]) add(r T) {
	w.mu.Lock()
	w.pending = append(w.pending, r)
	full := len(w.pending) >= w.group
	if !full && w.timer == nil {
		w.timer = time.AfterFunc(w.wait, w.flush)
	}
	w.mu.Unlock()
	if full {
		w.flush()
	}
}

// flush writes the records queued so far in one transaction. A group
// that could not be written is logged and its sources remembered
// (close).
func (w *runRecords[T]) flush() {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	rs := w.pending
	w.pending = nil
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	if len(rs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, recordTimeout)
	defer cancel()
	if err := w.record(ctx, rs...); err != nil {
		w.log.Warn(w.lost, "sources", len(rs), "err", err)
		w.mu.Lock()
		for _, r := range rs {
			w.failed[w.source(r)] = err
		}
		w.mu.Unlock()
	}
}

// close writes what is still queued and returns, by source, the error
// of each record that could not be written. Call it once every run that
// may add is over.
func (w *runRecords[T]) close() map[string]error {
	w.flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}
