package store

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mountTmpfs mounts a tmpfs of the given options on a new directory until
// the test ends; it skips (fails under CI=true) where mounting is not
// allowed.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		msg := "cannot mount a tmpfs here (" + strings.TrimSpace(string(out)) + "): run as root to test disk faults"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// TestDiskFaultsExplained opens the store where the disk says no and
// checks the error says what happened, where, and what to do.
func TestDiskFaultsExplained(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the database path
		want  []string
	}{
		{"unwritable directory", func(t *testing.T) string {
			if os.Geteuid() != 0 {
				dir := filepath.Join(t.TempDir(), "ro")
				os.Mkdir(dir, 0o555)
				return filepath.Join(dir, "treatywatch.db")
			}
			// Root ignores file modes: a read-only mount says no to it.
			return filepath.Join(mountTmpfs(t, "ro,size=1m"), "treatywatch.db")
		}, []string{"read-only|permission denied", "treatywatch.db", "point --db or data_dir elsewhere"}},
		{"not a database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "treatywatch.db")
			os.WriteFile(p, []byte(strings.Repeat("not sqlite at all ", 2000)), 0o600)
			return p
		}, []string{"is corrupt", "treatywatch.db", "integrity_check", "move it aside"}},
		{"full disk", func(t *testing.T) string {
			dir := mountTmpfs(t, "size=64k")
			// Fill it up.
			f, _ := os.Create(filepath.Join(dir, "filler"))
			f.Write(make([]byte, 64<<10))
			f.Close()
			return filepath.Join(dir, "treatywatch.db")
		}, []string{"no space left", "treatywatch.db", "free space"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t)
			st, err := Open(ctx, path)
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			t.Logf("message: %v", err)
			for _, w := range tc.want {
				ok := false
				for _, alt := range strings.Split(w, "|") {
					ok = ok || strings.Contains(err.Error(), alt)
				}
				if !ok {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
		})
	}
}
