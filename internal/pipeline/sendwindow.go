package pipeline

// The windows of scheduled sinks. A scheduled sink (the digest) is sent
// its records a window at a time; the outbox keeps where each sink stands
// as a store.SinkWindow (the end of its last window, and the end of a
// window fixed and not yet closed) through the store's typed window
// methods, under the sink's window lock.

import (
	"context"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// deliverWindow hands a scheduled sink its window once the window's end
// has passed. The first time a sink is seen its window starts now. A
// window is fixed before it is handed over: if the process dies after the
// sink sent it and before the records were acknowledged, the next attempt
// offers the very same window (so the sink recognises what it sent), even
// when more windows have passed in between.
func (ob *Outbox) deliverWindow(ctx context.Context, s sinks.Scheduled) (int, error) {
	now := ob.o.Now()
	// One process at a time decides, sends and closes a sink's window.
	locked, err := ob.o.Store.LockWindow(ctx, s.Name(), now, ob.o.Lease)
	if err != nil || !locked {
		return 0, err
	}
	defer ob.o.Store.UnlockWindow(context.WithoutCancel(ctx), s.Name())
	w, err := ob.sinkWindow(ctx, s.Name(), now)
	if err != nil {
		return 0, err
	}
	end := w.Pending
	if end.IsZero() {
		if end = s.Next(w.Last); now.Before(end) {
			return 0, nil
		}
		end = latestDue(s, end, now)
		w.Pending = end
		if err := ob.o.Store.PutSinkWindow(ctx, s.Name(), w); err != nil {
			return 0, err
		}
	}
	return ob.sendWindow(ctx, s, w, end)
}

// sendWindow hands s the window from w.Last to end, which is fixed
// (w.Pending) before it is called, and closes it once the sink took it.
func (ob *Outbox) sendWindow(ctx context.Context, s sinks.Scheduled, w store.SinkWindow, end time.Time) (int, error) {
	now := ob.o.Now()
	due, err := ob.o.Store.ClaimWindow(ctx, s.Name(), end, now, ob.o.Lease)
	if err != nil {
		return 0, err
	}
	recs, ids := records(due)
	if err := s.WriteWindow(ctx, sinks.Window{Start: w.Last, End: end}, recs); err != nil {
		ob.o.Metrics.delivered(s.Name(), "failed", len(recs))
		ob.log.Warn("scheduled delivery failed; the window is offered again", "sink", s.Name(),
			"window_end", end.Format(time.RFC3339), "records", len(recs), "err", err)
		return 0, fmt.Errorf("sink %s: %w", s.Name(), err)
	}
	if err := ob.o.Store.CloseWindow(context.WithoutCancel(ctx), s.Name(), end, ob.o.Now(), ids...); err != nil {
		return 0, err
	}
	ob.o.Metrics.delivered(s.Name(), "ok", len(recs))
	ob.log.Info("scheduled delivery sent", "sink", s.Name(), "records", len(recs), "window_end", end.Format(time.RFC3339))
	return len(recs), nil
}

// sinkWindow returns the window state of a scheduled sink; a sink seen
// for the first time starts its first window now.
func (ob *Outbox) sinkWindow(ctx context.Context, sink string, now time.Time) (store.SinkWindow, error) {
	w, err := ob.o.Store.SinkWindow(ctx, sink)
	if err != nil || !w.Last.IsZero() {
		return w, err
	}
	w.Last = now
	return w, ob.o.Store.PutSinkWindow(ctx, sink, w)
}

// NextWindow returns when a scheduled sink sends next.
func (ob *Outbox) NextWindow(ctx context.Context, s sinks.Scheduled) (time.Time, error) {
	w, err := ob.sinkWindow(ctx, s.Name(), ob.o.Now())
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(w.Last), nil
}

// SendNow sends a scheduled sink's current window at once, through the
// same path as a scheduled send: the window (from the end of the last
// one to now) is fixed in the store before the sink gets it, the sink
// stores its message before sending, and the records are closed with the
// window. So a kill at any point leaves a window that the next attempt,
// by hand or on schedule, completes with the same message; and the
// scheduled send that follows covers only what came after. A window
// fixed earlier and not yet closed is completed instead of a new one.
//
// The window lock makes it wait for no one: while another process (a
// daemon at its scheduled time) holds it, SendNow sends nothing and
// says so.
func (ob *Outbox) SendNow(ctx context.Context, s sinks.Scheduled) (int, sinks.Window, error) {
	now := ob.o.Now()
	locked, err := ob.o.Store.LockWindow(ctx, s.Name(), now, ob.o.Lease)
	if err != nil {
		return 0, sinks.Window{}, err
	}
	if !locked {
		return 0, sinks.Window{}, fmt.Errorf("%s: another process is sending this sink's window right now; try again when it is done", s.Name())
	}
	defer ob.o.Store.UnlockWindow(context.WithoutCancel(ctx), s.Name())
	w, err := ob.sinkWindow(ctx, s.Name(), now)
	if err != nil {
		return 0, sinks.Window{}, err
	}
	end := w.Pending
	if end.IsZero() {
		end = now
		w.Pending = end
		if err := ob.o.Store.PutSinkWindow(ctx, s.Name(), w); err != nil {
			return 0, sinks.Window{}, err
		}
	}
	n, err := ob.sendWindow(ctx, s, w, end)
	return n, sinks.Window{Start: w.Last, End: end}, err
}

// ScheduledWindow returns the window the next scheduled send of s will
// cover: the one fixed and not yet sent, else from the end of the last
// window to the next send time (to the latest send time already passed,
// when several were missed).
func (ob *Outbox) ScheduledWindow(ctx context.Context, s sinks.Scheduled) (sinks.Window, error) {
	now := ob.o.Now()
	w, err := ob.sinkWindow(ctx, s.Name(), now)
	if err != nil {
		return sinks.Window{}, err
	}
	if !w.Pending.IsZero() {
		return sinks.Window{Start: w.Last, End: w.Pending}, nil
	}
	return sinks.Window{Start: w.Last, End: latestDue(s, s.Next(w.Last), now)}, nil
}

// latestDue is the end of the window a scheduled send due at end covers
// at now: a daemon that was down for several windows sends one message
// that covers them all, ending at the most recent send time passed.
func latestDue(s sinks.Scheduled, end, now time.Time) time.Time {
	for {
		n := s.Next(end)
		if n.After(now) {
			return end
		}
		end = n
	}
}

// PreviewWindow returns what a scheduled sink would send, without
// claiming or sending anything: with a zero since, the window its next
// scheduled send covers and the records queued for it so far; else the
// window from since to now with every relevant item stored since then,
// each with the event id it has for the sink.
func (ob *Outbox) PreviewWindow(ctx context.Context, s sinks.Scheduled, since time.Time) (sinks.Window, []sinks.Record, error) {
	var recs []sinks.Record
	if !since.IsZero() {
		w := sinks.Window{Start: since, End: ob.o.Now()}
		err := ob.o.Store.Items(ctx, store.ItemFilter{RelevantOnly: true, Since: since}, func(l store.Labeled) error {
			recs = append(recs, sinks.Record{EventID: sinks.EventID(l.Item.SourceID, l.Item.Key, s.Name()), Item: l.Item, Result: l.Result})
			return nil
		})
		return w, recs, err
	}
	w, err := ob.ScheduledWindow(ctx, s)
	if err != nil {
		return w, nil, err
	}
	pending, err := ob.o.Store.Window(ctx, s.Name(), w.End)
	for _, p := range pending {
		recs = append(recs, p.Record)
	}
	return w, recs, err
}
