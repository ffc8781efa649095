package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// explainOpen turns the driver's terse failure to open or migrate a
// SQLite database ("unable to open database file (14)", "file is not a
// database (26)", "database disk image is malformed (11)", "disk I/O
// error", "database or disk is full") into what happened, where, and
// what to do. Other errors are returned unchanged.
func explainOpen(path string, err error) error {
	if err == nil || path == ":memory:" {
		return err
	}
	dir := filepath.Dir(path)
	// The driver's words only, not the path (which may hold any word).
	msg := strings.ReplaceAll(err.Error(), path, "")
	switch {
	case errors.Is(err, syscall.EROFS) || strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only"):
		return fmt.Errorf("store: %s is read-only: the state database must be writable (remount, fix the file's mode, or point --db or data_dir elsewhere): %w", path, err)
	case strings.Contains(msg, "unable to open database file") || errors.Is(err, os.ErrPermission):
		w := writable(dir)
		if errors.Is(w, syscall.EROFS) {
			return fmt.Errorf("store: the data directory %s is on a read-only file system: the database %s must be writable (remount it read-write, or point --db or data_dir elsewhere): %w",
				dir, filepath.Base(path), err)
		}
		if w != nil {
			return fmt.Errorf("store: permission denied: cannot write the data directory %s (the database %s and its -wal and -shm files live there; %v): fix its owner or mode, or point --db or data_dir elsewhere: %w",
				dir, filepath.Base(path), w, err)
		}
		if f, ferr := os.OpenFile(path, os.O_RDWR, 0); ferr != nil && !errors.Is(ferr, os.ErrNotExist) {
			return fmt.Errorf("store: permission denied: cannot open %s for writing (%v): fix its owner or mode: %w", path, ferr, err)
		} else if f != nil {
			f.Close()
		}
		return fmt.Errorf("store: cannot open %s: %w", path, err)
	case strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") || strings.Contains(msg, "(11)") || strings.Contains(msg, "(26)"):
		return corrupt(path, err)
	case strings.Contains(msg, "disk is full") || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG):
		return fmt.Errorf("store: no space left to write %s (the disk or a file-size limit is full): free space in %s: %w", path, dir, err)
	}
	return err
}

// writable reports why dir cannot take new files, or nil when it can.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".treatywatch-write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// corrupt explains a corrupt database: how to see what is wrong, and how
// to get going again from the newest automatic backup, if there is one,
// or afresh.
func corrupt(path string, err error) error {
	restore := "restore a copy from your backups, or start afresh (a new database treats each source's next fetch as its first run)"
	if backups, _ := Backups(path); len(backups) > 0 {
		b := backups[0]
		return fmt.Errorf("store: %s is corrupt (%v); nothing was changed. See what is wrong with `treatywatch store check --db %s`; to go back to the newest automatic backup (schema version %d, taken %s) run `treatywatch store restore --db %s --from %s` (it moves the damaged files aside, deleting nothing; items seen since the backup are seen again, with the same event ids); or move the database aside and start afresh (a new database treats each source's next fetch as its first run)",
			path, err, path, b.Version, b.Taken.Format(time.RFC3339), path, b.Path)
	}
	return fmt.Errorf("store: %s is corrupt (%v); nothing was changed. See what is wrong with `treatywatch store check --db %s` (or `sqlite3 %s 'PRAGMA integrity_check'`), then move it aside (mv %s %s.corrupt, and its -wal and -shm files if present) and %s",
		path, err, path, path, path, path, restore)
}
