package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// SourceState is what the store remembers of one source between runs.
type SourceState struct {
	ID         string
	Validators fetch.Validators
	// Initialised is set by the first successful fetch: until then the
	// source's items are stored and marked seen but not delivered.
	Initialised bool
	// Failures counts failed runs in a row; a success resets it.
	Failures    int
	ErrorKind   string
	LastError   string
	LastFetch   time.Time
	LastSuccess time.Time
	// NextRun is the earliest time the source may run again (Retry-After,
	// ttl, backoff); zero when it may run at its next scheduled time.
	NextRun time.Time
	// EmptyRuns counts successful runs in a row that found no item at all
	// (for page sources: the selector matched nothing).
	EmptyRuns int
}

const sourceCols = `id, etag, last_modified, initialised, failures, error_kind, last_error,
	last_fetch, last_success, next_run, empty_runs`

func scanSource(row interface{ Scan(...any) error }) (SourceState, error) {
	var st SourceState
	var init int
	var lastFetch, lastSuccess, nextRun string
	err := row.Scan(&st.ID, &st.Validators.ETag, &st.Validators.LastModified, &init, &st.Failures,
		&st.ErrorKind, &st.LastError, &lastFetch, &lastSuccess, &nextRun, &st.EmptyRuns)
	st.Initialised = init != 0
	st.LastFetch, st.LastSuccess, st.NextRun = parseTime(lastFetch), parseTime(lastSuccess), parseTime(nextRun)
	return st, err
}

// Source returns the state of one source; a source never run has a zero
// state with its ID set.
func (s *Store) Source(ctx context.Context, id string) (SourceState, error) {
	st, err := scanSource(s.db.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return SourceState{ID: id}, nil
	}
	if err != nil {
		return SourceState{}, fmt.Errorf("store: source %s: %w", id, err)
	}
	return st, nil
}

// Sources returns the state of every source the store knows.
func (s *Store) Sources(ctx context.Context) ([]SourceState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sources: %w", err)
	}
	defer rows.Close()
	var out []SourceState
	for rows.Next() {
		st, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sources: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// SourceStatuses implements sinks.Health.
func (s *Store) SourceStatuses(ctx context.Context) ([]sinks.SourceStatus, error) {
	all, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sinks.SourceStatus, 0, len(all))
	for _, st := range all {
		out = append(out, st.Status())
	}
	return out, nil
}

// Status summarises the state for reports.
func (st SourceState) Status() sinks.SourceStatus {
	state := sinks.HealthOK
	switch {
	case st.Failures > 0 && st.ErrorKind == string(fetch.ErrBlocked):
		state = sinks.HealthBlocked
	case st.Failures > 0:
		state = sinks.HealthFailing
	case st.LastSuccess.IsZero():
		state = sinks.HealthPending
	}
	return sinks.SourceStatus{
		ID: st.ID, State: state, LastError: st.LastError, Failures: st.Failures,
		LastSuccess: st.LastSuccess, LastFetch: st.LastFetch, NextRun: st.NextRun,
	}
}

func ensureSource(ctx context.Context, tx *tx, id string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sources (id) VALUES (?) ON CONFLICT (id) DO NOTHING`, id)
	return err
}

// RecordFailure notes a failed run of a source and when it may run again.
// It returns the number of failures in a row, this one included.
func (s *Store) RecordFailure(ctx context.Context, id string, kind fetch.ErrorKind, msg string, at, nextRun time.Time) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: record failure of %s: %w", id, err)
	}
	defer tx.Rollback()
	var n int
	err = tx.QueryRowContext(ctx, failureUpsert+` RETURNING failures`,
		id, string(kind), msg, fmtTime(at), fmtTime(nextRun)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: record failure of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: record failure of %s: %w", id, err)
	}
	return n, nil
}

// NotModified is one run of a source that the server answered with 304
// Not Modified: when it ran and the earliest time it may run again.
type NotModified struct {
	ID          string
	At, NextRun time.Time
}

// RecordNotModified notes a 304: the source is healthy and unchanged.
func (s *Store) RecordNotModified(ctx context.Context, id string, at, nextRun time.Time) error {
	return s.RecordNotModifiedRuns(ctx, NotModified{ID: id, At: at, NextRun: nextRun})
}

// notModifiedUpsert writes a 304 into the row of a source seen first or
// again, in one statement: a pass of 304s is mostly these.
const notModifiedUpsert = `INSERT INTO sources (id, last_fetch, last_success, next_run) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET failures = 0, error_kind = '', last_error = '',
		last_fetch = excluded.last_fetch, last_success = excluded.last_success, next_run = excluded.next_run`

// RecordNotModifiedRuns notes several 304s in one transaction: all of
// them or, on error, none. A pass whose sources mostly answer 304 writes
// them in groups instead of paying a commit for each.
func (s *Store) RecordNotModifiedRuns(ctx context.Context, runs ...NotModified) error {
	if len(runs) == 0 {
		return nil
	}
	what := "record 304 of " + runs[0].ID
	if len(runs) > 1 {
		what = fmt.Sprintf("record the 304s of %d sources (%s, ...)", len(runs), runs[0].ID)
	}
	return s.execEach(ctx, what, notModifiedUpsert, len(runs), func(i int) (string, []any) {
		r := runs[i]
		return r.ID, []any{r.ID, fmtTime(r.At), fmtTime(r.At), fmtTime(r.NextRun)}
	})
}

// Failure is one failed run of a source: why, when it ran, and the
// earliest time it may run again.
type Failure struct {
	ID          string
	Kind        fetch.ErrorKind
	Msg         string
	At, NextRun time.Time
}

// failureUpsert counts a failure into the row of a source seen first or
// again, in one statement (RecordFailure and RecordFailures).
const failureUpsert = `INSERT INTO sources (id, failures, error_kind, last_error, last_fetch, next_run) VALUES (?, 1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET failures = sources.failures + 1, error_kind = excluded.error_kind,
		last_error = excluded.last_error, last_fetch = excluded.last_fetch, next_run = excluded.next_run`

// RecordFailures notes several failed runs in one transaction, each as
// RecordFailure would: all of them or, on error, none. A pass over many
// sources that fail (a network down) writes them in groups.
func (s *Store) RecordFailures(ctx context.Context, fs ...Failure) error {
	if len(fs) == 0 {
		return nil
	}
	what := "record failure of " + fs[0].ID
	if len(fs) > 1 {
		what = fmt.Sprintf("record the failures of %d sources (%s, ...)", len(fs), fs[0].ID)
	}
	return s.execEach(ctx, what, failureUpsert, len(fs), func(i int) (string, []any) {
		f := fs[i]
		return f.ID, []any{f.ID, string(f.Kind), f.Msg, fmtTime(f.At), fmtTime(f.NextRun)}
	})
}

// execEach runs q once for each of n sources, with the arguments args
// gives for it, in one transaction: all or none. what names the work in
// errors.
func (s *Store) execEach(ctx context.Context, what, q string, n int, args func(i int) (id string, args []any)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer tx.Rollback()
	exec := func(a []any) error {
		_, err := tx.ExecContext(ctx, q, a...)
		return err
	}
	if n > 1 {
		// Prepared on the transaction's connection, once for the group:
		// the store's statement cache may not have it ready yet, and
		// unprepared each run of it would be parsed again.
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		defer st.Close()
		exec = func(a []any) error {
			_, err := st.ExecContext(ctx, a...)
			return err
		}
	}
	for i := range n {
		id, a := args(i)
		if err := exec(a); err != nil {
			return fmt.Errorf("store: %s: source %s: %w", what, id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}
