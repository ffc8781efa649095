package pipeline

import (
	"context"
	"fmt"
	"sync"
)

// RunAll runs every source once, at most workers at a time, and returns
// one report per source in the order given. A panic in one source is
// reported as its failure; the others go on.
func (r *Runner) RunAll(ctx context.Context, srcs []Source, ro RunOptions, workers int) []Report {
	if workers <= 0 {
		workers = 4
	}
	reps := make([]Report, len(srcs))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					reps[i] = Report{Source: src.ID, Outcome: OutcomeFailed, Err: fmt.Errorf("crashed: %v", p)}
					r.log.Error("source run crashed", "source", src.ID, "err", reps[i].Err)
				}
			}()
			reps[i] = r.RunSource(ctx, src, ro)
		}()
	}
	wg.Wait()
	return reps
}
