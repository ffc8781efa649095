package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
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
}

// tx is a transaction of a db, with the same rewriting.
type tx struct {
	*sql.Tx
	dialect dialect
}

func (d *db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	t, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, dialect: d.dialect}, nil
}

func (d *db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, d.dialect.bind(q), args...)
}

func (d *db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, d.dialect.bind(q), args...)
}

func (d *db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, d.dialect.bind(q), args...)
}

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.dialect.bind(q), args...)
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.dialect.bind(q), args...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.dialect.bind(q), args...)
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
