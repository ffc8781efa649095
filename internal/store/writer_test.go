package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWriterTurns: an SQLite store's transactions take turns in the
// process: the next begins when the last commits or rolls back (also
// when it rolls back after a commit), a wait ends with its context, and
// many concurrent commits all land.
func TestWriterTurns(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	first, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.db.BeginTx(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a transaction began while another was open: %v", err)
	}
	began := make(chan error, 1)
	go func() {
		second, err := s.db.BeginTx(ctx, nil)
		if err == nil {
			err = second.Rollback()
		}
		began <- err
	}()
	select {
	case err := <-began:
		t.Fatalf("the second transaction did not wait for the first: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	first.Rollback() // after Commit: must not let a third one in twice
	if err := <-began; err != nil {
		t.Fatalf("the second transaction after the first committed: %v", err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				src := fmt.Sprintf("src-%d", w)
				if _, err := s.Commit(ctx, Commit{SourceID: src, At: time.Now(),
					Items: []Labeled{labeled(src, fmt.Sprint(i), i%2 == 0)}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM item_facts`).Scan(&n); err != nil || n != 80 {
		t.Fatalf("%d items with facts, %v; want 80", n, err)
	}
	if len(s.db.writer) != 0 {
		t.Fatal("the store's writer turn is still held after every transaction ended")
	}
}
