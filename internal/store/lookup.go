package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/treatywatch/treatywatch/fetch"
)

// inChunks runs q, which ends in "IN (" with a placeholder list to
// fill, for the source id and every chunk of vals, and calls scan on
// each row.
func (s *Store) inChunks(ctx context.Context, q, id string, vals []string, scan func(interface{ Scan(...any) error }) error) error {
	const chunk = 500
	for start := 0; start < len(vals); start += chunk {
		part := vals[start:min(start+chunk, len(vals))]
		args := make([]any, 0, len(part)+1)
		args = append(args, id)
		for _, v := range part {
			args = append(args, v)
		}
		rows, err := s.db.QueryContext(ctx, q+`?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// StoredItems returns the stored items of source id among keys, by key;
// items stored without their text (irrelevant ones) are left out, so a
// caller reads them afresh.
func (s *Store) StoredItems(ctx context.Context, id string, keys []string) (map[string]fetch.Item, error) {
	items := map[string]fetch.Item{}
	err := s.inChunks(ctx, `SELECT `+labeledCols+` FROM items i WHERE i.source_id = ? AND i.key IN (`, id, keys,
		func(row interface{ Scan(...any) error }) error {
			var src, key, url, title, ij, rj string
			if err := row.Scan(&src, &key, &url, &title, &ij, &rj); err != nil {
				return err
			}
			l, err := decodeLabeled(src, key, url, title, ij, rj)
			if err != nil {
				return err
			}
			if !l.Lean {
				items[l.Item.Key] = l.Item
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: items of %s: %w", id, err)
	}
	return items, nil
}

// Known tells which of keys the store has for source id, and the key
// stored under each of urls that stored items of the source have (the
// smallest when several share a URL), in one query, which runs in one
// of two shapes whatever the number of keys (the lists are padded with
// NULL, which matches nothing), so that it stays prepared.
func (s *Store) Known(ctx context.Context, id string, keys, urls []string) (stored map[string]bool, byURL map[string]string, err error) {
	stored, byURL = map[string]bool{}, map[string]string{}
	for lo := 0; lo < max(len(keys), len(urls)); lo += lookupChunk {
		ks, us := keys[min(lo, len(keys)):min(lo+lookupChunk, len(keys))], urls[min(lo, len(urls)):min(lo+lookupChunk, len(urls))]
		size := lookupChunk
		if len(ks) <= lookupSmall && len(us) <= lookupSmall {
			size = lookupSmall
		}
		list := "?" + strings.Repeat(",?", size-1)
		args := make([]any, 0, 2+2*size)
		args = append(args, id)
		args = padded(args, ks, size)
		args = append(args, id)
		args = padded(args, us, size)
		rows, err := s.db.QueryContext(ctx, `SELECT 0, key, url FROM items WHERE source_id = ? AND key IN (`+list+`)
			UNION ALL SELECT 1, key, url FROM items WHERE source_id = ? AND url IN (`+list+`)`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("store: known items of %s: %w", id, err)
		}
		for rows.Next() {
			var byKey int
			var k, u string
			if err := rows.Scan(&byKey, &k, &u); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("store: known items of %s: %w", id, err)
			}
			if byKey == 0 {
				stored[k] = true
			} else if old, ok := byURL[u]; !ok || k < old {
				byURL[u] = k
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("store: known items of %s: %w", id, err)
		}
	}
	return stored, byURL, nil
}

// The lists of a Known query hold lookupSmall or lookupChunk values.
const (
	lookupSmall = 16
	lookupChunk = 64
)

// padded appends vals to args and then NULLs up to size values.
func padded(args []any, vals []string, size int) []any {
	for _, v := range vals {
		args = append(args, v)
	}
	for range size - len(vals) {
		args = append(args, nil)
	}
	return args
}
