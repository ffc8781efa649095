package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

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
func (r *Runner) SendNow(ctx context.Context, s sinks.Scheduled) (int, sinks.Window, error) {
	now := r.o.Now()
	locked, err := r.o.Store.LockWindow(ctx, s.Name(), now, r.o.Lease)
	if err != nil {
		return 0, sinks.Window{}, err
	}
	if !locked {
		return 0, sinks.Window{}, fmt.Errorf("%s: another process is sending this sink's window right now; try again when it is done", s.Name())
	}
	defer r.o.Store.UnlockWindow(context.WithoutCancel(ctx), s.Name())
	w, err := r.sinkWindow(ctx, s.Name(), now)
	if err != nil {
		return 0, sinks.Window{}, err
	}
	end := w.Pending
	if end.IsZero() {
		end = now
		w.Pending = end
		if err := r.o.Store.PutSinkWindow(ctx, s.Name(), w); err != nil {
			return 0, sinks.Window{}, err
		}
	}
	n, err := r.sendWindow(ctx, s, w, end)
	return n, sinks.Window{Start: w.Last, End: end}, err
}

// ScheduledWindow returns the window the next scheduled send of s will
// cover: the one fixed and not yet sent, else from the end of the last
// window to the next send time (to the latest send time already passed,
// when several were missed).
func (r *Runner) ScheduledWindow(ctx context.Context, s sinks.Scheduled) (sinks.Window, error) {
	now := r.o.Now()
	w, err := r.sinkWindow(ctx, s.Name(), now)
	if err != nil {
		return sinks.Window{}, err
	}
	if !w.Pending.IsZero() {
		return sinks.Window{Start: w.Last, End: w.Pending}, nil
	}
	end := s.Next(w.Last)
	for {
		n := s.Next(end)
		if n.After(now) {
			break
		}
		end = n
	}
	return sinks.Window{Start: w.Last, End: end}, nil
}

// PreviewWindow returns what a scheduled sink would send, without
// claiming or sending anything: with a zero since, the window its next
// scheduled send covers and the records queued for it so far; else the
// window from since to now with every relevant item stored since then,
// each with the event id it has for the sink.
func (r *Runner) PreviewWindow(ctx context.Context, s sinks.Scheduled, since time.Time) (sinks.Window, []sinks.Record, error) {
	var recs []sinks.Record
	if !since.IsZero() {
		w := sinks.Window{Start: since, End: r.o.Now()}
		err := r.o.Store.Items(ctx, store.ItemFilter{RelevantOnly: true, Since: since}, func(l store.Labeled) error {
			recs = append(recs, sinks.Record{EventID: sinks.EventID(l.Item.SourceID, l.Item.Key, s.Name()), Item: l.Item, Result: l.Result})
			return nil
		})
		return w, recs, err
	}
	w, err := r.ScheduledWindow(ctx, s)
	if err != nil {
		return w, nil, err
	}
	pending, err := r.o.Store.Window(ctx, s.Name(), w.End)
	for _, p := range pending {
		recs = append(recs, p.Record)
	}
	return w, recs, err
}
