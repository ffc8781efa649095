package store

import (
	"context"
	"fmt"
	"strings"
)

// copyTables are the tables Copy moves, with the columns it moves, in
// an order that keeps references valid. Leases are not copied: the
// destination starts with no claims. The outbox keeps its order but
// takes new ids.
var copyTables = []struct {
	name, cols, order string
	// conflict, when set, ends the insert: the destination has the row
	// already (kv: the key rule a new store notes when it opens).
	conflict string
}{
	{"sources", "id, etag, last_modified, initialised, failures, error_kind, last_error, last_fetch, last_success, next_run, empty_runs, due", "id", ""},
	{"items", "source_id, key, url, title, published, seen_at, relevant, rules, item_json, result_json", "source_id, key", ""},
	{"outbox", "sink, event_id, source_id, item_key, state, attempts, next_attempt, last_error, created, delivered", "id", ""},
	{"corrections", "source_id, item_key, label_json, machine_json, rules, score, reason, note, who, at", "id", ""},
	{"kv", "key, value", "key", ` ON CONFLICT (key) DO UPDATE SET value = excluded.value`},
}

// CopyReport says how many rows Copy moved per table.
type CopyReport map[string]int

// Copy moves an installation's state from one store to another (an
// SQLite file to a PostgreSQL database, say): sources with their
// validators, health and schedule, items with their labels, the outbox
// with what was delivered and what is pending, and the sinks' state. The
// destination must be empty; everything is written in one transaction,
// so a failed copy leaves it empty. progress, when set, is called after
// each table.
func Copy(ctx context.Context, from, to *Store, progress func(table string, rows int)) (CopyReport, error) {
	var n int
	if err := to.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM sources) + (SELECT COUNT(*) FROM items) + (SELECT COUNT(*) FROM outbox)`).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: copy to %s: %w", to, err)
	}
	if n > 0 {
		return nil, fmt.Errorf("store: copy to %s: the destination already holds %d sources, items or deliveries; copy only into an empty store", to, n)
	}
	tx, err := to.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: copy to %s: %w", to, err)
	}
	defer tx.Rollback()
	rep := CopyReport{}
	for _, tb := range copyTables {
		cols := strings.Split(tb.cols, ", ")
		rows, err := from.db.QueryContext(ctx, `SELECT `+tb.cols+` FROM `+tb.name+` ORDER BY `+tb.order)
		if err != nil {
			return nil, fmt.Errorf("store: copy %s from %s: %w", tb.name, from, err)
		}
		insert := `INSERT INTO ` + tb.name + ` (` + tb.cols + `) VALUES (?` + strings.Repeat(", ?", len(cols)-1) + `)` + tb.conflict
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		count := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: copy %s from %s: %w", tb.name, from, err)
			}
			if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: copy %s to %s: row %d: %w", tb.name, to, count+1, err)
			}
			count++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: copy %s from %s: %w", tb.name, from, err)
		}
		rep[tb.name] = count
		if progress != nil {
			progress(tb.name, count)
		}
	}
	if to.db.dialect == dialectSQLite {
		// PostgreSQL's triggers kept the dashboard's read model of the
		// rows copied; an SQLite store's commits write it themselves.
		if _, err := tx.ExecContext(ctx, sqliteReadModel); err != nil {
			return nil, fmt.Errorf("store: copy to %s: dashboard facts: %w", to, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: copy to %s: %w", to, err)
	}
	return rep, nil
}
