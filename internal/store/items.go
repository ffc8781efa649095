package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// Labeled is an item with the classifier's result.
type Labeled struct {
	Item   fetch.Item
	Result classify.Result
	// Lean is set on an item read back that was stored without its text
	// and evidence (an irrelevant item, see storedItem): its Summary and
	// Content are empty, so it cannot be classified again. TextSHA256 is
	// then the hash of the text it had.
	Lean       bool
	TextSHA256 string
}

// Commit is everything one successful source run writes, in one
// transaction.
type Commit struct {
	SourceID   string
	Validators fetch.Validators
	At         time.Time
	NextRun    time.Time
	// Items are the unseen items of the run with their labels. All are
	// stored and marked seen.
	Items []Labeled
	// Deliver queues relevant items for every sink in Sinks. It is false on
	// a source's first run (unless the user asked to deliver existing
	// items): nothing floods the receivers.
	Deliver bool
	Sinks   []string
	// Redeliver re-queues items that were already delivered (backfill
	// --redeliver); without it an item is queued for a sink at most once.
	Redeliver bool
	// Empty is true when the run found no item at all.
	Empty bool
	// DryRun does everything in a transaction that is then rolled back:
	// the counts are what a real commit would write, nothing is kept.
	DryRun bool
	// BySink, when set, gets the outbox rows queued per sink added to it.
	BySink map[string]int
	// KeepHealth leaves the source's health and schedule as they were
	// (backfills write items without touching the daemon's view).
	KeepHealth bool
}

// Commit writes a successful run. It returns how many outbox rows it
// queued.
func (s *Store) Commit(ctx context.Context, c Commit) (queued int, err error) {
	q, err := s.commitAll(ctx, []Commit{c})
	if err != nil {
		return 0, err
	}
	return q[0], nil
}

// commitAll writes the runs cs in one transaction, all or none, and
// returns how many outbox rows each queued. The items of all of them go
// in together: each multi-row statement, and each flush of the search
// index, serves every run instead of one. When one of cs is a dry run,
// nothing is kept.
func (s *Store) commitAll(ctx context.Context, cs []Commit) (queued []int, err error) {
	what := "commit " + cs[0].SourceID
	if len(cs) > 1 {
		what = fmt.Sprintf("commit %d runs (%s and others)", len(cs), cs[0].SourceID)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer tx.Rollback()
	n := 0
	for _, c := range cs {
		n += len(c.Items)
	}
	rows := make([]stamped, 0, n)
	dryRun := false
	for i, c := range cs {
		if err := writeRunSource(ctx, tx, c); err != nil {
			return nil, fmt.Errorf("store: commit %s: %w", c.SourceID, err)
		}
		for _, l := range c.Items {
			rows = append(rows, stamped{Labeled: l, at: c.At, run: i})
		}
		dryRun = dryRun || c.DryRun
	}
	rows = lastOfEachKey(rows)
	var added []stamped
	if tx.dialect == dialectSQLite {
		// New items are inserted on their own and get their read model
		// from writeItemFacts below; items stored before are updated, and
		// the update triggers keep theirs. PostgreSQL keeps the read model
		// by a trigger on every write.
		var known []stamped
		if added, known, err = insertNewItems(ctx, tx, rows); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		if err := upsertItems(ctx, tx, known); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
	} else if err := upsertItems(ctx, tx, rows); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	queued = make([]int, len(cs))
	for _, r := range rows {
		c := cs[r.run]
		if !c.Deliver || !r.Result.Relevant {
			continue
		}
		for _, sink := range c.Sinks {
			n, err := enqueue(ctx, tx, sink, r.Item, c.At, c.Redeliver)
			if err != nil {
				return nil, fmt.Errorf("store: commit %s: queue %s for %s: %w", c.SourceID, r.Item.Key, sink, err)
			}
			queued[r.run] += n
			if c.BySink != nil {
				c.BySink[sink] += n
			}
		}
	}
	if dryRun {
		return queued, nil // rolled back by the deferred Rollback
	}
	if err := writeItemFacts(ctx, tx, added); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return queued, nil
}

// writeRunSource records the run c in its source's row: validators,
// health and schedule, unless c keeps them.
func writeRunSource(ctx context.Context, tx *tx, c Commit) error {
	if err := ensureSource(ctx, tx, c.SourceID); err != nil {
		return err
	}
	if c.KeepHealth {
		return nil
	}
	empty := `0`
	if c.Empty {
		empty = `empty_runs + 1`
	}
	_, err := tx.ExecContext(ctx, `UPDATE sources SET etag = ?, last_modified = ?, initialised = 1,
		failures = 0, error_kind = '', last_error = '', last_fetch = ?, last_success = ?, next_run = ?,
		empty_runs = `+empty+` WHERE id = ?`,
		c.Validators.ETag, c.Validators.LastModified, fmtTime(c.At), fmtTime(c.At), fmtTime(c.NextRun), c.SourceID)
	if err != nil {
		return fmt.Errorf("update source: %w", err)
	}
	return nil
}

// stamped is an item to write with the time its run saw it, and which
// of the commit's runs it came with.
type stamped struct {
	Labeled
	at  time.Time
	run int
}

// lastOfEachKey drops the earlier of items that share a key (the last
// one is what a row per item would keep), keeping their order.
func lastOfEachKey(ls []stamped) []stamped {
	last := make(map[[2]string]int, len(ls))
	for i, l := range ls {
		last[[2]string{l.Item.SourceID, l.Item.Key}] = i
	}
	if len(last) == len(ls) {
		return ls
	}
	out := make([]stamped, 0, len(last))
	for i, l := range ls {
		if last[[2]string{l.Item.SourceID, l.Item.Key}] == i {
			out = append(out, l)
		}
	}
	return out
}

// itemArgs appends the values of the items columns of l.
func itemArgs(args []any, l stamped) ([]any, error) {
	itemJSON, resJSON, err := encodeLabeled(l.Labeled)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", l.Item.Key, err)
	}
	return append(args, l.Item.SourceID, l.Item.Key, l.Item.URL, l.Item.Title, fmtTime(l.Item.Published), fmtTime(l.at),
		boolInt(l.Result.Relevant), l.Result.Rules, string(itemJSON), string(resJSON)), nil
}

const intoItems = `INTO items (source_id, key, url, title, published, seen_at, relevant, rules, item_json, result_json) `

// writtenWith names the items of a failed multi-row statement.
func writtenWith(ls []stamped, err error) error {
	if len(ls) == 1 {
		return fmt.Errorf("item %s: %w", ls[0].Item.Key, err)
	}
	return fmt.Errorf("item %s and %d more written with it: %w", ls[0].Item.Key, len(ls)-1, err)
}

// upsertItems writes items and their labels with multi-row statements.
func upsertItems(ctx context.Context, tx *tx, ls []stamped) error {
	return inChunks(len(ls), func(lo, hi int) error {
		args := make([]any, 0, 10*(hi-lo))
		for _, l := range ls[lo:hi] {
			var err error
			if args, err = itemArgs(args, l); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT `+intoItems+valuesRows(hi-lo, 10)+`
			ON CONFLICT (source_id, key) DO UPDATE SET url = excluded.url, title = excluded.title,
				published = excluded.published, relevant = excluded.relevant, rules = excluded.rules,
				item_json = excluded.item_json, result_json = excluded.result_json`, args...)
		if err != nil {
			return writtenWith(ls[lo:hi], err)
		}
		return nil
	})
}

// insertNewItems inserts the items the store does not have yet (SQLite)
// and returns them, and apart the ones it has, which it leaves alone.
// The statement ignores conflicts instead of aborting on them, so SQLite
// needs no statement journal for it: with one, each multi-row write
// first copied every page it changed to a temporary file. Nothing is
// read back when every row went in, the common case: the transaction is
// the only writer, so the rows a statement inserted are the ones with
// the last ids, and only when some were stored already does it read
// which.
func insertNewItems(ctx context.Context, tx *tx, ls []stamped) (added, known []stamped, err error) {
	var stored []bool // by index into ls, once one is
	err = inChunks(len(ls), func(lo, hi int) error {
		args := make([]any, 0, 10*(hi-lo))
		for _, l := range ls[lo:hi] {
			var err error
			if args, err = itemArgs(args, l); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE `+intoItems+valuesRows(hi-lo, 10), args...)
		if err != nil {
			return writtenWith(ls[lo:hi], err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return writtenWith(ls[lo:hi], err)
		}
		if n == int64(hi-lo) {
			return nil
		}
		if stored == nil {
			stored = make([]bool, len(ls))
		}
		var in map[[2]string]bool
		if n > 0 {
			last, err := res.LastInsertId()
			if err != nil {
				return writtenWith(ls[lo:hi], err)
			}
			if in, err = insertedKeys(ctx, tx, last-n+1, last); err != nil {
				return writtenWith(ls[lo:hi], err)
			}
			if int64(len(in)) != n {
				return writtenWith(ls[lo:hi], fmt.Errorf("%d items inserted, %d found under their ids", n, len(in)))
			}
		}
		for i := lo; i < hi; i++ {
			stored[i] = !in[[2]string{ls[i].Item.SourceID, ls[i].Item.Key}]
		}
		return nil
	})
	if err != nil || stored == nil {
		return ls, nil, err
	}
	for i, l := range ls {
		if stored[i] {
			known = append(known, l)
		} else {
			added = append(added, l)
		}
	}
	return added, known, nil
}

// insertedKeys returns the source and key of the items rows with ids
// from first to last.
func insertedKeys(ctx context.Context, tx *tx, first, last int64) (map[[2]string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT source_id, key FROM items WHERE rowid BETWEEN ? AND ?`, first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	in := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		in[k] = true
	}
	return in, rows.Err()
}

func enqueue(ctx context.Context, tx *tx, sink string, it fetch.Item, at time.Time, redeliver bool) (int, error) {
	id := sinks.EventID(it.SourceID, it.Key, sink)
	conflict := `DO NOTHING`
	if redeliver {
		conflict = `DO UPDATE SET state = 'pending', attempts = 0, next_attempt = excluded.next_attempt,
			last_error = '', created = excluded.created, delivered = ''`
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (sink, event_id, source_id, item_key, next_attempt, created)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sink, event_id) `+conflict,
		sink, id, it.SourceID, it.Key, fmtTime(at), fmtTime(at))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ItemFilter selects stored items.
type ItemFilter struct {
	SourceID     string
	RelevantOnly bool
	Since, Until time.Time // on the seen time
}

// Items calls fn for every stored item that matches f, oldest first.
func (s *Store) Items(ctx context.Context, f ItemFilter, fn func(Labeled) error) error {
	q := `SELECT ` + labeledCols + ` FROM items i WHERE 1=1`
	var args []any
	if f.SourceID != "" {
		q += ` AND i.source_id = ?`
		args = append(args, f.SourceID)
	}
	if f.RelevantOnly {
		q += ` AND i.relevant = 1`
	}
	if !f.Since.IsZero() {
		q += ` AND i.seen_at >= ?`
		args = append(args, fmtTime(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND i.seen_at < ?`
		args = append(args, fmtTime(f.Until))
	}
	q += ` ORDER BY i.seen_at, i.source_id, i.key`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: items: %w", err)
	}
	// Read everything first: fn may write to the store.
	var all []Labeled
	for rows.Next() {
		var src, key, url, title, ij, rj string
		if err := rows.Scan(&src, &key, &url, &title, &ij, &rj); err != nil {
			rows.Close()
			return fmt.Errorf("store: items: %w", err)
		}
		l, err := decodeLabeled(src, key, url, title, ij, rj)
		if err != nil {
			rows.Close()
			return err
		}
		all = append(all, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: items: %w", err)
	}
	for _, l := range all {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// UpdateResult replaces the labels of one stored item (reclassify). It
// does not queue anything.
func (s *Store) UpdateResult(ctx context.Context, sourceID, key string, r classify.Result) error {
	resJSON, err := encodeResult(r, fetch.Item{}) // sentences written out: the text is not at hand
	if err != nil {
		return fmt.Errorf("store: update labels of %s/%s: %w", sourceID, key, err)
	}
	_, err = s.db.ExecContext(ctx, `UPDATE items SET relevant = ?, rules = ?, result_json = ? WHERE source_id = ? AND key = ?`,
		boolInt(r.Relevant), r.Rules, string(resJSON), sourceID, key)
	if err != nil {
		return fmt.Errorf("store: update labels of %s/%s: %w", sourceID, key, err)
	}
	return nil
}

// Forget removes the items of a source (or one item when key is set) so
// they are seen as new again; outbox rows already queued stay. It also
// drops the source's HTTP validators: a conditional fetch would get a 304
// and never read the forgotten items again.
func (s *Store) Forget(ctx context.Context, sourceID, key string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: forget %s: %w", sourceID, err)
	}
	defer tx.Rollback()
	q, args := `DELETE FROM items WHERE source_id = ?`, []any{sourceID}
	if key != "" {
		q += ` AND key = ?`
		args = append(args, key)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("store: forget %s: %w", sourceID, err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET etag = '', last_modified = '' WHERE id = ?`, sourceID); err != nil {
			return 0, fmt.Errorf("store: forget %s: drop validators: %w", sourceID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: forget %s: %w", sourceID, err)
	}
	return int(n), nil
}

// PruneIrrelevant deletes the irrelevant items first seen before before
// (the retention of irrelevant items), except those an analyst corrected
// and those with a record still waiting for a sink. It returns how many
// it deleted. A deleted item that is still in its feed is seen as new on
// the next run, classified again and stored again.
func (s *Store) PruneIrrelevant(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM items WHERE relevant = 0 AND seen_at < ?
		AND NOT EXISTS (SELECT 1 FROM corrections c WHERE c.source_id = items.source_id AND c.item_key = items.key)
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.source_id = items.source_id AND o.item_key = items.key AND o.state = 'pending')`,
		fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune irrelevant items seen before %s: %w", before.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// StoredTreatyEvents returns the depositary's events that stored items
// of treaty status sources carry (keys "untc:..."), in the order they were
// seen: what a restarted process knows of signatures and ratifications.
func (s *Store) StoredTreatyEvents(ctx context.Context) ([]fetch.TreatyEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT i.source_id, i.key, i.item_json FROM items i
		WHERE i.key LIKE 'untc:%' ORDER BY i.seen_at, i.source_id, i.key`)
	if err != nil {
		return nil, fmt.Errorf("store: treaty events: %w", err)
	}
	defer rows.Close()
	out := []fetch.TreatyEvent{}
	for rows.Next() {
		var src, key, ij string
		if err := rows.Scan(&src, &key, &ij); err != nil {
			return nil, fmt.Errorf("store: treaty events: %w", err)
		}
		var si storedItem
		if err := json.Unmarshal([]byte(ij), &si); err != nil {
			return nil, fmt.Errorf("store: treaty events: decode item %s/%s: %w", src, key, err)
		}
		if si.Item.Treaty != nil {
			out = append(out, *si.Item.Treaty)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: treaty events: %w", err)
	}
	return out, nil
}
