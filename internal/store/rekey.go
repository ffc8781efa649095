package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/treatywatch/treatywatch/fetch/normalize"
)

// keyRule names the item key rule the stored keys follow: "2" is the one
// rule of fetch/normalize for every fetcher (earlier versions keyed feed,
// page and sitemap items each their own way).
const (
	keyRuleKV = "store.key_rule"
	keyRule   = "2"
)

// Rekey moves the items stored under a key an earlier version gave them
// (see normalize.Rekey) to the key the fetchers give them now, with their
// outbox rows, corrections and dashboard facts, so an upgraded
// installation sees them as seen rather than new and delivers nothing
// twice. An item whose new key is stored already is folded into that
// one. Open calls it once per database (it notes the rule in the store);
// calling it again changes nothing. It returns how many items it moved.
func (s *Store) Rekey(ctx context.Context) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: rekey: %w", err)
	}
	defer tx.Rollback()
	if tx.dialect == dialectPostgres {
		// Instances starting together rekey once.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(migrationLock)); err != nil {
			return 0, fmt.Errorf("store: rekey: %w", err)
		}
	}
	type move struct{ source, from, to string }
	var moves []move
	rows, err := tx.QueryContext(ctx, `SELECT `+labeledCols+` FROM items i`)
	if err != nil {
		return 0, fmt.Errorf("store: rekey: %w", err)
	}
	for rows.Next() {
		var src, key, url, title, itemJSON, resultJSON string
		if err := rows.Scan(&src, &key, &url, &title, &itemJSON, &resultJSON); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: rekey: %w", err)
		}
		l, err := decodeLabeled(src, key, url, title, itemJSON, resultJSON)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: rekey %s/%s: %w", src, key, err)
		}
		to, changed := normalize.Rekey(key, normalize.Stored{URL: l.Item.URL, Title: l.Item.Title, Summary: l.Item.Summary})
		if changed {
			moves = append(moves, move{src, key, to})
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("store: rekey: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: rekey: %w", err)
	}
	for _, m := range moves {
		if err := rekeyItem(ctx, tx, m.source, m.from, m.to); err != nil {
			return 0, fmt.Errorf("store: rekey %s/%s: %w", m.source, m.from, err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, keyRuleKV, []byte(keyRule)); err != nil {
		return 0, fmt.Errorf("store: rekey: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: rekey: %w", err)
	}
	return len(moves), nil
}

// rekeyItem moves one item from key from to key to. The key is a column
// of the row (item_json does not repeat it), so the item's JSON stays as
// written: a lean item stays lean, its text hash true.
func rekeyItem(ctx context.Context, tx *tx, source, from, to string) error {
	for _, q := range []string{
		`UPDATE outbox SET item_key = ? WHERE source_id = ? AND item_key = ?`,
		`UPDATE corrections SET item_key = ? WHERE source_id = ? AND item_key = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, to, source, from); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE source_id = ? AND key = ?`, source, to).Scan(&n); err != nil {
		return err
	}
	if n > 0 { // stored under the new key already: one item
		if _, err := tx.ExecContext(ctx, `DELETE FROM items WHERE source_id = ? AND key = ?`, source, from); err != nil {
			return err
		}
		// The corrections it brought are the item's now: touching the
		// row makes the update trigger recompute its effective labels.
		_, err := tx.ExecContext(ctx, `UPDATE items SET key = key WHERE source_id = ? AND key = ?`, source, to)
		return err
	}
	// The dashboard's facts first, so the triggers that follow the item
	// find them under the new key.
	if _, err := tx.ExecContext(ctx, `UPDATE item_facts SET key = ? WHERE source_id = ? AND key = ?`, to, source, from); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE items SET key = ? WHERE source_id = ? AND key = ?`, to, source, from)
	return err
}

// rekeyOnce runs Rekey unless the store notes the current key rule.
func (s *Store) rekeyOnce(ctx context.Context) error {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, keyRuleKV).Scan(&v)
	if err == nil && string(v) == keyRule {
		return nil
	}
	_, err = s.Rekey(ctx)
	return err
}

// readOnly reports whether err is a write refused by a read-only
// database or file system.
func readOnly(err error) bool {
	msg := err.Error()
	return errors.Is(err, syscall.EROFS) || strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only")
}
