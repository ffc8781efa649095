package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/pgtest"
)

// oldDatabase writes an SQLite database at path as an older program left
// it: the first v migrations, and n items of source "old".
func oldDatabase(t *testing.T, path string, v, n int) {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	for i := range v {
		if _, err := sdb.Exec(migrations[i]); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	tx, err := sdb.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		_, err := tx.Exec(`INSERT INTO items (source_id, key, url, title, seen_at, item_json, result_json)
			VALUES ('old', ?, ?, ?, '2026-01-01T00:00:00Z', '{}', '{}')`,
			fmt.Sprintf("k%04d", i), fmt.Sprintf("https://example.org/%d", i), strings.Repeat("a title on the convention ", 8))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		t.Fatal(err)
	}
}

// countItems counts the items of a database file, read directly.
func countItems(t *testing.T, path string) (int, int) {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var n, v int
	if err := sdb.QueryRow(`SELECT count(*) FROM items`).Scan(&n); err != nil {
		t.Fatalf("count items of %s: %v", path, err)
	}
	if err := sdb.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return n, v
}

func TestMigrationTakesABackup(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		from       int // schema version of the existing database; 0: none
		oldBackups int // backups already beside it
		wantBackup bool
		wantKept   int
	}{
		{"new database: nothing to back up", 0, 0, false, 0},
		{"old schema: backed up first", 2, 0, true, 1},
		{"older backups pruned to the newest three", 1, 4, true, keepBackups},
		{"current schema: no backup", len(migrations), 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "treatywatch.db")
			if tc.from > 0 {
				oldDatabase(t, path, tc.from, 50)
			}
			for i := range tc.oldBackups {
				old := backupName(path, 1, time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC))
				if err := os.WriteFile(old, []byte("an old backup"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			st, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			got := st.MigrationBackup()
			st.Close()
			if (got != "") != tc.wantBackup {
				t.Fatalf("MigrationBackup() = %q, want a backup: %v", got, tc.wantBackup)
			}
			backups, err := Backups(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(backups) != tc.wantKept {
				t.Errorf("%d backups beside the database, want %d: %+v", len(backups), tc.wantKept, backups)
			}
			if !tc.wantBackup {
				return
			}
			if backups[0].Path != got || backups[0].Version != tc.from {
				t.Errorf("newest backup = %+v, want %s at version %d", backups[0], got, tc.from)
			}
			// The backup is the database as it was, before the migration.
			n, v := countItems(t, got)
			if n != 50 || v != tc.from {
				t.Errorf("backup holds %d items at schema version %d, want 50 at %d", n, v, tc.from)
			}
			// Opening the migrated database again takes no backup.
			st, err = Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if b := st.MigrationBackup(); b != "" {
				t.Errorf("a second open took a backup: %s", b)
			}
		})
	}
}

// damage overwrites the middle of a database's pages with garbage, the
// way a bad disk or a copy of a live file does, without touching its
// header, so that it still opens.
func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if fi.Size() < 8*4096 {
		t.Fatalf("database too small to damage: %d bytes", fi.Size())
	}
	junk := []byte(strings.Repeat("\xff\x00garbage", 512))
	for off := int64(2 * 4096); off+int64(len(junk)) < fi.Size(); off += 3 * 4096 {
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		setup     func(t *testing.T, path string)
		wantOK    bool
		wantErr   bool
		wantItems int64
		wantWord  string // in a problem
	}{
		{"sound", func(t *testing.T, path string) {
			oldDatabase(t, path, len(migrations), 300)
		}, true, false, 300, ""},
		{"damaged pages", func(t *testing.T, path string) {
			oldDatabase(t, path, len(migrations), 300)
			damage(t, path)
		}, false, false, 0, ""},
		{"not a database", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("not sqlite at all ", 2000)), 0o600)
		}, false, false, 0, "not a database"},
		{"no file", func(t *testing.T, path string) {}, false, true, 0, ""},
		{"newer schema than this program", func(t *testing.T, path string) {
			oldDatabase(t, path, len(migrations), 1)
			sdb, _ := sql.Open("sqlite", "file:"+path)
			sdb.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)+1))
			sdb.Close()
		}, false, false, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "treatywatch.db")
			tc.setup(t, path)
			before, _ := os.ReadFile(path)
			h, err := Check(ctx, path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Check: %v, want an error: %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			t.Logf("%+v", h)
			if h.OK() != tc.wantOK {
				t.Errorf("OK() = %v, want %v (problems %q)", h.OK(), tc.wantOK, h.Problems)
			}
			if h.Items != tc.wantItems {
				t.Errorf("items = %d, want %d", h.Items, tc.wantItems)
			}
			if tc.wantWord != "" && !strings.Contains(strings.Join(h.Problems, "\n"), tc.wantWord) {
				t.Errorf("problems %q do not say %q", h.Problems, tc.wantWord)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("Check changed the database file")
			}
		})
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)

	// An installation migrated from version 2 has a backup; its database
	// is then damaged.
	setup := func(t *testing.T) (path, backup string) {
		path = filepath.Join(t.TempDir(), "treatywatch.db")
		oldDatabase(t, path, 2, 300)
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		backup = st.MigrationBackup()
		st.Close()
		damage(t, path)
		return path, backup
	}

	t.Run("damaged database replaced by its backup", func(t *testing.T) {
		path, backup := setup(t)
		if h, _ := Check(ctx, path); h.OK() {
			t.Fatal("the damaged database checks sound")
		}
		moved, err := Restore(ctx, path, backup, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(moved) == 0 || !strings.HasSuffix(moved[0], ".replaced-20261206T030000Z") {
			t.Errorf("moved aside: %q", moved)
		}
		for _, m := range moved {
			if _, err := os.Stat(m); err != nil {
				t.Errorf("moved file %s: %v", m, err)
			}
		}
		if h, err := Check(ctx, path); err != nil || !h.OK() || h.Items != 300 {
			t.Errorf("restored database: %+v, %v", h, err)
		}
		// It opens, migrates again (taking a new backup) and works.
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if v, _ := st.SchemaVersion(ctx); v != len(migrations) {
			t.Errorf("schema version %d after opening, want %d", v, len(migrations))
		}
	})

	t.Run("refused while a process uses the database", func(t *testing.T) {
		path, backup := setup(t)
		before, _ := os.ReadFile(path)
		lock, err := lockFile(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		_, err = Restore(ctx, path, backup, now)
		if err == nil || !strings.Contains(err.Error(), "in use by process") {
			t.Fatalf("Restore = %v, want in use by a process", err)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Error("the refused restore changed the database")
		}
	})

	t.Run("a damaged backup is refused", func(t *testing.T) {
		path, backup := setup(t)
		damage(t, backup)
		if _, err := Restore(ctx, path, backup, now); err == nil || !strings.Contains(err.Error(), "not sound") {
			t.Fatalf("Restore = %v, want the backup refused", err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the database was moved although the restore was refused: %v", err)
		}
	})
}

// The message for a corrupt database points at the newest backup and
// the command that restores it.
func TestCorruptMessageNamesTheBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "treatywatch.db")
	os.WriteFile(path, []byte(strings.Repeat("not sqlite at all ", 2000)), 0o600)
	older := backupName(path, 3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	newer := backupName(path, 4, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	for _, b := range []string{older, newer} {
		os.WriteFile(b, []byte("x"), 0o600)
	}
	_, err := Open(context.Background(), path)
	if err == nil {
		t.Fatal("opened")
	}
	for _, want := range []string{"is corrupt", "treatywatch store check --db " + path, "treatywatch store restore --db " + path + " --from " + newer, "schema version 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not say %q: %v", want, err)
		}
	}
}

// On PostgreSQL, Check reaches the server and reads the schema version
// and counts without migrating an empty database.
func TestCheckPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	h, err := Check(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if h.OK() || len(h.Problems) == 0 {
		t.Errorf("an empty database checks sound: %+v", h)
	}
	st, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	h, err = Check(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if !h.OK() || h.Version != len(pgMigrations) || h.Driver != "postgres" {
		t.Errorf("a migrated database: %+v", h)
	}
	if _, err := Check(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Error("an unreachable server checks without an error")
	}
}
