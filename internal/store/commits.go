package store

import (
	"context"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// RunCommit is what one successful scheduled run of a source writes.
type RunCommit struct {
	SourceID   string
	Validators fetch.Validators
	At         time.Time
	// NextRun is the earliest time the source may run again (zero: at
	// its next scheduled time).
	NextRun time.Time
	// Listed is how many items the fetched document held; zero counts as
	// an empty run.
	Listed int
	// Items are the unseen items of the run with their labels. All are
	// stored and marked seen.
	Items []Labeled
	// Sinks get an outbox row per relevant item. None on a source's
	// first run (unless the user asked to deliver existing items), so
	// nothing floods the receivers.
	Sinks []string
}

// CommitRun writes a successful scheduled run: validators, health,
// items, labels and outbox rows in one transaction. It returns how many
// outbox rows it queued.
func (s *Store) CommitRun(ctx context.Context, c RunCommit) (int, error) {
	return s.Commit(ctx, c.commit())
}

// CommitRuns writes several successful scheduled runs in one
// transaction, all or none, and returns how many outbox rows each
// queued. Each run's rows are what CommitRun would write. Written
// together they cost less than one by one: the items of all the runs go
// in the same multi-row statements, and the search index and the pages
// every commit touches are written once.
func (s *Store) CommitRuns(ctx context.Context, cs []RunCommit) ([]int, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	commits := make([]Commit, len(cs))
	for i, c := range cs {
		commits[i] = c.commit()
	}
	return s.commitAll(ctx, commits)
}

// commit is the Commit of the run c.
func (c RunCommit) commit() Commit {
	return Commit{
		SourceID: c.SourceID, Validators: c.Validators, At: c.At, NextRun: c.NextRun,
		Items: c.Items, Deliver: len(c.Sinks) > 0, Sinks: c.Sinks, Empty: c.Listed == 0,
	}
}

// BackfillCommit is one batch of items a backfill read.
type BackfillCommit struct {
	SourceID string
	At       time.Time
	// Items are stored (or updated) with their labels.
	Items []Labeled
	// Sinks get an outbox row per relevant item they have not had yet.
	Sinks []string
	// Redeliver queues relevant items again for sinks that already took
	// them.
	Redeliver bool
	// DryRun writes nothing: the count (and BySink) is what the commit
	// would queue, found by making it in a transaction rolled back.
	DryRun bool
	// BySink, when set, gets the rows queued (or, on a dry run, that
	// would be) added per sink.
	BySink map[string]int
}

// CommitBackfill writes items a backfill read and queues the relevant
// ones, leaving the source's health, schedule and validators alone. It
// returns how many outbox rows it queued.
func (s *Store) CommitBackfill(ctx context.Context, c BackfillCommit) (int, error) {
	return s.Commit(ctx, Commit{
		SourceID: c.SourceID, At: c.At, Items: c.Items, Deliver: true,
		Redeliver: c.Redeliver, Sinks: c.Sinks, KeepHealth: true, DryRun: c.DryRun, BySink: c.BySink,
	})
}
