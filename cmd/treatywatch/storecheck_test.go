package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treatywatch/treatywatch/internal/store"
)

// A damaged database found by `store check`, put back from its backup by
// `store restore`, and usable again.
func TestStoreCheckAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "treatywatch.db")
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}

	// A database with some state, and a backup of it as a migration
	// would have taken it.
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := st.PutState(ctx, fmt.Sprintf("state-%03d", i), bytes.Repeat([]byte("x"), 900)); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	backup := db + ".backup-v4-20261201T000000Z"
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`VACUUM INTO ?`, backup); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	code, out, errOut := cli("store", "check", "--db", db)
	if code != 0 || !strings.Contains(out, "integrity ok") || !strings.Contains(out, backup) {
		t.Fatalf("check of a sound database: exit %d\n%s%s", code, out, errOut)
	}

	// Damage its pages (not its header), as a bad disk would.
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	for off := int64(2 * 4096); off+4096 < fi.Size(); off += 3 * 4096 {
		f.WriteAt(bytes.Repeat([]byte("\xff\x00junk"), 600), off)
	}
	f.Close()

	code, out, errOut = cli("store", "check", "--db", db)
	t.Logf("check of the damaged database:\n%s%s", out, errOut)
	if code != 1 || strings.Contains(out, "integrity ok") {
		t.Fatalf("check of a damaged database: exit %d, want 1 and problems", code)
	}
	if want := "treatywatch store restore --db " + db + " --from " + backup; !strings.Contains(errOut, want) {
		t.Errorf("check does not say how to restore (%q)", want)
	}

	code, out, errOut = cli("store", "restore", "--db", db, "--from", backup)
	t.Logf("restore:\n%s%s", out, errOut)
	if code != 0 || !strings.Contains(out, "moved aside") {
		t.Fatalf("restore: exit %d", code)
	}
	if code, out, errOut = cli("store", "check", "--db", db); code != 0 || !strings.Contains(out, "integrity ok") {
		t.Fatalf("check after the restore: exit %d\n%s%s", code, out, errOut)
	}
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatalf("open after the restore: %v", err)
	}
	defer st.Close()
	if v, ok, err := st.GetState(ctx, "state-299"); err != nil || !ok || len(v) != 900 {
		t.Errorf("state after the restore: %d bytes, %v, %v", len(v), ok, err)
	}
}

func TestStoreCommandUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"restore without a backup", []string{"store", "restore", "--db", "x.db"}, 2, "usage: treatywatch store restore"},
		{"restore on PostgreSQL", []string{"store", "restore", "--db", "postgres://u@h/db", "--from", "b"}, 1, "pg_restore"},
		{"check of a missing file", []string{"store", "check", "--db", "/nonexistent/treatywatch.db"}, 1, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
				t.Errorf("exit %d, want %d; output does not say %q:\n%s%s", code, tc.code, tc.want, out.String(), errb.String())
			}
		})
	}
}
