package main

import (
	"context"
	"time"
)

// pruneEvery is how often the daemon applies the retention of irrelevant
// items.
const pruneEvery = 6 * time.Hour

// pruneIrrelevant applies retention.irrelevant once; it logs what it did
// and never fails the command (the items stay for the next time).
func (a *app) pruneIrrelevant(ctx context.Context) {
	keep := a.cfg.Retention.Irrelevant.D()
	if keep <= 0 {
		return
	}
	n, err := a.store.PruneIrrelevant(ctx, time.Now().Add(-keep))
	if err != nil {
		a.log.Warn("irrelevant items not pruned", "err", err)
		return
	}
	if n > 0 {
		a.log.Info("irrelevant items past their retention deleted", "items", n, "retention", keep.String())
	}
}

// keepPruning applies the retention at once and then every pruneEvery
// until ctx ends.
func (a *app) keepPruning(ctx context.Context) {
	if a.cfg.Retention.Irrelevant.D() <= 0 {
		return
	}
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		a.pruneIrrelevant(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
