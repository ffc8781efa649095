package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// An SQLite database has one writer at a time by design, so one process
// works on it at a time: Exclusive takes a lock file beside it (flock,
// released by the kernel when the process ends, however it ends) and
// writes who holds it, so that a second process can say what it waits
// for.

// lockPoll is how often a waiting process tries the lock again.
const lockPoll = 200 * time.Millisecond

// Exclusive makes this process the only one working on an SQLite
// database: it takes PATH.lock, waiting while another process holds it
// (waiting is called once, with a description of the holder), then voids
// the leases an earlier process left behind: with the lock held nobody
// else can be working on them. Close releases the lock. On PostgreSQL,
// which several instances share through leases, it does nothing.
func (s *Store) Exclusive(ctx context.Context, waiting func(holder string)) error {
	if s.db.dialect == dialectPostgres || s.where == ":memory:" || s.lock != nil {
		return nil
	}
	if waiting == nil {
		waiting = func(string) {}
	}
	f, err := lockFile(ctx, s.where, waiting)
	if err != nil {
		return err
	}
	s.lock = f
	if err := s.voidLeases(ctx); err != nil {
		return err
	}
	return nil
}

// lockFile takes the lock file of the SQLite database at dbPath, waiting
// while another process holds it (waiting is called once with who that
// is; a nil waiting means do not wait: fail at once, naming the holder).
// Closing the file releases the lock.
func lockFile(ctx context.Context, dbPath string, waiting func(holder string)) (*os.File, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("store: lock %s: %w", path, err)
		}
		if waiting == nil {
			f.Close()
			return nil, fmt.Errorf("store: %s is in use by %s: stop it first", dbPath, holder(path))
		}
		if !told {
			waiting(holder(path))
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("store: waiting for %s: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	if err := writeHolder(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	return f, nil
}

func writeHolder(f *os.File) error {
	host, _ := os.Hostname()
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		cmd += " " + os.Args[1]
	}
	desc := fmt.Sprintf("process %d (%s) on %s since %s", os.Getpid(), cmd, host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(desc+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// holder describes the process holding the lock file at path.
func holder(path string) string {
	b, err := os.ReadFile(path)
	desc := strings.TrimSpace(string(b))
	if err != nil || desc == "" {
		return "another process (it has not said which yet)"
	}
	return desc
}

func (s *Store) unlock() error {
	if s.lock == nil {
		return nil
	}
	s.lock.Truncate(0)
	err := s.lock.Close() // closing the descriptor releases the flock
	s.lock = nil
	return err
}

// voidLeases ends every lease in the database.
func (s *Store) voidLeases(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: void old leases: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`UPDATE sources SET lease_owner = '', lease_until = 0 WHERE lease_owner <> ''`,
		`UPDATE outbox SET lease_owner = '', lease_until = 0 WHERE lease_owner <> ''`,
		`UPDATE leases SET until = 0 WHERE until > 0`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: void old leases: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: void old leases: %w", err)
	}
	return nil
}
