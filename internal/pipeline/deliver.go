package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/internal/window"
	"github.com/treatywatch/treatywatch/sinks"
)

// OutboxOptions wire an Outbox; zero options take their defaults.
type OutboxOptions struct {
	Store   DeliveryStore
	Sinks   []sinks.Sink
	Logger  *slog.Logger
	Metrics *Metrics // nil: no metrics
	Now     func() time.Time
	// Backoff is the wait after a sink failed a record: Base after the
	// first attempt, doubling per attempt up to Cap (defaults 5s and 15m).
	Backoff schedule.Backoff
	// BatchSize is how many records one Write gets at most (default 25).
	BatchSize int
	// Lease is how long a claim on records or on a sink's window lasts
	// before a store shared by several processes may hand it to another
	// (default 10m).
	Lease time.Duration
	// Quiet holds, by sink name, the hours a sink sends nothing: its
	// records wait in the outbox until the window ends.
	Quiet map[string]*window.Window
	// Redact hides secrets in error text before it is stored (default:
	// the text unchanged).
	Redact func(string) string
}

// Outbox hands the records a run queued to the sinks: immediate sinks
// get their due records in batches, acked as each is taken and retried
// at a backoff when a sink fails; scheduled sinks (the digest) get their
// window when it is due (sendwindow.go). It keeps no state but the
// store's, and a channel a commit kicks to deliver at once.
type Outbox struct {
	o    OutboxOptions
	log  *slog.Logger
	kick chan struct{}
}

// NewOutbox returns an Outbox; zero options take their defaults.
func NewOutbox(o OutboxOptions) *Outbox {
	o.Logger = loggerOr(o.Logger)
	o.Now = nowOr(o.Now)
	o.Redact = redactOr(o.Redact)
	o.Backoff.Base = cmp.Or(o.Backoff.Base, 5*time.Second)
	o.Backoff.Cap = cmp.Or(o.Backoff.Cap, 15*time.Minute)
	o.BatchSize = cmp.Or(o.BatchSize, 25)
	o.Lease = cmp.Or(o.Lease, DefaultLease)
	return &Outbox{o: o, log: o.Logger, kick: make(chan struct{}, 1)}
}

// Kick asks for a delivery pass now (a commit queued records); a daemon
// takes it from Kicks.
func (ob *Outbox) Kick() {
	select {
	case ob.kick <- struct{}{}:
	default:
	}
}

// Sinks returns the names of the outbox's sinks.
func (ob *Outbox) Sinks() []string {
	names := make([]string, len(ob.o.Sinks))
	for i, s := range ob.o.Sinks {
		names[i] = s.Name()
	}
	return names
}

// Kicks receives once per Kick (kicks not yet taken count as one).
func (ob *Outbox) Kicks() <-chan struct{} { return ob.kick }

// Deliver makes one pass over the outbox: every sink gets its due records
// in batches until none is due or the sink fails. Scheduled sinks (the
// digest) get their window when it is due. A failure leaves the records
// queued with a later next attempt; nothing is acked before the sink took
// it. It returns the number of records delivered.
func (ob *Outbox) Deliver(ctx context.Context) (int, error) {
	var total int
	var errs []error
	for _, s := range ob.o.Sinks {
		if until, quiet := ob.quietUntil(s.Name()); quiet {
			ob.log.Debug("quiet hours: records wait in the outbox", "sink", s.Name(), "until", until.Format(time.RFC3339))
			continue
		}
		var n int
		var err error
		if sch, ok := s.(sinks.Scheduled); ok {
			n, err = ob.deliverWindow(ctx, sch)
		} else {
			n, err = ob.deliverDue(ctx, s)
		}
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// deliverDue hands a sink its due records in claimed batches. Each
// record is acknowledged as soon as the sink took it (sinks.Taker), so a
// failure or a kill in the middle of a batch re-sends only the record in
// flight and those not yet sent; a sink that takes a batch at once acks
// it at once. On a failure the failed record counts an attempt and waits
// its backoff; the records after it in the batch are given back without
// counting one, to be tried no sooner.
func (ob *Outbox) deliverDue(ctx context.Context, s sinks.Sink) (int, error) {
	log := ob.log.With("sink", s.Name())
	total := 0
	wctx := context.WithoutCancel(ctx) // acks and retries are written even when ctx ends mid-write
	for ctx.Err() == nil {
		now := ob.o.Now()
		due, err := ob.o.Store.ClaimDue(ctx, s.Name(), now, ob.o.Lease, ob.o.BatchSize)
		if err != nil || len(due) == 0 {
			return total, err
		}
		recs, ids := records(due)
		taken := 0
		if tk, ok := s.(sinks.Taker); ok {
			err = tk.WriteTaking(ctx, recs, func(i int) error {
				if err := ob.o.Store.Ack(wctx, ob.o.Now(), ids[i]); err != nil {
					return err
				}
				log.Debug("delivered", "event_id", recs[i].EventID, "source", recs[i].Item.SourceID)
				taken = i + 1
				return nil
			})
		} else if err = s.Write(ctx, recs); err == nil {
			if err := ob.o.Store.Ack(wctx, ob.o.Now(), ids...); err != nil {
				return total, err
			}
			for _, rec := range recs {
				log.Debug("delivered", "event_id", rec.EventID, "source", rec.Item.SourceID)
			}
			taken = len(recs)
		}
		total += taken
		if taken > 0 {
			ob.o.Metrics.delivered(s.Name(), "ok", taken)
		}
		if err != nil && taken < len(due) {
			failed := due[taken]
			wait := ob.o.Backoff.Wait(failed.Attempts)
			if ra := sinks.RetryAfter(err); ra > wait {
				wait = ra
			}
			next := now.Add(wait)
			retry, release := ids[taken:taken+1], ids[taken+1:]
			if _, whole := s.(sinks.Taker); !whole {
				retry, release = ids[taken:], nil // the whole batch failed
			}
			rerr := errors.Join(ob.o.Store.Retry(wctx, next, ob.o.Redact(err.Error()), retry...), ob.o.Store.Release(wctx, next, release...))
			if rerr != nil {
				return total, errors.Join(err, rerr)
			}
			ob.o.Metrics.delivered(s.Name(), "failed", len(retry))
			log.Warn("delivery failed; records stay queued", "delivered", taken, "failed", len(retry), "not_sent", len(release),
				"event_id", failed.Record.EventID, "attempt", failed.Attempts+1, "retry_at", next.Format(time.RFC3339), "err", err)
			return total, fmt.Errorf("sink %s: %w", s.Name(), err)
		}
		log.Info("delivered", "records", taken)
	}
	return total, ctx.Err()
}

func records(ps []store.Pending) ([]sinks.Record, []int64) {
	recs := make([]sinks.Record, len(ps))
	ids := make([]int64, len(ps))
	for i, p := range ps {
		recs[i], ids[i] = p.Record, p.ID
	}
	return recs, ids
}

// Flush delivers until nothing immediate sinks hold is pending or until
// ctx is done, waiting for retry times in between. Scheduled sinks get
// one pass. It returns the records delivered and the last error; when ctx
// ends with records queued, the error wraps ctx's (see stillQueued).
func (ob *Outbox) Flush(ctx context.Context) (int, error) {
	total := 0
	var lastErr error
	for {
		n, err := ob.Deliver(ctx)
		total += n
		if err != nil {
			lastErr = err
		}
		if ctx.Err() != nil {
			return total, stillQueued(ctx, lastErr)
		}
		wait, pending, perr := ob.nextRetry(ctx)
		if perr != nil {
			if ctx.Err() != nil {
				return total, stillQueued(ctx, lastErr)
			}
			return total, perr
		}
		if !pending {
			if err == nil {
				lastErr = nil
			}
			return total, lastErr
		}
		// Records another instance holds are acked or handed back at any
		// moment: look again within a second rather than at lease end.
		t := time.NewTimer(min(max(wait, 10*time.Millisecond), time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return total, stillQueued(ctx, lastErr)
		case <-t.C:
		}
	}
}

// stillQueued is Flush's error when ctx ended (its deadline, or a
// cancellation) with records queued: it wraps ctx's error, and names the
// last delivery failure when a sink's failure, not the clock, kept them.
// A failure that is only the cancellation itself (a store call or a write
// cut short) is not named: it would blame the store for the deadline.
func stillQueued(ctx context.Context, lastErr error) error {
	if lastErr == nil || errors.Is(lastErr, context.DeadlineExceeded) || errors.Is(lastErr, context.Canceled) {
		return fmt.Errorf("records still queued: %w", ctx.Err())
	}
	return fmt.Errorf("records still queued: %w; last failure: %w", ctx.Err(), lastErr)
}

// quietUntil reports whether sink is in its quiet hours now, and until
// when.
func (ob *Outbox) quietUntil(sink string) (time.Time, bool) {
	w := ob.o.Quiet[sink]
	if w == nil {
		return time.Time{}, false
	}
	now := ob.o.Now()
	if !w.Contains(now) {
		return time.Time{}, false
	}
	return w.NextClose(now), true
}

// QuietUntil returns when a sink's quiet hours end, or the zero time when
// it is not quiet now.
func (ob *Outbox) QuietUntil(sink string) time.Time {
	t, _ := ob.quietUntil(sink)
	return t
}

// nextRetry returns how long until the earliest queued record of an
// immediate sink may be tried again. Sinks in their quiet hours are left
// out: their records wait for the window to end, not for a flush.
func (ob *Outbox) nextRetry(ctx context.Context) (time.Duration, bool, error) {
	var earliest time.Time
	pending := false
	for _, s := range ob.o.Sinks {
		if _, ok := s.(sinks.Scheduled); ok {
			continue
		}
		if _, quiet := ob.quietUntil(s.Name()); quiet {
			continue
		}
		t, ok, err := ob.o.Store.NextAttempt(ctx, s.Name())
		if err != nil {
			return 0, false, err
		}
		if ok && (!pending || t.Before(earliest)) {
			earliest, pending = t, true
		}
	}
	return earliest.Sub(ob.o.Now()), pending, nil
}
