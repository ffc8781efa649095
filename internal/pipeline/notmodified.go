package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
)

// A one-off pass (RunAll) writes the 304s of its sources in groups: a
// source that answered 304 Not Modified stored nothing but its health
// and next run, and a transaction of its own for that was most of what
// a pass of 304s cost. Sources with new items still commit their items,
// validators and health at once, each on its own.
//
// Durability: a group is written when it is full, a short while after
// its first 304, and before RunAll returns (also when the pass is
// cancelled). A process killed in between loses the record of those
// last 304s, and nothing else: their sources keep the state of their
// previous run, so the next pass fetches them again with the same
// conditional GET. No item is lost or delivered twice, since a 304
// brings none.
const (
	// notModifiedGroup is how many 304s one transaction writes at most.
	notModifiedGroup = 64
	// notModifiedWait is how long a 304 waits at most for others to
	// share its transaction.
	notModifiedWait = 500 * time.Millisecond
	// notModifiedTimeout bounds the writing of one group.
	notModifiedTimeout = 30 * time.Second
)

// notModifiedWriter collects the 304s of one pass and writes them in
// groups (store.RecordNotModifiedRuns).
type notModifiedWriter struct {
	record func(ctx context.Context, runs ...store.NotModified) error
	ctx    context.Context // not cancelled with the pass: see close
	log    *slog.Logger
	group  int
	wait   time.Duration

	mu      sync.Mutex
	pending []store.NotModified
	timer   *time.Timer // runs flush a wait after the first pending 304
	failed  map[string]error

	writing sync.Mutex // one group at a time, in the order taken
}

// newNotModifiedWriter returns a writer whose groups are written with
// record, under a context that outlives ctx's cancellation.
func newNotModifiedWriter(ctx context.Context, record func(context.Context, ...store.NotModified) error, log *slog.Logger) *notModifiedWriter {
	return &notModifiedWriter{record: record, ctx: context.WithoutCancel(ctx), log: log,
		group: notModifiedGroup, wait: notModifiedWait, failed: map[string]error{}}
}

// add queues one 304. The run that fills a group writes it.
func (w *notModifiedWriter) add(r store.NotModified) {
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

// flush writes the 304s queued so far in one transaction. A group that
// could not be written is logged and its sources remembered (close).
func (w *notModifiedWriter) flush() {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	runs := w.pending
	w.pending = nil
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	if len(runs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, notModifiedTimeout)
	defer cancel()
	if err := w.record(ctx, runs...); err != nil {
		w.log.Warn("304s not recorded; their sources are fetched again (conditionally) on the next run",
			"sources", len(runs), "err", err)
		w.mu.Lock()
		for _, r := range runs {
			w.failed[r.ID] = err
		}
		w.mu.Unlock()
	}
}

// close writes what is still queued and returns, by source, the error
// of each 304 that could not be recorded. Call it once every run that
// may add is over.
func (w *notModifiedWriter) close() map[string]error {
	w.flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}
