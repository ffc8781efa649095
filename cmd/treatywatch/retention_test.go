package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// TestRetentionPrunesIrrelevant: with retention.irrelevant set, a once
// pass deletes the irrelevant items first seen longer ago than that, and
// keeps the relevant ones and the recent ones.
func TestRetentionPrunesIrrelevant(t *testing.T) {
	srv := serveFeed(t, treatyFeed(4)) // 4 treaty items, 4 football results
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/desk.rss")}, "")
	conf, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(conf, []byte("retention:\n  irrelevant: 24h\n")...), 0o644)
	ctx := context.Background()
	count := func() (relevant, irrelevant int) {
		db, err := sql.Open("sqlite", filepath.Join(dir, "treatywatch.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(`SELECT COALESCE(SUM(relevant), 0), COUNT(*) - COALESCE(SUM(relevant), 0) FROM items`).Scan(&relevant, &irrelevant); err != nil {
			t.Fatal(err)
		}
		return relevant, irrelevant
	}
	once := func() {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"once", "--config", cfg, "--log-level", "error"}, nil, &out, &errOut); code != 0 {
			t.Fatalf("once: %d\n%s", code, errOut.String())
		}
	}
	once()
	rel, irr := count()
	if rel == 0 || irr == 0 {
		t.Fatalf("first pass stored %d relevant and %d irrelevant items: the test shows nothing", rel, irr)
	}
	once() // nothing is old enough yet
	if r, i := count(); r != rel || i != irr {
		t.Fatalf("a pass pruned recent items: %d relevant, %d irrelevant left of %d and %d", r, i, rel, irr)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "treatywatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE items SET seen_at = '2020-01-01T00:00:00.000000000Z'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	once()
	if r, i := count(); r != rel || i != 0 {
		t.Errorf("after the retention: %d relevant, %d irrelevant items, want %d and 0", r, i, rel)
	}
}
