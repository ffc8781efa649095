package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestKillLosesNothing commits runs in a child process, kills it with
// SIGKILL right after the commits return, and finds every one of them
// in the database.
func TestKillLosesNothing(t *testing.T) {
	if path := os.Getenv("TREATYWATCH_STORE_CHILD"); path != "" {
		childCommits(path)
		return
	}
	path := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestKillLosesNothing$")
	cmd.Env = append(os.Environ(), "TREATYWATCH_STORE_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	got := ""
	for len(got) < len("committed\n") {
		n, err := out.Read(buf)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child said %q before %v", got, err)
		}
		got += string(buf[:n])
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Sources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != childSources {
		t.Fatalf("%d sources after kill -9, want %d", len(all), childSources)
	}
	var items int
	if err := s.Items(context.Background(), ItemFilter{}, func(Labeled) error { items++; return nil }); err != nil {
		t.Fatal(err)
	}
	if items != childSources {
		t.Fatalf("%d items after kill -9, want %d", items, childSources)
	}
}

const childSources = 50

// childCommits commits one run per source, says so, and waits to be
// killed without closing the store.
func childCommits(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	for i := range childSources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("s%03d", i)
			if _, err := s.Commit(ctx, Commit{SourceID: id, At: time.Now(), Items: []Labeled{labeled(id, "k", i%2 == 0)}}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}()
	}
	wg.Wait()
	fmt.Println("committed")
	time.Sleep(time.Minute)
	os.Exit(3)
}
