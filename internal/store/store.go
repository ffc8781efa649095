package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the monitor's state. It is safe for concurrent use, and
// several processes may share one PostgreSQL database (see claims.go).
type Store struct {
	db *db
	// where names the database in messages, without credentials.
	where string
	// owner identifies this handle's leases (see Owner).
	owner string
	// lock is the SQLite lock file while this process holds it
	// (Exclusive).
	lock *os.File
	// backup is the copy of an SQLite database taken by Open before it
	// migrated the database; empty when nothing was migrated.
	backup string
}

// MigrationBackup returns the path of the copy Open took of an SQLite
// database before migrating it to this program's schema, or "" when Open
// did not migrate an existing database.
func (s *Store) MigrationBackup() string { return s.backup }

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
	// 3: leases, so that several processes share the work without doing
	// it twice (claims.go). Lease times are Unix milliseconds.
	`ALTER TABLE sources ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE sources ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sources ADD COLUMN due INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE leases (
		name  TEXT PRIMARY KEY,
		owner TEXT NOT NULL,
		until INTEGER NOT NULL
	);`,
	// 4: analysts' corrections and the dashboard's read model, kept by
	// triggers so every writer of items keeps it current: per-item facts
	// with the effective labels (the latest correction, else the
	// machine's), topics denormalised for aggregates, full-text search
	// (dashboard_schema.go).
	dashboardSchema,
	// 5: commits write the read model of new items themselves
	// (writeItemFacts), which is five times cheaper than the insert
	// trigger of 4.
	dashboardFastInsert,
	// 6: a smaller database. Only relevant items are read in time order
	// (digests), so only they are in that index; the search index keeps
	// no copy of the text it indexes (contentless: the dashboard only
	// matches against it and reads the text from items).
	`DROP INDEX items_relevant;
	CREATE INDEX items_relevant ON items (seen_at) WHERE relevant = 1;
	DROP TABLE items_fts;
	CREATE VIRTUAL TABLE items_fts USING fts5 (title, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
	` + expand(`INSERT INTO items_fts (rowid, title, body)
		SELECT f.id, R.title, `+sqlBody+` FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key;`),
	// 7: cheaper commits (dashboard_schema.go).
	partialFactIndexes,
}

// freshSchema creates the schema of the last migration in a new SQLite
// database at once: what the migrations leave, without their steps that
// a later one undoes (a search table, a trigger and three indexes made
// again) and without their backfills of empty tables. The upgrade path
// is the migrations; TestFreshSchemaIsMigrated holds the two the same.
var freshSchema = strings.Join([]string{
	replaceAll(migrations[0],
		"CREATE INDEX items_relevant ON items (relevant, seen_at);",
		"CREATE INDEX items_relevant ON items (seen_at) WHERE relevant = 1;",
		"\t\tempty_runs           INTEGER NOT NULL DEFAULT 0\n",
		"\t\tempty_runs           INTEGER NOT NULL DEFAULT 0,\n\t\tlease_owner TEXT NOT NULL DEFAULT '',\n\t\tlease_until INTEGER NOT NULL DEFAULT 0,\n\t\tdue INTEGER NOT NULL DEFAULT 0\n",
		"\t\tdelivered    TEXT NOT NULL DEFAULT '',\n",
		"\t\tdelivered    TEXT NOT NULL DEFAULT '',\n\t\tlease_owner TEXT NOT NULL DEFAULT '',\n\t\tlease_until INTEGER NOT NULL DEFAULT 0,\n"),
	migrations[1],
	`CREATE TABLE leases (
		name  TEXT PRIMARY KEY,
		owner TEXT NOT NULL,
		until INTEGER NOT NULL
	);`,
	replaceAll(dashboardTables,
		"CREATE INDEX item_facts_day ON item_facts (relevant, day, stance, actor);",
		"CREATE INDEX item_facts_day ON item_facts (day, stance, actor) WHERE relevant = 1;",
		"CREATE INDEX item_facts_actor ON item_facts (actor, relevant, day);",
		"CREATE INDEX item_facts_actor ON item_facts (actor, relevant, day) WHERE actor <> '';",
		"CREATE VIRTUAL TABLE items_fts USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');",
		"CREATE VIRTUAL TABLE items_fts USING fts5 (title, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');"),
	dashboardTriggers,
}, "\n")

// replaceAll replaces each old of the pairs in s by its new; every old
// must occur in s.
func replaceAll(s string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("store: the schema lacks " + pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

// Open opens the store named by name, creating and migrating it when
// needed: a postgres:// or postgresql:// URL is a PostgreSQL database
// (several instances may share it); anything else is the path of an
// SQLite file, optionally written sqlite:PATH.
func Open(ctx context.Context, name string) (*Store, error) {
	if IsPostgres(name) {
		return openPostgres(ctx, name)
	}
	return openSQLite(ctx, strings.TrimPrefix(name, "sqlite:"))
}

// IsPostgres tells whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	sdb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Keep the connections the workers use open: statements are prepared
	// once per connection (stmtCache), and a connection closed when idle
	// takes its prepared statements with it. With database/sql's default
	// of two idle connections, four workers prepared their commits'
	// statements again on nearly every commit.
	//
	// Bound how many are open at once: every connection parses the schema
	// and keeps its own page cache and statements, and callers that all
	// query at once (a daemon's loops over a thousand sources reading
	// their state at start) would otherwise open hundreds. SQLite runs
	// one writer at a time, so more connections than this buy nothing;
	// the rest wait for a free one.
	//
	// A connection unused for a short while is closed (an in-memory
	// database lives in its one connection, which stays): a daemon
	// waiting for its next runs then holds neither their page caches nor
	// their statements.
	//
	// Transactions run on a pool of their own with one connection (wr):
	// SQLite runs one writer at a time anyway, and its statements are
	// then prepared on that one connection only, not again on every
	// connection a transaction happened to take (a fresh database with
	// eight connections prepared each statement shape of a commit up to
	// eight times).
	readers := sqliteConns - 1
	sdb.SetMaxIdleConns(readers)
	if path == ":memory:" {
		// An in-memory database lives in its one connection, which
		// stays; its transactions run on it too.
		sdb.SetMaxOpenConns(1)
		st, err := openDB(ctx, sdb, nil, path)
		return st, explainOpen(path, err)
	}
	sdb.SetMaxOpenConns(readers)
	sdb.SetConnMaxIdleTime(sqliteIdleTime)
	wr, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wr.SetMaxOpenConns(1)
	wr.SetMaxIdleConns(1)
	wr.SetConnMaxIdleTime(sqliteIdleTime)
	st, err := openDB(ctx, sdb, wr, path)
	return st, explainOpen(path, err)
}

// sqliteConns is how many SQLite connections may be open, and stay open
// between uses (the transactions' one included); sqliteIdleTime how long
// one may stay unused: then it is closed, and with it its page cache and
// prepared statements. Measured with the daemon over 1,000 sources
// (scripts/scale): with no bound it opened 150-380 connections at start
// and idled at 59-99 MiB; with 8 at 54-58 MiB; closing them after 2 s
// instead of 10 s, at 51-52 MiB.
const (
	sqliteConns    = 8
	sqliteIdleTime = 2 * time.Second
)

// dsn is the data source name Open uses for path.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// WAL with synchronous=NORMAL: a commit is in the WAL file (in the
	// operating system's hands) before it returns, so killing the process
	// loses nothing; a power loss or kernel crash may lose the last
	// commits before the WAL is next synced (at a checkpoint), never
	// corrupting the database. FULL would fsync every commit.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// openDB migrates an opened database and returns the store over it,
// whose transactions run on wr when it is set; it closes both when the
// migration fails.
func openDB(ctx context.Context, sdb, wr *sql.DB, name string) (*Store, error) {
	s := &Store{db: &db{DB: sdb, wr: wr, dialect: dialectSQLite, writer: make(chan struct{}, 1)}, where: name, owner: newOwner()}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	if err := s.rekeyOnce(ctx); err != nil && !readOnly(err) {
		// A read-only database opens for reading as it is.
		s.db.Close()
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	s.db.stmts = newStmtCache()
	if wr != nil {
		s.db.wstmts = newStmtCache()
	}
	return s, nil
}

// Driver is "sqlite" or "postgres".
func (s *Store) Driver() string { return s.db.dialect.String() }

// String names the database (an SQLite path, or a PostgreSQL URL without
// its password).
func (s *Store) String() string { return s.where }

// Close closes the database and releases its lock file.
func (s *Store) Close() error {
	return errors.Join(s.db.Close(), s.unlock())
}

// SchemaVersion returns the schema version of the open database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if s.db.dialect == dialectPostgres {
		return pgSchemaVersion(ctx, s.db)
	}
	var v int
	err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

func (s *Store) migrate(ctx context.Context) error {
	if s.where != ":memory:" {
		// A database that is about to be migrated is copied first, so a
		// failed or regretted upgrade can be undone (Backups).
		var v int
		if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err == nil && v > 0 && v < len(migrations) {
			name, err := s.backupBeforeMigration(ctx, s.where, v, time.Now())
			if err != nil {
				return err
			}
			s.backup = name
		}
	}
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
	if v == 0 {
		// A new database: its keys follow the current rule (Rekey has
		// nothing to move).
		if _, err := tx.ExecContext(ctx, freshSchema); err != nil {
			return fmt.Errorf("create schema %d: %w", len(migrations), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES (?, ?)`, keyRuleKV, []byte(keyRule)); err != nil {
			return fmt.Errorf("create schema %d: %w", len(migrations), err)
		}
	}
	for i := v; i < len(migrations) && v > 0; i++ {
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

// timeLayout writes times in UTC with all nine fractional digits, so
// that stored times compare as text in time order (RFC3339Nano drops
// trailing zeros, and "…:00.5Z" sorts before "…:00Z"). Older rows in
// RFC3339Nano still parse.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

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
	t, err := time.Parse(time.RFC3339Nano, s)
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
