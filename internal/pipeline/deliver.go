package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

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

func (r *Runner) deliverDue(ctx context.Context, s sinks.Sink) (int, error) {
	log := r.log.With("sink", s.Name())
	total := 0
	for ctx.Err() == nil {
		now := r.o.Now()
		due, err := r.o.Store.Due(ctx, s.Name(), now, r.o.BatchSize)
		if err != nil || len(due) == 0 {
			return total, err
		}
		recs, ids := records(due)
		if err := s.Write(ctx, recs); err != nil {
			wait := backoff(r.o.DeliveryBackoff, r.o.DeliveryBackoffCap, due[0].Attempts)
			if ra := sinks.RetryAfter(err); ra > wait {
				wait = ra
			}
			next := now.Add(wait)
			// The records stay queued even when ctx was cancelled mid-write.
			if rerr := r.o.Store.Retry(context.WithoutCancel(ctx), next, err.Error(), ids...); rerr != nil {
				return total, errors.Join(err, rerr)
			}
			r.o.Metrics.delivered(s.Name(), "failed", len(recs))
			log.Warn("delivery failed; records stay queued", "records", len(recs), "event_id", recs[0].EventID,
				"attempt", due[0].Attempts+1, "retry_at", next.Format(time.RFC3339), "err", err)
			return total, fmt.Errorf("sink %s: %w", s.Name(), err)
		}
		if err := r.o.Store.Ack(context.WithoutCancel(ctx), r.o.Now(), ids...); err != nil {
			return total, err
		}
		r.o.Metrics.delivered(s.Name(), "ok", len(recs))
		for _, rec := range recs {
			log.Debug("delivered", "event_id", rec.EventID, "source", rec.Item.SourceID)
		}
		total += len(recs)
		log.Info("delivered", "records", len(recs))
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

// windowKey holds the end of the last window a scheduled sink took;
// pendingKey the end of a window handed to it and not yet acknowledged.
func windowKey(sink string) string  { return "scheduled/" + sink + "/last" }
func pendingKey(sink string) string { return "scheduled/" + sink + "/pending" }

// deliverWindow hands a scheduled sink its window once the window's end
// has passed. The first time a sink is seen its window starts now. A
// window is fixed before it is handed over: if the process dies after the
// sink sent it and before the records were acknowledged, the next attempt
// offers the very same window (so the sink recognises what it sent), even
// when more windows have passed in between.
func (r *Runner) deliverWindow(ctx context.Context, s sinks.Scheduled) (int, error) {
	now := r.o.Now()
	last, err := r.lastWindow(ctx, s.Name(), now)
	if err != nil {
		return 0, err
	}
	end, ok, err := r.stateTime(ctx, pendingKey(s.Name()))
	if err != nil {
		return 0, err
	}
	if !ok {
		end = s.Next(last)
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
		if err := r.putStateTime(ctx, pendingKey(s.Name()), end); err != nil {
			return 0, err
		}
	}
	due, err := r.o.Store.Window(ctx, s.Name(), end)
	if err != nil {
		return 0, err
	}
	recs, ids := records(due)
	w := sinks.Window{Start: last, End: end}
	if err := s.WriteWindow(ctx, w, recs); err != nil {
		r.o.Metrics.delivered(s.Name(), "failed", len(recs))
		r.log.Warn("scheduled delivery failed; the window is offered again", "sink", s.Name(),
			"window_end", end.Format(time.RFC3339), "records", len(recs), "err", err)
		return 0, fmt.Errorf("sink %s: %w", s.Name(), err)
	}
	wctx := context.WithoutCancel(ctx)
	if err := r.o.Store.Ack(wctx, r.o.Now(), ids...); err != nil {
		return 0, err
	}
	if err := r.putStateTime(wctx, windowKey(s.Name()), end); err != nil {
		return 0, err
	}
	if err := r.o.Store.PutState(wctx, pendingKey(s.Name()), []byte{}); err != nil {
		return 0, err
	}
	r.o.Metrics.delivered(s.Name(), "ok", len(recs))
	r.log.Info("scheduled delivery sent", "sink", s.Name(), "records", len(recs), "window_end", end.Format(time.RFC3339))
	return len(recs), nil
}

// stateTime reads a time kept in the store's state; ok is false when it
// is absent or empty.
func (r *Runner) stateTime(ctx context.Context, key string) (time.Time, bool, error) {
	v, ok, err := r.o.Store.GetState(ctx, key)
	if err != nil || !ok || len(v) == 0 {
		return time.Time{}, false, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("state %s: %w", key, err)
	}
	return t, true, nil
}

func (r *Runner) putStateTime(ctx context.Context, key string, t time.Time) error {
	return r.o.Store.PutState(ctx, key, []byte(t.UTC().Format(time.RFC3339Nano)))
}

func (r *Runner) lastWindow(ctx context.Context, sink string, now time.Time) (time.Time, error) {
	t, ok, err := r.stateTime(ctx, windowKey(sink))
	if err != nil || ok {
		return t, err
	}
	return now, r.putStateTime(ctx, windowKey(sink), now)
}

// NextWindow returns when a scheduled sink sends next.
func (r *Runner) NextWindow(ctx context.Context, s sinks.Scheduled) (time.Time, error) {
	last, err := r.lastWindow(ctx, s.Name(), r.o.Now())
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(last), nil
}

// Flush delivers until nothing immediate sinks hold is pending or until
// ctx is done, waiting for retry times in between. Scheduled sinks get
// one pass. It returns the records delivered and the last error.
func (r *Runner) Flush(ctx context.Context) (int, error) {
	total := 0
	var lastErr error
	for {
		n, err := r.Deliver(ctx)
		total += n
		if err != nil {
			lastErr = err
		}
		wait, pending, perr := r.nextRetry(ctx)
		if perr != nil {
			return total, perr
		}
		if !pending {
			if err == nil {
				lastErr = nil
			}
			return total, lastErr
		}
		t := time.NewTimer(max(wait, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return total, fmt.Errorf("records still queued: %w", lastErr)
		case <-t.C:
		}
	}
}

// nextRetry returns how long until the earliest queued record of an
// immediate sink may be tried again.
func (r *Runner) nextRetry(ctx context.Context) (time.Duration, bool, error) {
	var earliest time.Time
	pending := false
	for _, s := range r.o.Sinks {
		if _, ok := s.(sinks.Scheduled); ok {
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
