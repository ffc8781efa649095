package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Several processes (instances) may share one PostgreSQL database. They
// divide the work with leases: a row is taken by writing the instance's
// owner id and a lease end into it, in a statement that only matches
// rows nobody holds or whose lease ran out. An instance renews its
// leases while it works (RenewLeases); one that dies stops renewing, and
// its rows go to whoever claims them after the lease ends. PostgreSQL's
// FOR UPDATE SKIP LOCKED lets claimers pass over rows another claimer is
// taking in the same moment; on SQLite the single writer makes each
// claim atomic by itself. Lease times are Unix milliseconds of the
// claiming instance's clock: instances sharing a database need clocks
// that agree to well within a lease.

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// alone tells that this handle holds the SQLite lock file (Exclusive):
// no other process runs sources or delivers records due on the database,
// so those claims are implicit and cost no write (SQLite has one writer;
// extra write transactions per source and record only add to its
// contention). Window locks stay real: `digest --send` sends a window
// without the lock file.
func (s *Store) alone() bool { return s.lock != nil }

// Owner identifies this handle's claims: host, process id and a random
// part, so that two handles in one process are two owners as well.
func (s *Store) Owner() string { return s.owner }

func newOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// SourceClaim asks for one run of a source.
type SourceClaim struct {
	// Now is the claim time; Until the end of the lease.
	Now, Until time.Time
	// Scheduled claims the run of a schedule slot: it succeeds only when
	// the source's next scheduled run (Due) is at or before Now, and
	// moves it to Next, so that other instances woken for the same slot
	// find it taken. Without Scheduled (a one-off pass) the due time is
	// neither checked nor moved.
	Scheduled bool
	Next      time.Time
}

// ClaimSource takes a source for one run. It fails (false) while another
// instance holds the source, and for a scheduled claim when the slot was
// already run. A lease whose holder died (it ran out) is taken over
// whatever the due time: that run never finished.
func (s *Store) ClaimSource(ctx context.Context, id string, c SourceClaim) (bool, error) {
	if s.alone() {
		return true, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: claim source %s: %w", id, err)
	}
	defer tx.Rollback()
	if err := ensureSource(ctx, tx, id); err != nil {
		return false, fmt.Errorf("store: claim source %s: %w", id, err)
	}
	q := `UPDATE sources SET lease_owner = ?, lease_until = ?,
		due = CASE WHEN lease_owner <> '' OR CAST(? AS BIGINT) = 0 THEN due ELSE CAST(? AS BIGINT) END
		WHERE id = ? AND (lease_owner = '' OR lease_until < ?)`
	next := int64(0)
	args := []any{s.owner, ms(c.Until), 0, 0, id, ms(c.Now)}
	if c.Scheduled {
		next = ms(c.Next)
		q += ` AND (lease_owner <> '' OR due <= ?)`
		args = append(args, ms(c.Now))
	}
	args[2], args[3] = next, next
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("store: claim source %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim source %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: claim source %s: %w", id, err)
	}
	return n == 1, nil
}

// ReleaseSource gives a source back after its run.
func (s *Store) ReleaseSource(ctx context.Context, id string) error {
	if s.alone() {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `UPDATE sources SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`, id, s.owner)
	if err != nil {
		return fmt.Errorf("store: release source %s: %w", id, err)
	}
	return nil
}

// AbandonedSources returns the sources whose run was claimed and whose
// lease ran out before the run finished: their instance died or hung.
func (s *Store) AbandonedSources(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sources WHERE lease_owner <> '' AND lease_until < ? ORDER BY id`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: abandoned sources: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: abandoned sources: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ClaimDue takes up to limit due deliveries of sink for lease, oldest
// first: pending, their next attempt at or before now, and held by
// nobody (or by an instance whose lease ran out). Each is acknowledged
// (Ack), rescheduled (Retry) or given back (Release) one by one; a claim
// left alone goes to another instance after the lease.
func (s *Store) ClaimDue(ctx context.Context, sink string, now time.Time, lease time.Duration, limit int) ([]Pending, error) {
	if s.alone() {
		return s.Due(ctx, sink, now, limit)
	}
	until := now.Add(lease)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries for %s: %w", sink, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM outbox WHERE sink = ? AND state = 'pending' AND next_attempt <= ? AND lease_until < ?
			ORDER BY id LIMIT ?`+s.db.dialect.forUpdateSkipLocked()+`)
		RETURNING id`, s.owner, ms(until), sink, fmtTime(now), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries for %s: %w", sink, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: claim deliveries for %s: %w", sink, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries for %s: %w", sink, err)
	}
	if len(ids) == 0 {
		return nil, tx.Commit()
	}
	in, args := idList(ids)
	ps, err := queryPending(ctx, tx, pendingQuery+`AND o.id IN `+in+` ORDER BY o.id`, append([]any{sink}, args...)...)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries for %s: %w", sink, err)
	}
	return ps, nil
}

// Release gives claimed deliveries back without counting an attempt, to
// be tried again at next at the earliest.
func (s *Store) Release(ctx context.Context, next time.Time, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := idList(ids)
	n := fmtTime(next)
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET lease_owner = '', lease_until = 0,
		next_attempt = CASE WHEN next_attempt < ? THEN ? ELSE next_attempt END
		WHERE id IN `+in, append([]any{n, n}, args...)...)
	if err != nil {
		return fmt.Errorf("store: release deliveries: %w", err)
	}
	return nil
}

// ClaimWindow returns every pending delivery of a scheduled sink queued
// at or before end. Only the holder of the sink's window lock
// (LockWindow) calls it, so the records need no claim of their own.
func (s *Store) ClaimWindow(ctx context.Context, sink string, end, _ time.Time, _ time.Duration) ([]Pending, error) {
	return s.Window(ctx, sink, end)
}

func windowLease(sink string) string { return "window/" + sink }

// LockWindow takes the window lock of a scheduled sink for lease: the
// one instance that holds it decides, sends and closes the sink's
// window. It fails (false) while another instance holds it.
func (s *Store) LockWindow(ctx context.Context, sink string, now time.Time, lease time.Duration) (bool, error) {
	return s.ClaimLease(ctx, windowLease(sink), now, now.Add(lease))
}

// UnlockWindow gives the window lock back.
func (s *Store) UnlockWindow(ctx context.Context, sink string) error {
	return s.ReleaseLease(ctx, windowLease(sink))
}

// ClaimLease takes the named lease until the given time. It fails
// (false) while another owner holds it; the owner that holds it may take
// it again.
func (s *Store) ClaimLease(ctx context.Context, name string, now, until time.Time) (bool, error) {
	owner := s.owner
	rows, err := s.db.QueryContext(ctx, `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.until < ? OR leases.owner = excluded.owner
		RETURNING name`, name, owner, ms(until), ms(now))
	if err != nil {
		return false, fmt.Errorf("store: claim lease %s: %w", name, err)
	}
	defer rows.Close()
	got := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("store: claim lease %s: %w", name, err)
	}
	return got, nil
}

// ReleaseLease gives the named lease back.
func (s *Store) ReleaseLease(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE leases SET until = 0 WHERE name = ? AND owner = ?`, name, s.owner)
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// RenewLeases moves the end of every lease this handle holds (sources,
// deliveries, named leases) to until. An instance calls it while it
// works, well within each lease.
func (s *Store) RenewLeases(ctx context.Context, until time.Time) error {
	owner := s.owner
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: renew leases of %s: %w", owner, err)
	}
	defer tx.Rollback()
	u := ms(until)
	for _, q := range []string{
		`UPDATE sources SET lease_until = ? WHERE lease_owner = ?`,
		`UPDATE outbox SET lease_until = ? WHERE lease_owner = ? AND state = 'pending'`,
		`UPDATE leases SET until = ? WHERE owner = ? AND until > 0`,
	} {
		if _, err := tx.ExecContext(ctx, q, u, owner); err != nil {
			return fmt.Errorf("store: renew leases of %s: %w", owner, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: renew leases of %s: %w", owner, err)
	}
	return nil
}

// Claimed returns how many deliveries owner holds (claimed, not yet
// acknowledged): what a kill of that instance could send twice at most.
func (s *Store) Claimed(ctx context.Context, owner string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE lease_owner = ? AND state = 'pending'`, owner).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: deliveries claimed by %s: %w", owner, err)
	}
	return n, nil
}
