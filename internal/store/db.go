package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dialect is the SQL flavour of the database behind a Store.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// db is a *sql.DB whose queries are written with ? placeholders, as
// SQLite takes them, and rewritten to $1, $2… for PostgreSQL. Everything
// else in the store's SQL is common to both.
type db struct {
	*sql.DB
	dialect dialect
	// stmts, when set, keeps the store's queries prepared: parsing and
	// planning a statement cost SQLite more than running the small
	// inserts of a commit.
	stmts *stmtCache
	// wr, when set (an SQLite file), is the pool of one connection that
	// transactions run on, and wstmts the statements prepared on it.
	wr     *sql.DB
	wstmts *stmtCache
	// writer, when set (SQLite), is held by the store's open
	// transaction. Every SQLite transaction of the store begins
	// IMMEDIATE, taking the database's one write lock, and a connection
	// that finds it taken polls it, sleeping 1, 2, 5, 10… ms between
	// tries: four workers spent more time asleep there than committing.
	// Waiting here instead, the next transaction begins as soon as the
	// last one ends. Other processes still meet SQLite's busy timeout.
	writer chan struct{}
}

// writerWait is how long a transaction waits for the store's previous
// one before it leaves the wait to SQLite's busy timeout (which then
// fails it with "database is locked" if the lock stays taken).
const writerWait = 10 * time.Second

// tx is a transaction of a db, with the same rewriting.
type tx struct {
	*sql.Tx
	dialect dialect
	stmts   *stmtCache
	db      *sql.DB
	writer  chan struct{} // held until Commit or Rollback
}

func (d *db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	var held chan struct{}
	if d.writer != nil {
		wait := time.NewTimer(writerWait)
		select {
		case d.writer <- struct{}{}:
			held = d.writer
		case <-ctx.Done():
			wait.Stop()
			return nil, ctx.Err()
		case <-wait.C:
		}
		wait.Stop()
	}
	pool, stmts := d.DB, d.stmts
	if d.wr != nil {
		pool, stmts = d.wr, d.wstmts
	}
	t, err := pool.BeginTx(ctx, opts)
	if err != nil {
		if held != nil {
			<-held
		}
		return nil, err
	}
	return &tx{Tx: t, dialect: d.dialect, stmts: stmts, db: pool, writer: held}, nil
}

// Close closes the database (both pools of an SQLite file), its
// statements first.
func (d *db) Close() error {
	d.stmts.close()
	if d.wr == nil {
		return d.DB.Close()
	}
	d.wstmts.close()
	return errors.Join(d.DB.Close(), d.wr.Close())
}

// Commit commits the transaction and lets the store's next one begin.
func (t *tx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

// Rollback rolls the transaction back (after Commit, it does nothing)
// and lets the store's next one begin.
func (t *tx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

func (t *tx) release() {
	if t.writer != nil {
		<-t.writer
		t.writer = nil
	}
}

func (d *db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = d.dialect.bind(q)
	if st := d.stmts.get(ctx, d.DB, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, q, args...)
}

func (d *db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = d.dialect.bind(q)
	if st := d.stmts.get(ctx, d.DB, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, q, args...)
}

func (d *db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	q = d.dialect.bind(q)
	if st := d.stmts.get(ctx, d.DB, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, q, args...)
}

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = t.dialect.bind(q)
	if st := t.stmts.forTx(ctx, t.db, q); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// PrepareContext prepares q on the transaction's connection, for the
// transaction only: for a statement run many times in it.
func (t *tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(ctx, t.dialect.bind(q))
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = t.dialect.bind(q)
	if st := t.stmts.forTx(ctx, t.db, q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	q = t.dialect.bind(q)
	if st := t.stmts.forTx(ctx, t.db, q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// maxStmts bounds the cache: queries built per call (IN lists of every
// length) would otherwise fill it.
const maxStmts = 256

// stmtCache holds prepared statements by query text. database/sql
// prepares each once per connection it runs on. A nil cache prepares
// nothing.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // being prepared
	closed  bool
	bg      sync.WaitGroup // background prepares, waited for by close
}

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared form of q, preparing it when needed, or nil
// when q is better run unprepared (the cache is full, another caller is
// preparing it, or preparing failed: the plain call then reports the
// error).
func (c *stmtCache) get(ctx context.Context, d *sql.DB, q string) *sql.Stmt {
	st, prepare := c.lookup(q, false)
	if !prepare {
		return st
	}
	return c.prepare(ctx, d, q)
}

// forTx is get for a statement run in a transaction. Preparing on d
// takes a connection of its own besides the transaction's, and the pool
// is bounded: a transaction waiting for one while the others wait for
// its write lock would wait for ever. So a statement not prepared yet
// runs unprepared in the transaction while it is prepared in the
// background for the next ones.
func (c *stmtCache) forTx(ctx context.Context, d *sql.DB, q string) *sql.Stmt {
	st, prepare := c.lookup(q, true)
	if prepare {
		go func() {
			defer c.bg.Done()
			c.prepare(context.WithoutCancel(ctx), d, q)
		}()
	}
	return st
}

// lookup returns the cached statement of q, or whether the caller is to
// prepare it (then marked pending, and counted in c.bg when the caller
// prepares it in the background).
func (c *stmtCache) lookup(q string, background bool) (st *sql.Stmt, prepare bool) {
	if c == nil || strings.Contains(q, ";") {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st, false
	}
	if c.closed || c.pending[q] || len(c.stmts)+len(c.pending) >= maxStmts {
		return nil, false
	}
	c.pending[q] = true
	if background {
		c.bg.Add(1)
	}
	return nil, true
}

// prepare prepares q on d, without holding the cache's lock meanwhile
// (it may wait for a free connection), and keeps it.
func (c *stmtCache) prepare(ctx context.Context, d *sql.DB, q string) *sql.Stmt {
	st, err := d.PrepareContext(ctx, q)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
	if err != nil {
		return nil
	}
	if c.closed {
		st.Close()
		return nil
	}
	c.stmts[q] = st
	return st
}

// close closes every statement, once the background prepares are over:
// none of them holds a connection after the store is closed.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.bg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// bind rewrites ? placeholders for the dialect. The store's queries have
// no ? inside string literals.
func (d dialect) bind(q string) string {
	if d != dialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// forUpdateSkipLocked is the row-locking clause of a claim's inner
// select: PostgreSQL lets concurrent claimers pass over each other's rows;
// SQLite has one writer at a time, whose transaction already excludes
// everyone else.
func (d dialect) forUpdateSkipLocked() string {
	if d == dialectPostgres {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}
