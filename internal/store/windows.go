package store

import (
	"context"
	"fmt"
	"time"
)

// SinkWindow is where a scheduled sink (the digest) stands.
type SinkWindow struct {
	// Last is the end of the last window the sink took; zero before its
	// first.
	Last time.Time
	// Pending is the end of a window handed to the sink and not yet
	// acknowledged; zero when there is none. A window is fixed before
	// it is handed over, so a retry offers the very same window.
	Pending time.Time
}

// The window state lives in the key-value table under these keys.
func windowLastKey(sink string) string    { return "scheduled/" + sink + "/last" }
func windowPendingKey(sink string) string { return "scheduled/" + sink + "/pending" }

func (s *Store) stateTime(ctx context.Context, key string) (time.Time, error) {
	v, ok, err := s.GetState(ctx, key)
	if err != nil || !ok || len(v) == 0 {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("store: state %s: %w", key, err)
	}
	return t, nil
}

// SinkWindow returns the window state of a scheduled sink.
func (s *Store) SinkWindow(ctx context.Context, sink string) (SinkWindow, error) {
	var w SinkWindow
	var err error
	if w.Last, err = s.stateTime(ctx, windowLastKey(sink)); err != nil {
		return w, err
	}
	w.Pending, err = s.stateTime(ctx, windowPendingKey(sink))
	return w, err
}

// PutSinkWindow replaces the window state of a scheduled sink.
func (s *Store) PutSinkWindow(ctx context.Context, sink string, w SinkWindow) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: window of %s: %w", sink, err)
	}
	defer tx.Rollback()
	for key, t := range map[string]time.Time{windowLastKey(sink): w.Last, windowPendingKey(sink): w.Pending} {
		if err := putState(ctx, tx, key, fmtTime(t)); err != nil {
			return fmt.Errorf("store: window of %s: %w", sink, err)
		}
	}
	return tx.Commit()
}

// CloseWindow acks the deliveries of a scheduled sink's window, moves
// its last window end to end and clears its pending window, in one
// transaction.
func (s *Store) CloseWindow(ctx context.Context, sink string, end, at time.Time, ids ...int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: close window of %s: %w", sink, err)
	}
	defer tx.Rollback()
	if err := ack(ctx, tx, at, ids); err != nil {
		return fmt.Errorf("store: close window of %s: ack: %w", sink, err)
	}
	if err := putState(ctx, tx, windowLastKey(sink), fmtTime(end)); err != nil {
		return fmt.Errorf("store: close window of %s: %w", sink, err)
	}
	if err := putState(ctx, tx, windowPendingKey(sink), ""); err != nil {
		return fmt.Errorf("store: close window of %s: %w", sink, err)
	}
	return tx.Commit()
}

func putState(ctx context.Context, x execer, key, val string) error {
	_, err := x.ExecContext(ctx,
		`INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, []byte(val))
	return err
}
