package pipeline

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
)

// groupStore records the commits a commitGroup makes; a run of a source
// in fail is refused, and a group holding one with it.
type groupStore struct {
	ItemStore
	mu     sync.Mutex
	groups [][]string // the sources of each CommitRuns call
	alone  []string   // the sources of each CommitRun call
	fail   map[string]bool
}

func (s *groupStore) CommitRuns(_ context.Context, cs []store.RunCommit) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, c := range cs {
		if s.fail[c.SourceID] {
			return nil, errors.New("refused " + c.SourceID)
		}
		ids = append(ids, c.SourceID)
	}
	s.groups = append(s.groups, ids)
	queued := make([]int, len(cs))
	for i, c := range cs {
		queued[i] = len(c.Items)
	}
	return queued, nil
}

func (s *groupStore) CommitRun(_ context.Context, c store.RunCommit) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[c.SourceID] {
		return 0, errors.New("refused " + c.SourceID)
	}
	s.alone = append(s.alone, c.SourceID)
	return len(c.Items), nil
}

func TestCommitGroup(t *testing.T) {
	tests := []struct {
		name       string
		max        int
		open       int      // runs in the pass
		runs       []string // committed at once, each from its own goroutine
		endWithout int      // runs of the pass that end without a commit, after those started
		fail       []string
		long       bool // the wait is a minute: the group must be written without it
		wantGroups int  // CommitRuns calls that succeeded
		wantAlone  []string
		wantErr    []string
	}{
		{name: "runs that end together share a transaction", max: 3, open: 10, runs: []string{"a", "b", "c"}, long: true, wantGroups: 1},
		{name: "a full group is written, the rest later", max: 2, open: 10, runs: []string{"a", "b", "c"}, wantGroups: 1, wantAlone: []string{"c"}},
		{name: "a lone run is written after the wait", max: 4, open: 10, runs: []string{"a"}, wantAlone: []string{"a"}},
		{name: "the last runs of a pass do not wait", max: 16, open: 3, runs: []string{"a", "b", "c"}, long: true, wantGroups: 1},
		{name: "a run that ends without a commit lets the others go", max: 16, open: 3, runs: []string{"a", "b"}, endWithout: 1,
			long: true, wantGroups: 1},
		{name: "a group that fails is written run by run", max: 3, open: 10, runs: []string{"a", "b", "c"}, fail: []string{"b"},
			long: true, wantAlone: []string{"a", "c"}, wantErr: []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &groupStore{fail: map[string]bool{}}
			for _, id := range tt.fail {
				st.fail[id] = true
			}
			g := newCommitGroup(tt.open)
			g.max = tt.max
			// A minute: the runs started together all join one group on a
			// busy machine, and a test that waits it out fails by its
			// deadline. The others wait a tenth of a second.
			g.wait = 100 * time.Millisecond
			if tt.long {
				g.wait = time.Minute
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a run that got as far as its commit is kept even when the pass is cancelled
			var freed atomic.Int32
			ctx = withFreeWorker(ctx, func() { freed.Add(1) })
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				failed []string
			)
			// Start the group's first max runs together; the others once
			// they are queued, so that the full group takes exactly those.
			start := func(id string) {
				wg.Go(func() {
					defer g.ended()
					n, err := g.commit(ctx, st, store.RunCommit{SourceID: id, Items: make([]store.Labeled, 2)})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						failed = append(failed, id)
					} else if n != 2 {
						t.Errorf("%s: queued %d, want 2", id, n)
					}
				})
			}
			first := tt.runs[:min(tt.max, len(tt.runs))]
			for _, id := range first {
				start(id)
			}
			if len(tt.runs) > len(first) {
				waitFor(t, func() bool { st.mu.Lock(); defer st.mu.Unlock(); return len(st.groups) > 0 })
				for _, id := range tt.runs[len(first):] {
					start(id)
				}
			}
			if tt.endWithout > 0 {
				waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) == len(tt.runs) })
				for range tt.endWithout {
					g.ended()
				}
			}
			wg.Wait()
			slices.Sort(failed)
			slices.Sort(st.alone)
			if len(st.groups) != tt.wantGroups || !slices.Equal(st.alone, tt.wantAlone) || !slices.Equal(failed, tt.wantErr) {
				t.Errorf("groups %v, alone %v, failed %v; want %d groups, alone %v, failed %v",
					st.groups, st.alone, failed, tt.wantGroups, tt.wantAlone, tt.wantErr)
			}
			if int(freed.Load()) != len(tt.runs) {
				t.Errorf("%d runs gave their worker back, want %d (each that waited for a commit)", freed.Load(), len(tt.runs))
			}
		})
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}
