package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExclusiveWaitsForTheHolderAndVoidsItsLeases: a second store on the
// same SQLite file waits while the first holds the lock (told who holds
// it), gives up when its context ends, and once the first closes takes
// the lock and voids the leases the first left behind.
func TestExclusiveWaitsForTheHolderAndVoidsItsLeases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Exclusive(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Exclusive(ctx, nil); err != nil { // again: a no-op
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if ok, err := a.LockWindow(ctx, "daily", now, time.Hour); !ok || err != nil {
		t.Fatalf("first window lock: %v %v", ok, err)
	}

	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if ok, _ := b.LockWindow(ctx, "daily", now.Add(time.Minute), time.Hour); ok {
		t.Error("a second owner took a window lock that is held")
	}
	var told string
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = b.Exclusive(short, func(h string) { told = h })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for") {
		t.Errorf("Exclusive while held: %v, want a wait that ends with the context", err)
	}
	if !strings.Contains(told, "process ") {
		t.Errorf("waiting was told %q, want the holder's description", told)
	}

	a.Close() // releases the file lock, leaving its window lease behind
	if err := b.Exclusive(ctx, nil); err != nil {
		t.Fatalf("Exclusive after the holder closed: %v", err)
	}
	if ok, err := b.LockWindow(ctx, "daily", now.Add(time.Minute), time.Hour); !ok || err != nil {
		t.Errorf("window lock after the old holder's leases were voided: %v %v", ok, err)
	}
	if err := b.UnlockWindow(ctx, "daily"); err != nil {
		t.Error(err)
	}
	if b.Driver() == "" || b.String() != path {
		t.Errorf("Driver %q, String %q", b.Driver(), b.String())
	}
}
