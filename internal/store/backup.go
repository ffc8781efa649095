package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// keepBackups is how many automatic backups of an SQLite database are
// kept beside it; older ones are removed when a new one is taken.
const keepBackups = 3

// backupStamp is the time in a backup's file name (UTC, sortable).
const backupStamp = "20060102T150405Z"

// Backup is a copy of an SQLite database taken before a migration.
type Backup struct {
	Path    string
	Version int // the schema version it holds
	Taken   time.Time
	Size    int64
}

// backupName is the file a backup of the database at path, at schema
// version v, taken at t, is written to: beside the database, so that
// restoring is one mv.
func backupName(path string, v int, t time.Time) string {
	return fmt.Sprintf("%s.backup-v%d-%s", path, v, t.UTC().Format(backupStamp))
}

// backupBeforeMigration copies the database (a consistent snapshot,
// through VACUUM INTO) before migrations change it, and removes all but
// the newest keepBackups backups. It returns the backup's path.
func (s *Store) backupBeforeMigration(ctx context.Context, path string, v int, now time.Time) (string, error) {
	name := backupName(path, v, now)
	if _, err := os.Stat(name); err == nil {
		return name, nil // taken this second already (an earlier attempt)
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, name); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("back up %s before migrating it from schema version %d: %w (nothing was changed; free space in %s or move the database where there is room)",
			path, v, err, filepath.Dir(path))
	}
	backups, err := Backups(path)
	if err != nil {
		return name, nil // the backup exists; pruning is a nicety
	}
	for _, b := range backups[min(keepBackups, len(backups)):] {
		os.Remove(b.Path)
	}
	return name, nil
}

// Backups lists the automatic backups of the SQLite database at path,
// newest first.
func Backups(path string) ([]Backup, error) {
	matches, err := filepath.Glob(globEscape(path) + ".backup-v*-*")
	if err != nil {
		return nil, fmt.Errorf("store: list backups of %s: %w", path, err)
	}
	var out []Backup
	for _, m := range matches {
		rest := strings.TrimPrefix(m, path+".backup-v")
		ver, stamp, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		v, err := strconv.Atoi(ver)
		if err != nil {
			continue
		}
		t, err := time.Parse(backupStamp, stamp)
		if err != nil {
			continue
		}
		fi, err := os.Stat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, Backup{Path: m, Version: v, Taken: t, Size: fi.Size()})
	}
	slices.SortFunc(out, func(a, b Backup) int { return b.Taken.Compare(a.Taken) })
	return out, nil
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Restore puts the backup at backup in place of the SQLite database at
// path: it refuses while another process uses the database (its lock
// file), checks that the backup is sound, moves the database and its -wal
// and -shm files aside (NAME.replaced-STAMP, nothing is deleted), and
// copies the backup in. It returns where the replaced files went.
func Restore(ctx context.Context, path, backup string, now time.Time) ([]string, error) {
	lock, err := lockFile(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	h, err := checkSQLite(ctx, backup)
	if err != nil {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if !h.OK() {
		return nil, fmt.Errorf("store: restore: the backup %s is not sound either: %s", backup, strings.Join(h.Problems, "; "))
	}
	// Copy first (beside the database, so the rename is atomic), then
	// move the old files aside, then rename the copy in.
	tmp := path + ".restoring"
	os.Remove(tmp) // left by an interrupted restore
	if err := copyFile(backup, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: restore %s: %w", backup, err)
	}
	var moved []string
	stamp := now.UTC().Format(backupStamp)
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			continue
		}
		aside := name + ".replaced-" + stamp
		if err := os.Rename(name, aside); err != nil {
			os.Remove(tmp)
			return moved, fmt.Errorf("store: restore: move %s aside: %w", name, err)
		}
		moved = append(moved, aside)
	}
	if err := os.Rename(tmp, path); err != nil {
		return moved, fmt.Errorf("store: restore: put %s in place: %w", backup, err)
	}
	return moved, nil
}

// copyFile copies src to a new file dst and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
