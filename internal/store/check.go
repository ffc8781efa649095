package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Health is what Check found in a database.
type Health struct {
	Where   string // the database, without credentials
	Driver  string // "sqlite" or "postgres"
	Version int    // its schema version
	Latest  int    // the schema version this program writes
	// Problems are what the integrity check reported; none when the
	// database is sound.
	Problems []string
	Items    int64 // stored items
	Pending  int64 // outbox records not yet delivered
	Backups  []Backup
}

// OK reports whether the database is sound and of a schema this program
// can use.
func (h Health) OK() bool { return len(h.Problems) == 0 && h.Version <= h.Latest }

// Check examines the database named as for Open without changing it: an
// SQLite file is opened read-only and checked page by page (PRAGMA
// integrity_check), and its automatic backups are listed; a PostgreSQL
// database is reached and its schema version read (its integrity and
// backups are the server's business: pg_dump, pg_amcheck). An error means
// the database could not be examined at all.
func Check(ctx context.Context, name string) (Health, error) {
	if IsPostgres(name) {
		return checkPostgres(ctx, name)
	}
	path := strings.TrimPrefix(name, "sqlite:")
	h, err := checkSQLite(ctx, path)
	if err != nil {
		return h, err
	}
	h.Backups, err = Backups(path)
	return h, err
}

// checkSQLite examines the SQLite file at path (its backups are not
// listed: Restore checks a backup with it).
func checkSQLite(ctx context.Context, path string) (Health, error) {
	h := Health{Where: path, Driver: dialectSQLite.String(), Latest: len(migrations)}
	fi, err := os.Stat(path)
	if err != nil {
		return h, fmt.Errorf("store: check %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return h, fmt.Errorf("store: check %s: not a regular file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	sdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return h, fmt.Errorf("store: check %s: %w", path, err)
	}
	defer sdb.Close()
	if err := sdb.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&h.Version); err != nil {
		h.Problems = append(h.Problems, "cannot read the schema version: "+err.Error())
		return h, nil
	}
	rows, err := sdb.QueryContext(ctx, `PRAGMA integrity_check(100)`)
	if err != nil {
		h.Problems = append(h.Problems, "the integrity check stopped: "+err.Error())
		return h, nil
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			h.Problems = append(h.Problems, "integrity check: "+err.Error())
			break
		}
		if line != "ok" {
			h.Problems = append(h.Problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		h.Problems = append(h.Problems, "integrity check: "+err.Error())
	}
	if len(h.Problems) == 0 && h.Version > 0 {
		countRows(ctx, sdb, &h)
	}
	return h, nil
}

func checkPostgres(ctx context.Context, dsn string) (Health, error) {
	s, err := openPostgresUnmigrated(ctx, dsn)
	if err != nil {
		return Health{Where: redact(dsn), Driver: dialectPostgres.String()}, err
	}
	defer s.Close()
	h := Health{Where: s.where, Driver: dialectPostgres.String(), Latest: len(pgMigrations)}
	v, err := pgSchemaVersion(ctx, s.db)
	if err != nil {
		h.Problems = append(h.Problems, "cannot read the schema version (is this a treatywatch database?): "+err.Error())
		return h, nil
	}
	h.Version = v
	countRows(ctx, s.db.DB, &h)
	return h, nil
}

// countRows fills in the numbers of items and pending records; a table
// that cannot be read is a problem.
func countRows(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, h *Health) {
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&h.Items); err != nil {
		h.Problems = append(h.Problems, "cannot read the items: "+err.Error())
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE state = 'pending'`).Scan(&h.Pending); err != nil {
		h.Problems = append(h.Problems, "cannot read the outbox: "+err.Error())
	}
}
