package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
)

// A one-off pass (RunAll) commits the runs of its sources in groups: the
// runs that end at about the same time share one transaction
// (store.CommitRuns), whose multi-row statements write the items of all
// of them, where one transaction per run cost a statement per table,
// a flush of the search index and a write of the pages every commit
// touches for each run. A run waiting for its group's commit gives its
// worker back (freeWorker), so the next sources are fetched and parsed
// meanwhile. Each run still waits for the commit before it reports, so
// a report, an outbox kick and the pass's exit code say what is stored,
// and the delivery promise is unchanged: a process killed before a group
// commits has stored none of its runs, whose sources keep the state of
// their previous run and are fetched again.
const (
	// commitGroupRuns is how many runs a group takes at most: enough
	// for the statements to be large, few enough that the items waiting
	// stay small.
	commitGroupRuns = 16
	// commitGroupWait is how long a run waits at most for others to
	// share its transaction.
	commitGroupWait = 50 * time.Millisecond
	// commitGroupTimeout bounds the writing of one group.
	commitGroupTimeout = time.Minute
)

// commitGroup gathers the commits of the runs of one pass and writes
// them in groups: when a group is full, when every run of the pass that
// has not ended is waiting in it (none else can join), or wait after its
// first run. A group that fails as a whole is written again run by run,
// so that each run gets its own outcome.
type commitGroup struct {
	max  int
	wait time.Duration

	mu      sync.Mutex
	st      ItemStore // the store of the runs (one Ingester's)
	pending []*groupedRun
	open    int         // runs of the pass that have not ended
	timer   *time.Timer // flushes a wait after the first pending run

	writing sync.Mutex // one group at a time, in the order taken
}

// groupedRun is one run waiting for its group's commit.
type groupedRun struct {
	c      store.RunCommit
	ctx    context.Context
	queued int
	err    error
	done   chan struct{}
}

// newCommitGroup returns the group of a pass of runs runs.
func newCommitGroup(runs int) *commitGroup {
	return &commitGroup{max: commitGroupRuns, wait: commitGroupWait, open: runs}
}

// commit queues c for st and returns what its commit queued once its
// group is written. It gives the run's worker back first. The group is
// written even when ctx ends meanwhile (a run that got this far is worth
// keeping), under a deadline of its own.
func (g *commitGroup) commit(ctx context.Context, st ItemStore, c store.RunCommit) (int, error) {
	freeWorker(ctx)
	r := &groupedRun{c: c, ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
	g.mu.Lock()
	g.st = st
	g.pending = append(g.pending, r)
	now := len(g.pending) >= g.max || len(g.pending) >= g.open
	if !now && g.timer == nil {
		g.timer = time.AfterFunc(g.wait, g.flush)
	}
	g.mu.Unlock()
	if now {
		g.flush()
	}
	<-r.done
	return r.queued, r.err
}

// ended counts a run of the pass out, committed or not. When the runs
// left are all waiting in the group, it is written at once.
func (g *commitGroup) ended() {
	g.mu.Lock()
	g.open--
	now := len(g.pending) > 0 && len(g.pending) >= g.open
	g.mu.Unlock()
	if now {
		go g.flush()
	}
}

// flush writes the runs queued so far.
func (g *commitGroup) flush() {
	g.writing.Lock()
	defer g.writing.Unlock()
	g.mu.Lock()
	runs, st := g.pending, g.st
	g.pending = nil
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.mu.Unlock()
	if len(runs) == 0 {
		return
	}
	defer func() {
		for _, r := range runs {
			close(r.done)
		}
	}()
	if len(runs) > 1 {
		ctx, cancel := context.WithTimeout(runs[0].ctx, commitGroupTimeout)
		cs := make([]store.RunCommit, len(runs))
		for i, r := range runs {
			cs[i] = r.c
		}
		queued, err := st.CommitRuns(ctx, cs)
		cancel()
		if err == nil {
			for i, r := range runs {
				r.queued = queued[i]
			}
			return
		}
		// Written again one by one below: one run's failure is its own.
	}
	for _, r := range runs {
		ctx, cancel := context.WithTimeout(r.ctx, commitGroupTimeout)
		r.queued, r.err = st.CommitRun(ctx, r.c)
		cancel()
	}
}

// freeWorkerKey carries, in a run's context, the function that gives the
// run's worker back to its pool (pool.submit).
type freeWorkerKey struct{}

// withFreeWorker returns ctx carrying free.
func withFreeWorker(ctx context.Context, free func()) context.Context {
	return context.WithValue(ctx, freeWorkerKey{}, free)
}

// freeWorker gives the worker of the run of ctx back to its pool, when
// the run has one: the run then only waits, and the next work starts.
func freeWorker(ctx context.Context) {
	if free, ok := ctx.Value(freeWorkerKey{}).(func()); ok {
		free()
	}
}
