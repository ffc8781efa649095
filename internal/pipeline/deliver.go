package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// Deliver makes one pass over the outbox: every sink gets its due records
// in batches until none is due or the sink fails. Scheduled sinks (the
// digest) get their window when it is due. A failure leaves the records
// queued with a later next attempt; nothing is acked before the sink took
// it. It returns the number of records delivered.
func (r *Runner) Deliver(ctx context.Context) (int, error) {
	var total int
	var errs []error
	for _, s := range r.o.Sinks {
		if until, quiet := r.quietUntil(s.Name()); quiet {
			r.log.Debug("quiet hours: records wait in the outbox", "sink", s.Name(), "until", until.Format(time.RFC3339))
			continue
		}
		var n int
		var err error
		if sch, ok := s.(sinks.Scheduled); ok {
			n, err = r.deliverWindow(ctx, sch)
		} else {
			n, err = r.deliverDue(ctx, s)
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
func (r *Runner) deliverDue(ctx context.Context, s sinks.Sink) (int, error) {
	log := r.log.With("sink", s.Name())
	total := 0
	wctx := context.WithoutCancel(ctx) // acks and retries are written even when ctx ends mid-write
	for ctx.Err() == nil {
		now := r.o.Now()
		due, err := r.o.Store.ClaimDue(ctx, s.Name(), now, r.o.Lease, r.o.BatchSize)
		if err != nil || len(due) == 0 {
			return total, err
		}
		recs, ids := records(due)
		taken := 0
		if tk, ok := s.(sinks.Taker); ok {
			err = tk.WriteTaking(ctx, recs, func(i int) error {
				if err := r.o.Store.Ack(wctx, r.o.Now(), ids[i]); err != nil {
					return err
				}
				log.Debug("delivered", "event_id", recs[i].EventID, "source", recs[i].Item.SourceID)
				taken = i + 1
				return nil
			})
		} else if err = s.Write(ctx, recs); err == nil {
			if err := r.o.Store.Ack(wctx, r.o.Now(), ids...); err != nil {
				return total, err
			}
			for _, rec := range recs {
				log.Debug("delivered", "event_id", rec.EventID, "source", rec.Item.SourceID)
			}
			taken = len(recs)
		}
		total += taken
		if taken > 0 {
			r.o.Metrics.delivered(s.Name(), "ok", taken)
		}
		if err != nil && taken < len(due) {
			failed := due[taken]
			wait := schedule.Backoff{Base: r.o.DeliveryBackoff, Cap: r.o.DeliveryBackoffCap}.Wait(failed.Attempts)
			if ra := sinks.RetryAfter(err); ra > wait {
				wait = ra
			}
			next := now.Add(wait)
			retry, release := ids[taken:taken+1], ids[taken+1:]
			if _, whole := s.(sinks.Taker); !whole {
				retry, release = ids[taken:], nil // the whole batch failed
			}
			rerr := errors.Join(r.o.Store.Retry(wctx, next, r.o.Redact(err.Error()), retry...), r.o.Store.Release(wctx, next, release...))
			if rerr != nil {
				return total, errors.Join(err, rerr)
			}
			r.o.Metrics.delivered(s.Name(), "failed", len(retry))
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

// deliverWindow hands a scheduled sink its window once the window's end
// has passed. The first time a sink is seen its window starts now. A
// window is fixed before it is handed over: if the process dies after the
// sink sent it and before the records were acknowledged, the next attempt
// offers the very same window (so the sink recognises what it sent), even
// when more windows have passed in between.
func (r *Runner) deliverWindow(ctx context.Context, s sinks.Scheduled) (int, error) {
	now := r.o.Now()
	// One process at a time decides, sends and closes a sink's window.
	locked, err := r.o.Store.LockWindow(ctx, s.Name(), now, r.o.Lease)
	if err != nil || !locked {
		return 0, err
	}
	defer r.o.Store.UnlockWindow(context.WithoutCancel(ctx), s.Name())
	w, err := r.sinkWindow(ctx, s.Name(), now)
	if err != nil {
		return 0, err
	}
	end := w.Pending
	if end.IsZero() {
		end = s.Next(w.Last)
		if now.Before(end) {
			return 0, nil
		}
		// A daemon that was down for several windows sends one message
		// that covers them all, ending at the most recent due time.
		for {
			n := s.Next(end)
			if n.After(now) {
				break
			}
			end = n
		}
		w.Pending = end
		if err := r.o.Store.PutSinkWindow(ctx, s.Name(), w); err != nil {
			return 0, err
		}
	}
	return r.sendWindow(ctx, s, w, end)
}

// sendWindow hands s the window from w.Last to end, which is fixed
// (w.Pending) before it is called, and closes it once the sink took it.
func (r *Runner) sendWindow(ctx context.Context, s sinks.Scheduled, w store.SinkWindow, end time.Time) (int, error) {
	now := r.o.Now()
	due, err := r.o.Store.ClaimWindow(ctx, s.Name(), end, now, r.o.Lease)
	if err != nil {
		return 0, err
	}
	recs, ids := records(due)
	if err := s.WriteWindow(ctx, sinks.Window{Start: w.Last, End: end}, recs); err != nil {
		r.o.Metrics.delivered(s.Name(), "failed", len(recs))
		r.log.Warn("scheduled delivery failed; the window is offered again", "sink", s.Name(),
			"window_end", end.Format(time.RFC3339), "records", len(recs), "err", err)
		return 0, fmt.Errorf("sink %s: %w", s.Name(), err)
	}
	if err := r.o.Store.CloseWindow(context.WithoutCancel(ctx), s.Name(), end, r.o.Now(), ids...); err != nil {
		return 0, err
	}
	r.o.Metrics.delivered(s.Name(), "ok", len(recs))
	r.log.Info("scheduled delivery sent", "sink", s.Name(), "records", len(recs), "window_end", end.Format(time.RFC3339))
	return len(recs), nil
}

// sinkWindow returns the window state of a scheduled sink; a sink seen
// for the first time starts its first window now.
func (r *Runner) sinkWindow(ctx context.Context, sink string, now time.Time) (store.SinkWindow, error) {
	w, err := r.o.Store.SinkWindow(ctx, sink)
	if err != nil || !w.Last.IsZero() {
		return w, err
	}
	w.Last = now
	return w, r.o.Store.PutSinkWindow(ctx, sink, w)
}

// NextWindow returns when a scheduled sink sends next.
func (r *Runner) NextWindow(ctx context.Context, s sinks.Scheduled) (time.Time, error) {
	w, err := r.sinkWindow(ctx, s.Name(), r.o.Now())
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(w.Last), nil
}

// Flush delivers until nothing immediate sinks hold is pending or until
// ctx is done, waiting for retry times in between. Scheduled sinks get
// one pass. It returns the records delivered and the last error; when ctx
// ends with records queued, the error wraps ctx's (see stillQueued).
func (r *Runner) Flush(ctx context.Context) (int, error) {
	total := 0
	var lastErr error
	for {
		n, err := r.Deliver(ctx)
		total += n
		if err != nil {
			lastErr = err
		}
		if ctx.Err() != nil {
			return total, stillQueued(ctx, lastErr)
		}
		wait, pending, perr := r.nextRetry(ctx)
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
func (r *Runner) quietUntil(sink string) (time.Time, bool) {
	w := r.o.Quiet[sink]
	if w == nil {
		return time.Time{}, false
	}
	now := r.o.Now()
	if !w.Contains(now) {
		return time.Time{}, false
	}
	return w.NextClose(now), true
}

// QuietUntil returns when a sink's quiet hours end, or the zero time when
// it is not quiet now.
func (r *Runner) QuietUntil(sink string) time.Time {
	t, _ := r.quietUntil(sink)
	return t
}

// nextRetry returns how long until the earliest queued record of an
// immediate sink may be tried again. Sinks in their quiet hours are left
// out: their records wait for the window to end, not for a flush.
func (r *Runner) nextRetry(ctx context.Context) (time.Duration, bool, error) {
	var earliest time.Time
	pending := false
	for _, s := range r.o.Sinks {
		if _, ok := s.(sinks.Scheduled); ok {
			continue
		}
		if _, quiet := r.quietUntil(s.Name()); quiet {
			continue
		}
		t, ok, err := r.o.Store.NextAttempt(ctx, s.Name())
		if err != nil {
			return 0, false, err
		}
		if ok && (!pending || t.Before(earliest)) {
			earliest, pending = t, true
		}
	}
	return earliest.Sub(r.o.Now()), pending, nil
}
