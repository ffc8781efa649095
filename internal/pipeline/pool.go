package pipeline

import (
	"context"
	"fmt"
	"log/slog"
)

// pool runs work on at most a fixed number of goroutines at once. A
// panic in the work is recovered and returned as an error, so one bad
// source cannot stop the others.
type pool struct {
	sem chan struct{}
}

func newPool(workers int) *pool {
	if workers <= 0 {
		workers = 4
	}
	return &pool{sem: make(chan struct{}, workers)}
}

// do waits for a free worker and runs fn on the calling goroutine. It
// returns ctx's error without running fn when ctx is done first.
// A panic is logged to log as what crashed.
func (p *pool) do(ctx context.Context, log *slog.Logger, what string, fn func()) (err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.sem }()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("crashed: %v", v)
			log.Error(what+" crashed", "err", err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	fn()
	return nil
}
