package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the monitor's state. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// migrations, applied in order; PRAGMA user_version holds how many ran.
var migrations = []string{
	`CREATE TABLE sources (
		id                   TEXT PRIMARY KEY,
		etag                 TEXT NOT NULL DEFAULT '',
		last_modified        TEXT NOT NULL DEFAULT '',
		initialised          INTEGER NOT NULL DEFAULT 0,
		failures             INTEGER NOT NULL DEFAULT 0,
		error_kind           TEXT NOT NULL DEFAULT '',
		last_error           TEXT NOT NULL DEFAULT '',
		last_fetch           TEXT NOT NULL DEFAULT '',
		last_success         TEXT NOT NULL DEFAULT '',
		next_run             TEXT NOT NULL DEFAULT '',
		empty_runs           INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE items (
		source_id  TEXT NOT NULL,
		key        TEXT NOT NULL,
		url        TEXT NOT NULL DEFAULT '',
		title      TEXT NOT NULL DEFAULT '',
		published  TEXT NOT NULL DEFAULT '',
		seen_at    TEXT NOT NULL,
		relevant   INTEGER NOT NULL DEFAULT 0,
		rules      TEXT NOT NULL DEFAULT '',
		item_json  TEXT NOT NULL,
		result_json TEXT NOT NULL,
		PRIMARY KEY (source_id, key)
	);
	CREATE INDEX items_relevant ON items (relevant, seen_at);
	CREATE TABLE outbox (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		sink         TEXT NOT NULL,
		event_id     TEXT NOT NULL,
		source_id    TEXT NOT NULL,
		item_key     TEXT NOT NULL,
		state        TEXT NOT NULL DEFAULT 'pending',
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt TEXT NOT NULL,
		last_error   TEXT NOT NULL DEFAULT '',
		created      TEXT NOT NULL,
		delivered    TEXT NOT NULL DEFAULT '',
		UNIQUE (sink, event_id)
	);
	CREATE INDEX outbox_due ON outbox (sink, state, next_attempt);
	CREATE TABLE kv (
		key   TEXT PRIMARY KEY,
		value BLOB NOT NULL
	);`,
	// 2: look items up by URL, to recognise an item whose publisher
	// changed its GUID.
	`CREATE INDEX items_url ON items (source_id, url);`,
}

// Open opens (creating when needed) the database at path and migrates it
// to the current schema.
func Open(ctx context.Context, path string) (*Store, error) {
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	return openDB(ctx, db, path)
}

// dsn is the data source name Open uses for path.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// openDB migrates an opened database and returns the store over it; it
// closes db when the migration fails.
func openDB(ctx context.Context, db *sql.DB, name string) (*Store, error) {
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// SchemaVersion returns the schema version of the open database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade treatywatch", v, len(migrations))
	}
	if v == len(migrations) {
		return nil // current: nothing to write
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

const timeLayout = time.RFC3339Nano

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// GetState implements sinks.State.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: get state %q: %w", key, err)
	}
	return v, true, nil
}

// PutState implements sinks.State.
func (s *Store) PutState(ctx context.Context, key string, val []byte) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, val)
	if err != nil {
		return fmt.Errorf("store: put state %q: %w", key, err)
	}
	return nil
}
