package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// errInjected is what the fault driver returns.
var errInjected = errors.New("injected fault")

// faultDriver wraps the real SQLite driver: a statement containing
// failStmt fails before it reaches SQLite, and with failCommit every
// transaction's COMMIT fails (the driver then rolls it back, as SQLite
// does when a commit cannot be written).
type faultDriver struct {
	inner driver.Driver
	dsn   string

	mu         sync.Mutex
	failStmt   string
	failCommit bool
	// queries, when set, gets every statement the store runs.
	queries func(q string)
}

func (d *faultDriver) set(stmt string, commit bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failStmt, d.failCommit = stmt, commit
}

func (d *faultDriver) check(query string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queries != nil {
		d.queries(query)
	}
	if d.failStmt != "" && strings.Contains(query, d.failStmt) {
		return errInjected
	}
	return nil
}

func (d *faultDriver) commitFails() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failCommit
}

// Connect and Driver make faultDriver a driver.Connector.
func (d *faultDriver) Connect(context.Context) (driver.Conn, error) {
	c, err := d.inner.Open(d.dsn)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, d: d}, nil
}

func (d *faultDriver) Driver() driver.Driver { return d.inner }

type faultConn struct {
	driver.Conn
	d *faultDriver
}

func (c *faultConn) Prepare(q string) (driver.Stmt, error) {
	if err := c.d.check(q); err != nil {
		return nil, err
	}
	st, err := c.Conn.Prepare(q)
	if err != nil {
		return nil, err
	}
	return &faultStmt{Stmt: st, q: q, d: c.d}, nil
}

// faultStmt fails a prepared statement's runs too: the store keeps its
// statements prepared, so the fault may be set after the prepare.
type faultStmt struct {
	driver.Stmt
	q string
	d *faultDriver
}

func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.d.check(s.q); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.d.check(s.q); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (c *faultConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.d.check(q); err != nil {
		return nil, err
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *faultConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.d.check(q); err != nil {
		return nil, err
	}
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultTx{Tx: tx, d: c.d}, nil
}

type faultTx struct {
	driver.Tx
	d *faultDriver
}

func (t *faultTx) Commit() error {
	if t.d.commitFails() {
		if err := t.Tx.Rollback(); err != nil {
			return errors.Join(errInjected, err)
		}
		return errInjected
	}
	return t.Tx.Commit()
}

// sqliteDriver returns the registered SQLite driver.
func sqliteDriver(t *testing.T) driver.Driver {
	t.Helper()
	db, err := sql.Open("sqlite", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Driver()
}

// openFaulty opens the database at path through the fault driver; the
// returned store is migrated unless a fault is set before.
func openFaulty(t *testing.T, path string, setup func(*faultDriver)) (*Store, *faultDriver, error) {
	t.Helper()
	fd := &faultDriver{inner: sqliteDriver(t), dsn: dsn(path)}
	if setup != nil {
		setup(fd)
	}
	wr := sql.OpenDB(fd)
	wr.SetMaxOpenConns(1)
	s, err := openDB(context.Background(), sql.OpenDB(fd), wr, path)
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, fd, err
}

// TestFailedStatementRollsBack: a statement that fails in the middle of a
// transaction (or its COMMIT) leaves the database as it was before the
// call: no item marked seen, nothing queued, the source state untouched.
func TestFailedStatementRollsBack(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	first := Commit{SourceID: "s", At: at, Validators: fetch.Validators{ETag: `"v1"`}, Deliver: true, Sinks: []string{"hook"},
		Items: []Labeled{labeled("s", "1", true)}}
	second := Commit{SourceID: "s", At: at.Add(time.Hour), Validators: fetch.Validators{ETag: `"v2"`}, Deliver: true, Sinks: []string{"hook", "jsonl"},
		Items: []Labeled{labeled("s", "2", false), labeled("s", "3", true)}}
	tests := []struct {
		name       string
		stmt       string // a statement that fails
		commit     bool   // the COMMIT fails
		call       func(s *Store) error
		wantSubstr string
	}{
		{"commit: source update fails", "UPDATE sources SET etag", false,
			func(s *Store) error { _, err := s.Commit(ctx, second); return err }, "update source"},
		{"commit: item insert fails", "INTO items (source_id", false,
			func(s *Store) error { _, err := s.Commit(ctx, second); return err }, "item 2"},
		{"commit: queueing fails after the items", "INSERT INTO outbox", false,
			func(s *Store) error { _, err := s.Commit(ctx, second); return err }, "queue 3 for hook"},
		{"commit: ensure source fails", "INSERT INTO sources", false,
			func(s *Store) error { _, err := s.Commit(ctx, second); return err }, "commit s"},
		{"commit: COMMIT fails", "", true,
			func(s *Store) error { _, err := s.Commit(ctx, second); return err }, "commit s"},
		{"record failure: update fails", "SET failures = sources.failures + 1", false,
			func(s *Store) error {
				_, err := s.RecordFailure(ctx, "s", fetch.ErrHTTP, "status 500", at.Add(time.Hour), at.Add(2*time.Hour))
				return err
			}, "record failure of s"},
		{"record failure: COMMIT fails", "", true,
			func(s *Store) error {
				_, err := s.RecordFailure(ctx, "s", fetch.ErrHTTP, "status 500", at.Add(time.Hour), at.Add(2*time.Hour))
				return err
			}, "record failure of s"},
		{"record 304: update fails", "DO UPDATE SET failures = 0, error_kind = '', last_error = '',\n\t\tlast_fetch = excluded.last_fetch", false,
			func(s *Store) error { return s.RecordNotModified(ctx, "s", at.Add(time.Hour), at.Add(2*time.Hour)) }, "record 304 of s"},
		{"record 304: ensure source fails", "INSERT INTO sources", false,
			func(s *Store) error { return s.RecordNotModified(ctx, "s", at.Add(time.Hour), time.Time{}) }, "record 304 of s"},
		{"record failure: ensure source fails", "INSERT INTO sources", false,
			func(s *Store) error {
				_, err := s.RecordFailure(ctx, "s", fetch.ErrHTTP, "x", at, at)
				return err
			}, "record failure of s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			s, fd, err := openFaulty(t, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Commit(ctx, first); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, s)
			fd.set(tt.stmt, tt.commit)
			err = tt.call(s)
			fd.set("", false)
			if !errors.Is(err, errInjected) {
				t.Fatalf("error = %v, want the injected fault", err)
			}
			if !strings.Contains(err.Error(), tt.wantSubstr) || !strings.HasPrefix(err.Error(), "store: ") {
				t.Errorf("error %q lacks its context %q", err, tt.wantSubstr)
			}
			if after := snapshot(t, s); after != before {
				t.Errorf("the failed call changed the database:\nbefore %s\nafter  %s", before, after)
			}
			// The store still works after the fault.
			if _, err := s.Commit(ctx, second); err != nil {
				t.Errorf("commit after the fault: %v", err)
			}
			if d, _ := s.OutboxDepth(ctx); d["hook"] != 2 || d["jsonl"] != 1 {
				t.Errorf("outbox after the retried commit = %v, want hook 2, jsonl 1", d)
			}
		})
	}
}

// snapshot renders every row of every table, to compare a database
// before and after a call.
func snapshot(t *testing.T, s *Store) string {
	t.Helper()
	return dumpRows(t, s,
		`SELECT id, etag, initialised, failures, error_kind, last_error, last_fetch, last_success, next_run, empty_runs FROM sources ORDER BY id`,
		`SELECT source_id, key, relevant, seen_at, result_json FROM items ORDER BY source_id, key`,
		`SELECT sink, event_id, state, attempts, next_attempt, last_error FROM outbox ORDER BY id`,
		`SELECT key, value FROM kv ORDER BY key`)
}

// dumpRows renders the rows of the queries as one string.
func dumpRows(t *testing.T, s *Store, queries ...string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, q := range queries {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " ")))
				b.WriteByte('|')
			}
			b.WriteByte(';')
		}
		rows.Close()
		b.WriteString(" // ")
	}
	return b.String()
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case int64:
		return time.Duration(x).String() // any stable rendering
	default:
		return "?"
	}
}

// TestFailedMigrationRollsBack: a migration that fails leaves the
// database at its old version with none of the failed step's changes (a
// new database: no table at all), and a later open with a working driver
// migrates it.
func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		from    int    // schema version before (0: a new database)
		tables  int    // tables at that version
		wantErr string // the step that fails
	}{
		{"new database", 0, 0, fmt.Sprintf("create schema %d", len(migrations))},
		{"upgrade", 1, 5, "migration 2"}, // sqlite_sequence beside the four
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			if tt.from > 0 {
				oldDatabase(t, path, tt.from, 3)
			}
			_, _, err := openFaulty(t, path, func(fd *faultDriver) { fd.set("CREATE INDEX items_url", false) })
			if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("open with a failing migration: %v, want %s to fail", err, tt.wantErr)
			}
			raw, err := sql.Open("sqlite", dsn(path))
			if err != nil {
				t.Fatal(err)
			}
			var v, tables int
			raw.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
			raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'`).Scan(&tables)
			raw.Close()
			if v != tt.from || tables != tt.tables {
				t.Errorf("after the failed migration: version %d, %d tables; want %d and %d (all in one transaction)", v, tables, tt.from, tt.tables)
			}
			testMigrationFaults(t, path)
		})
	}
}

// testMigrationFaults: the database at path fails to open while reading
// or writing its schema version or committing the migration fails, and
// then opens and migrates.
func testMigrationFaults(t *testing.T, path string) {
	ctx := context.Background()
	for _, stmt := range []string{"PRAGMA user_version", "PRAGMA user_version = "} {
		if _, _, err := openFaulty(t, path, func(fd *faultDriver) { fd.set(stmt, false) }); !errors.Is(err, errInjected) {
			t.Errorf("open with %q failing: %v", stmt, err)
		}
	}
	if _, _, err := openFaulty(t, path, func(fd *faultDriver) { fd.set("", true) }); !errors.Is(err, errInjected) {
		t.Errorf("open with a failing commit: %v", err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != len(migrations) {
		t.Errorf("version after a good open = %d, want %d", v, len(migrations))
	}
}

// TestReadOnlyDatabase: a database that cannot be written is reported
// when opened fresh (the migration cannot run), and once migrated, every
// write fails with the file's name or the call in the error while reads
// go on working.
func TestReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, err := s.Commit(ctx, Commit{SourceID: "s", At: at, Deliver: true, Sinks: []string{"hook"}, Items: []Labeled{labeled("s", "1", true)}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// SQLite's read-only mode: file permissions do not stop root, which
	// CI runs as, so the mode is set on the connection instead.
	ro := func(p string) string { return "file:" + p + "?mode=ro&_pragma=busy_timeout(10000)" }
	fresh := filepath.Join(dir, "fresh.db")
	if err := os.WriteFile(fresh, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, _ := sql.Open("sqlite", ro(fresh))
	if _, err := openDB(ctx, db, nil, fresh); err == nil || !strings.Contains(err.Error(), "create schema") || !strings.Contains(err.Error(), fresh) {
		t.Errorf("open of an empty read-only database: %v, want a failed schema creation naming the file", err)
	}

	db, _ = sql.Open("sqlite", ro(path))
	wr, _ := sql.Open("sqlite", ro(path))
	rs, err := openDB(ctx, db, wr, path)
	if err != nil {
		t.Fatalf("a migrated read-only database must open: %v", err)
	}
	defer rs.Close()
	before := snapshot(t, rs)
	writes := []struct {
		name string
		call func() error
	}{
		{"commit", func() error {
			_, err := rs.Commit(ctx, Commit{SourceID: "s", At: at, Items: []Labeled{labeled("s", "2", true)}})
			return err
		}},
		{"record failure", func() error { _, err := rs.RecordFailure(ctx, "s", fetch.ErrHTTP, "x", at, at); return err }},
		{"record 304", func() error { return rs.RecordNotModified(ctx, "s", at, at) }},
		{"ack", func() error { return rs.Ack(ctx, at, 1) }},
		{"retry", func() error { return rs.Retry(ctx, at, "x", 1) }},
		{"put state", func() error { return rs.PutState(ctx, "k", []byte("v")) }},
		{"update result", func() error { return rs.UpdateResult(ctx, "s", "1", classify.Result{}) }},
		{"forget", func() error { _, err := rs.Forget(ctx, "s", ""); return err }},
	}
	for _, w := range writes {
		err := w.call()
		if err == nil || !strings.Contains(err.Error(), "readonly") || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("%s on a read-only database: %v, want a store error saying readonly", w.name, err)
		}
	}
	if after := snapshot(t, rs); after != before {
		t.Errorf("read-only database changed")
	}
	if due, err := rs.Due(ctx, "hook", at, 10); err != nil || len(due) != 1 {
		t.Errorf("reads from a read-only database: %d due, %v", len(due), err)
	}
}

// TestClosedDatabase: every method of a closed store returns an error
// that says which call failed.
func TestClosedDatabase(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	s.Close()
	at := time.Now()
	calls := []struct {
		name, want string
		call       func() error
	}{
		{"Known", "known items of s", func() error { _, _, err := s.Known(ctx, "s", []string{"k"}, []string{"u"}); return err }},
		{"Commit", "commit s", func() error { _, err := s.Commit(ctx, Commit{SourceID: "s"}); return err }},
		{"Items", "items", func() error { return s.Items(ctx, ItemFilter{}, func(Labeled) error { return nil }) }},
		{"UpdateResult", "update labels of s/k", func() error { return s.UpdateResult(ctx, "s", "k", classify.Result{}) }},
		{"Forget", "forget s", func() error { _, err := s.Forget(ctx, "s", "k"); return err }},
		{"Due", "pending deliveries", func() error { _, err := s.Due(ctx, "hook", at, 1); return err }},
		{"Window", "pending deliveries", func() error { _, err := s.Window(ctx, "hook", at); return err }},
		{"NextAttempt", "next attempt for hook", func() error { _, _, err := s.NextAttempt(ctx, "hook"); return err }},
		{"Ack", "ack deliveries", func() error { return s.Ack(ctx, at, 1) }},
		{"Retry", "reschedule deliveries", func() error { return s.Retry(ctx, at, "x", 1) }},
		{"OutboxDepth", "outbox depth", func() error { _, err := s.OutboxDepth(ctx); return err }},
		{"Source", "source s", func() error { _, err := s.Source(ctx, "s"); return err }},
		{"Sources", "sources", func() error { _, err := s.Sources(ctx); return err }},
		{"SourceStatuses", "sources", func() error { _, err := s.SourceStatuses(ctx); return err }},
		{"RecordFailure", "record failure of s", func() error { _, err := s.RecordFailure(ctx, "s", fetch.ErrHTTP, "x", at, at); return err }},
		{"RecordNotModified", "record 304 of s", func() error { return s.RecordNotModified(ctx, "s", at, at) }},
		{"GetState", `get state "k"`, func() error { _, _, err := s.GetState(ctx, "k"); return err }},
		{"PutState", `put state "k"`, func() error { return s.PutState(ctx, "k", nil) }},
	}
	for _, c := range calls {
		err := c.call()
		if err == nil || !strings.Contains(err.Error(), "store: "+c.want) || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s on a closed store: %v, want %q and closed", c.name, err, "store: "+c.want)
		}
	}
	if _, err := s.SchemaVersion(ctx); err == nil {
		t.Error("SchemaVersion on a closed store: no error")
	}
}

// TestCorruptRows: a row the program cannot read back (stored JSON cut
// short, a counter that is not a number) fails the read with what broke,
// instead of being skipped or returned half empty.
func TestCorruptRows(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, corrupt string
		read          func(s *Store) error
		want          string
	}{
		{"item json in the outbox", `UPDATE items SET item_json = '{"key": '`,
			func(s *Store) error { _, err := s.Due(ctx, "hook", at, 10); return err }, "store: decode item"},
		{"label json in the outbox", `UPDATE items SET result_json = '[1'`,
			func(s *Store) error { _, err := s.Window(ctx, "hook", at); return err }, "store: decode labels"},
		{"item json in a listing", `UPDATE items SET item_json = 'null garbage'`,
			func(s *Store) error { return s.Items(ctx, ItemFilter{}, func(Labeled) error { return nil }) }, "store: decode item"},
		{"attempts not a number", `UPDATE outbox SET attempts = 'many'`,
			func(s *Store) error { _, err := s.Due(ctx, "hook", at, 10); return err }, "store: pending deliveries"},
		{"failures not a number", `UPDATE sources SET failures = 'several'`,
			func(s *Store) error { _, err := s.Source(ctx, "s"); return err }, "store: source s"},
		{"failures not a number in the list", `UPDATE sources SET failures = 'several'`,
			func(s *Store) error { _, err := s.Sources(ctx); return err }, "store: sources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			if _, err := s.Commit(ctx, Commit{SourceID: "s", At: at, Deliver: true, Sinks: []string{"hook"},
				Items: []Labeled{labeled("s", "1", true)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, tt.corrupt); err != nil {
				t.Fatalf("cannot corrupt with %q: %v", tt.corrupt, err)
			}
			err := tt.read(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("read of a corrupt row: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestForgetAndKnownURLs: forgetting one item or a whole source makes its
// items unseen again while their queued deliveries stay; known URLs are
// per source.
func TestForgetAndKnownURLs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, src := range []string{"a", "b"} {
		if _, err := s.Commit(ctx, Commit{SourceID: src, At: at, Deliver: true, Sinks: []string{"hook"},
			Items: []Labeled{labeled(src, "1", true), labeled(src, "2", false), labeled(src, "3", true)}}); err != nil {
			t.Fatal(err)
		}
	}
	known, err := knownURLs(ctx, s, "a", []string{"https://example.org/1", "https://example.org/9"})
	if err != nil || len(known) != 1 || !known["https://example.org/1"] {
		t.Errorf("known urls = %v, %v; want only https://example.org/1", known, err)
	}
	if k, _ := knownURLs(ctx, s, "c", []string{"https://example.org/1"}); len(k) != 0 {
		t.Errorf("known urls of an unknown source = %v", k)
	}
	tests := []struct {
		source, key string
		want        int
		unseen      []string // keys of a unseen afterwards
	}{
		{"a", "2", 1, []string{"2"}},
		{"a", "2", 0, []string{"2"}},
		{"a", "", 2, []string{"1", "2", "3"}},
		{"nobody", "", 0, []string{"1", "2", "3"}},
	}
	for _, tt := range tests {
		n, err := s.Forget(ctx, tt.source, tt.key)
		if err != nil || n != tt.want {
			t.Errorf("Forget(%s, %q) = %d, %v; want %d", tt.source, tt.key, n, err, tt.want)
		}
		u, _ := unseen(ctx, s, "a", []string{"1", "2", "3"})
		var got []string
		for _, k := range []string{"1", "2", "3"} {
			if u[k] {
				got = append(got, k)
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.unseen, ",") {
			t.Errorf("after Forget(%s, %q): unseen %v, want %v", tt.source, tt.key, got, tt.unseen)
		}
	}
	if u, _ := unseen(ctx, s, "b", []string{"1", "2", "3"}); len(u) != 0 {
		t.Errorf("forgetting a touched b: unseen %v", u)
	}
	if d, _ := s.OutboxDepth(ctx); d["hook"] != 4 {
		t.Errorf("outbox after forget = %v, want the 4 queued rows kept", d)
	}
}

// TestStatusStates: the state a report shows for each kind of history.
func TestStatusStates(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		st   SourceState
		want string
	}{
		{SourceState{ID: "new"}, "pending"},
		{SourceState{ID: "ok", LastSuccess: at}, "ok"},
		{SourceState{ID: "f", Failures: 2, ErrorKind: string(fetch.ErrTimeout), LastSuccess: at}, "failing"},
		{SourceState{ID: "b", Failures: 1, ErrorKind: string(fetch.ErrBlocked)}, "blocked"},
		{SourceState{ID: "healed", ErrorKind: string(fetch.ErrBlocked), LastSuccess: at}, "ok"},
	}
	for _, tt := range tests {
		if got := tt.st.Status(); string(got.State) != tt.want || got.ID != tt.st.ID {
			t.Errorf("%s: state %q, want %q", tt.st.ID, got.State, tt.want)
		}
	}
	if !parseTime("not a time").IsZero() || !parseTime("").IsZero() || fmtTime(time.Time{}) != "" {
		t.Error("bad stored times must read as zero")
	}
}

// TestItemsFilter: the filter's fields each narrow the listing, and an
// error from the callback stops it.
func TestItemsFilter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, src := range []string{"a", "b", "a"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if _, err := s.Commit(ctx, Commit{SourceID: src, At: at,
			Items: []Labeled{labeled(src, at.Format("15"), i != 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    ItemFilter
		want string
	}{
		{"all", ItemFilter{}, "a/10 b/11 a/12"},
		{"source", ItemFilter{SourceID: "a"}, "a/10 a/12"},
		{"relevant", ItemFilter{RelevantOnly: true}, "a/10 a/12"},
		{"since", ItemFilter{Since: t0.Add(time.Hour)}, "b/11 a/12"},
		{"until", ItemFilter{Until: t0.Add(time.Hour)}, "a/10"},
	}
	for _, tt := range tests {
		var got []string
		err := s.Items(ctx, tt.f, func(l Labeled) error { got = append(got, l.Item.SourceID+"/"+l.Item.Key); return nil })
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %v (%v), want %s", tt.name, got, err, tt.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Items(ctx, ItemFilter{}, func(Labeled) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: %v after %d calls", err, n)
	}
}
