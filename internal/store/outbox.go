package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/sinks"
)

// Pending is one queued delivery.
type Pending struct {
	ID       int64
	Sink     string
	Record   sinks.Record
	Attempts int
	Created  time.Time
}

const pendingQuery = `SELECT o.id, o.sink, o.event_id, o.attempts, o.created, ` + labeledCols + `
	FROM outbox o JOIN items i ON i.source_id = o.source_id AND i.key = o.item_key
	WHERE o.sink = ? AND o.state = 'pending' `

// querier is a db or a tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func queryPending(ctx context.Context, db querier, q string, args ...any) ([]Pending, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		var created, src, key, url, title, ij, rj string
		if err := rows.Scan(&p.ID, &p.Sink, &p.Record.EventID, &p.Attempts, &created, &src, &key, &url, &title, &ij, &rj); err != nil {
			return nil, fmt.Errorf("store: pending deliveries: %w", err)
		}
		l, err := decodeLabeled(src, key, url, title, ij, rj)
		if err != nil {
			return nil, err
		}
		p.Record.Item, p.Record.Result = l.Item, l.Result
		p.Created = parseTime(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Due returns up to limit pending deliveries for sink whose next attempt
// is at or before now, oldest first, without claiming them (see Claim).
func (s *Store) Due(ctx context.Context, sink string, now time.Time, limit int) ([]Pending, error) {
	return queryPending(ctx, s.db, pendingQuery+`AND o.next_attempt <= ? ORDER BY o.id LIMIT ?`, sink, fmtTime(now), limit)
}

// Window returns every pending delivery for sink queued at or before end,
// whatever its next attempt time (scheduled sinks take them all at once).
func (s *Store) Window(ctx context.Context, sink string, end time.Time) ([]Pending, error) {
	return queryPending(ctx, s.db, pendingQuery+`AND o.created <= ? ORDER BY o.id`, sink, fmtTime(end))
}

// NextAttempt returns the earliest time a pending delivery of sink may
// be tried: its next attempt, or for one another instance holds, the end
// of that lease. ok is false when nothing is pending.
func (s *Store) NextAttempt(ctx context.Context, sink string) (t time.Time, ok bool, err error) {
	var free *string
	var leased *int64
	err = s.db.QueryRowContext(ctx, `SELECT
		(SELECT MIN(next_attempt) FROM outbox WHERE sink = ? AND state = 'pending' AND lease_owner = ''),
		(SELECT MIN(lease_until) FROM outbox WHERE sink = ? AND state = 'pending' AND lease_owner <> '')`,
		sink, sink).Scan(&free, &leased)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next attempt for %s: %w", sink, err)
	}
	if free != nil {
		t, ok = parseTime(*free), true
	}
	if leased != nil {
		if l := time.UnixMilli(*leased).UTC(); !ok || l.Before(t) {
			t, ok = l, true
		}
	}
	return t, ok, nil
}

func idList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(",?", len(ids)-1) + ")", args
}

// Ack marks deliveries done: the sink took them. It ends their claim.
func (s *Store) Ack(ctx context.Context, at time.Time, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := ack(ctx, s.db, at, ids); err != nil {
		return fmt.Errorf("store: ack deliveries: %w", err)
	}
	return nil
}

// execer is a database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func ack(ctx context.Context, x execer, at time.Time, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := idList(ids)
	args = append([]any{fmtTime(at)}, args...)
	_, err := x.ExecContext(ctx, `UPDATE outbox SET state = 'done', delivered = ?, attempts = attempts + 1, last_error = '',
		lease_owner = '', lease_until = 0 WHERE id IN `+in, args...)
	return err
}

// Retry keeps deliveries queued, counts a failed attempt and moves their
// next attempt to next. It ends their claim.
func (s *Store) Retry(ctx context.Context, next time.Time, errMsg string, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := idList(ids)
	args = append([]any{fmtTime(next), errMsg}, args...)
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?,
		lease_owner = '', lease_until = 0 WHERE id IN `+in, args...)
	if err != nil {
		return fmt.Errorf("store: reschedule deliveries: %w", err)
	}
	return nil
}

// OutboxDepth returns how many deliveries are pending per sink.
func (s *Store) OutboxDepth(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sink, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY sink`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox depth: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sink string
		var n int
		if err := rows.Scan(&sink, &n); err != nil {
			return nil, fmt.Errorf("store: outbox depth: %w", err)
		}
		out[sink] = n
	}
	return out, rows.Err()
}

// SinkHealth is what the outbox tells of one sink: how many records wait,
// how many of them have failed at least once, the most attempts one of
// them has had, and the last error of the most tried one.
type SinkHealth struct {
	Queued, Failing, MaxAttempts int
	LastError                    string
}

// OutboxHealth returns, per sink with pending records, what its queue
// says about it (for check, which must not call a failing sink "ok").
func (s *Store) OutboxHealth(ctx context.Context) (map[string]SinkHealth, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sink, COUNT(*), SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), MAX(attempts)
		FROM outbox WHERE state = 'pending' GROUP BY sink`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox health: %w", err)
	}
	out := map[string]SinkHealth{}
	for rows.Next() {
		var sink string
		var h SinkHealth
		if err := rows.Scan(&sink, &h.Queued, &h.Failing, &h.MaxAttempts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: outbox health: %w", err)
		}
		out[sink] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox health: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT sink, last_error FROM outbox
		WHERE state = 'pending' AND last_error <> '' ORDER BY attempts DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox health: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sink, msg string
		if err := rows.Scan(&sink, &msg); err != nil {
			return nil, fmt.Errorf("store: outbox health: %w", err)
		}
		if h := out[sink]; h.LastError == "" {
			h.LastError = msg
			out[sink] = h
		}
	}
	return out, rows.Err()
}
