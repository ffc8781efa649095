package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/store"
)

// ScheduleFor returns the schedule the daemon runs src on: its spec,
// spread by a per-source offset when src.Spread is set, its runs moved
// into the source's active window when it has one.
func ScheduleFor(src Source) (schedule.Schedule, error) {
	sch, err := schedule.Parse(src.Schedule)
	if err != nil {
		return schedule.Schedule{}, fmt.Errorf("bad schedule %q: %w", src.Schedule, err)
	}
	if src.Spread {
		sch = sch.Spread(src.ID)
	}
	if src.Active != nil {
		sch = sch.Within(src.Active.NextOpen)
	}
	return sch, nil
}

// ScheduleStore is what the Scheduler uses of a store: the state of each
// source (its last fetch, the earliest next run, its failures), the 304s
// of a one-off pass, written in groups, and the renewal of the claims
// this process holds.
type ScheduleStore interface {
	// Source and Sources are SourceStore's.
	Source(ctx context.Context, id string) (store.SourceState, error)
	Sources(ctx context.Context) ([]store.SourceState, error)
	// RecordNotModifiedRuns is SourceStore.RecordNotModifiedRuns.
	RecordNotModifiedRuns(ctx context.Context, runs ...store.NotModified) error
	// RecordFailures is SourceStore.RecordFailures.
	RecordFailures(ctx context.Context, fs ...store.Failure) error
	// RenewLeases is Store.RenewLeases.
	RenewLeases(ctx context.Context, until time.Time) error
}

// Delivery is what the Scheduler asks of the outbox (*Outbox): a pass
// over the due records, a flush at shutdown, the kicks of commits that
// queued records, and its sinks' names for the log.
type Delivery interface {
	Deliver(ctx context.Context) (int, error)
	Flush(ctx context.Context) (int, error)
	Kicks() <-chan struct{}
	Sinks() []string
}

// SchedulerOptions wire a Scheduler; zero options take their defaults.
type SchedulerOptions struct {
	Store ScheduleStore
	// Run runs one source once (Ingester.RunSource).
	Run func(ctx context.Context, src Source, ro RunOptions) Report
	// Outbox is delivered between runs and flushed at shutdown.
	Outbox Delivery
	Logger *slog.Logger
	Now    func() time.Time
	// After waits like time.After (the default); tests pass a fake
	// clock's.
	After func(time.Duration) <-chan time.Time
	// PerHost is how many sources of one host run at once: the fetch
	// client's limit of requests per host (0: no limit). A free worker
	// takes the next source whose host is below it.
	PerHost int
	// Lease is how long the claims this process holds last; they are
	// renewed a few times per lease (default DefaultLease).
	Lease time.Duration
}

// Scheduler runs sources: each once (RunAll), or each at its next run
// time until stopped (Daemon), on one worker pool, delivering the
// outbox between runs. A source's next run is the one its last run
// stored (internal/schedule); the Scheduler keeps no state of its own
// beyond one daemon's pass summaries.
type Scheduler struct {
	o   SchedulerOptions
	log *slog.Logger
}

// NewScheduler returns a Scheduler; zero options take their defaults.
func NewScheduler(o SchedulerOptions) *Scheduler {
	o.Logger = loggerOr(o.Logger)
	o.Now = nowOr(o.Now)
	if o.After == nil {
		o.After = time.After
	}
	o.Lease = cmp.Or(o.Lease, DefaultLease)
	return &Scheduler{o: o, log: o.Logger}
}

// NextRun returns when the daemon runs src next, from what the store
// holds of it (see NextRunOf).
func (sc *Scheduler) NextRun(ctx context.Context, src Source) (time.Time, error) {
	st, err := sc.o.Store.Source(ctx, src.ID)
	if err != nil {
		return time.Time{}, err
	}
	return NextRunOf(src, st.LastFetch, st.NextRun, st.Failures > 0, sc.o.Now())
}

// NextRunOf returns when the daemon runs src next, given its last fetch,
// the earliest time it may run again and whether its last run failed
// (schedule.Schedule.NextRun): now for a source never run, or its active
// window's opening when now is outside it.
func NextRunOf(src Source, lastFetch, notBefore time.Time, failed bool, now time.Time) (time.Time, error) {
	sch, err := ScheduleFor(src)
	if err != nil {
		return time.Time{}, err
	}
	next := sch.NextRun(lastFetch, notBefore, failed)
	if next.IsZero() {
		next = now
		if src.Active != nil {
			next = src.Active.NextOpen(now)
		}
	}
	return next, nil
}

// RunAll runs every source once, at most workers at a time, and returns
// one report per source in the order given. A panic in one source is
// reported as its failure; the others go on.
//
// The 304s and the failures of the pass are written in groups
// (runRecords), all of them before RunAll returns, also when ctx ends; a
// 304 that could not be written is its source's failure, a failure that
// could not be written says so in its report. Runs that end at about the
// same time share a transaction (commitGroup): each gives its worker to
// the next source and waits for the commit before it reports. A shared
// pass (ro.Shared) writes each at once instead: another instance, free
// to take the source once this run released it, must find the run
// recorded.
func (sc *Scheduler) RunAll(ctx context.Context, srcs []Source, ro RunOptions, workers int) []Report {
	if !ro.Shared && sc.o.Store != nil {
		ro.notModified = newNotModifiedWriter(ctx, sc.o.Store.RecordNotModifiedRuns, sc.log)
		ro.failures = newFailureWriter(ctx, sc.o.Store.RecordFailures, sc.log)
		ro.states = sc.passStates(ctx)
		ro.commits = newCommitGroup(len(srcs))
	}
	reps := make([]Report, len(srcs))
	errs := sc.Each(ctx, srcs, workers, "source run", func(wctx context.Context, i int, src Source) {
		if ro.commits != nil {
			defer ro.commits.ended()
		}
		reps[i] = sc.o.Run(wctx, src, ro)
	})
	for i, err := range errs {
		if err != nil && reps[i].Outcome == "" {
			reps[i] = Report{Source: srcs[i].ID, Outcome: OutcomeFailed, Err: err}
		}
	}
	if ro.notModified != nil {
		failed := ro.notModified.close()
		for i := range reps {
			if err, ok := failed[reps[i].Source]; ok && reps[i].Outcome == OutcomeNotModified {
				reps[i].Outcome, reps[i].Err = OutcomeFailed, err
			}
		}
	}
	if ro.failures != nil {
		failed := ro.failures.close()
		for i := range reps {
			if err, ok := failed[reps[i].Source]; ok && reps[i].Outcome == OutcomeFailed {
				reps[i].Err = errors.Join(reps[i].Err, err)
			}
		}
	}
	return reps
}

// passStates reads the state of every source in one query, for the runs
// of a pass no other process shares: each source runs once in it and
// nothing else writes its state meanwhile, so a run need not read its
// own (a query each cost a pass of 304s over 10,000 sources a fifth of
// its CPU). When the read fails, each run reads its own (nil).
func (sc *Scheduler) passStates(ctx context.Context) map[string]store.SourceState {
	all, err := sc.o.Store.Sources(ctx)
	if err != nil {
		sc.log.Debug("source states not read for the pass; each run reads its own", "err", err)
		return nil
	}
	states := make(map[string]store.SourceState, len(all))
	for _, st := range all {
		states[st.ID] = st
	}
	return states
}

// Each calls fn for every source on the worker pool: at most workers at
// a time, at most PerHost of one host at once. fn gets ctx carrying the
// means to give its worker back before it returns (freeWorker), for a
// call that ends by waiting on others. It returns, by source, the error
// of a call that did not run (ctx ended first) or panicked (a panic is
// logged as what crashed and ends only that call).
func (sc *Scheduler) Each(ctx context.Context, srcs []Source, workers int, what string, fn func(ctx context.Context, i int, src Source)) []error {
	errs := make([]error, len(srcs))
	p := newPool(workers, sc.o.PerHost)
	var wg sync.WaitGroup
	// Start at a random place: instances sharing a store then take
	// different sources first instead of contending for the same ones.
	start := 0
	if len(srcs) > 0 {
		start = rand.IntN(len(srcs))
	}
	wg.Add(len(srcs))
	for n := range srcs {
		i := (start + n) % len(srcs)
		src := srcs[i]
		p.submit(ctx, sc.log, what, hostOf(src), func(free func()) { fn(withFreeWorker(ctx, free), i, src) },
			func(err error) { errs[i] = err; wg.Done() }, "source", src.ID)
	}
	wg.Wait()
	return errs
}

// DaemonOptions tune Daemon.
type DaemonOptions struct {
	// Workers bounds how many sources run at once (default 4).
	Workers int
	// Grace is how long shutdown may take to flush the outbox (default 30s).
	Grace time.Duration
	// Tick is how often the delivery loop looks for due records (default 5s).
	Tick time.Duration
	// DeliverExisting delivers the first run's items of every source.
	DeliverExisting bool
}

// Daemon runs every source at its next run time and delivers until ctx
// is done. The next run time is the one the source's last run logged
// and stored (schedule.Schedule.NextRun): a failed source is retried at
// its backoff, and a source whose time passed while the daemon was down
// runs at once. A source runs once at a time. When ctx is done it stops
// starting runs, cancels fetches, flushes the outbox within the grace
// period and returns nil.
func (sc *Scheduler) Daemon(ctx context.Context, srcs []Source, o DaemonOptions) error {
	if o.Grace <= 0 {
		o.Grace = 30 * time.Second
	}
	if o.Tick <= 0 {
		o.Tick = 5 * time.Second
	}
	scheds := make([]schedule.Schedule, len(srcs))
	for i, src := range srcs {
		sch, err := ScheduleFor(src)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.ID, err)
		}
		scheds[i] = sch
	}
	p := newPool(o.Workers, sc.o.PerHost)
	t := newTally(len(srcs))
	var wg, startup sync.WaitGroup
	startup.Add(len(srcs))
	for i, src := range srcs {
		wg.Go(func() { sc.keepRunning(ctx, p, src, scheds[i], o, t, startup.Done) })
	}
	sc.log.Info("daemon started", "sources", len(srcs), "sinks", len(sc.o.Outbox.Sinks()))
	go func() {
		startup.Wait()
		s := sc.startupSummary(ctx, srcs, t.startupOver())
		if ctx.Err() == nil {
			sc.passEnded(s, "start-up")
		}
	}()

	// Claims are renewed until the flush below is over.
	stopLeases := sc.HoldLeases(context.WithoutCancel(ctx))
	defer stopLeases()

	ticker := time.NewTicker(o.Tick)
	defer ticker.Stop()
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-sc.o.Outbox.Kicks():
			sc.o.Outbox.Deliver(ctx)
		case <-ticker.C:
			sc.o.Outbox.Deliver(ctx)
		}
	}

	sc.log.Info("stopping: no new runs; cancelling fetches and flushing the outbox", "grace", o.Grace.String())
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Grace)
	defer cancel()
	n, err := sc.o.Outbox.Flush(fctx)
	if err != nil {
		sc.log.Warn("stopped with records still queued; they are delivered on the next start", "delivered", n, "err", err)
	} else {
		sc.log.Info("stopped", "delivered", n)
	}
	return nil
}

// keepRunning runs one source at each of its next run times until ctx
// is done. It calls startupDone once the source's start-up run (when it
// was due at start) is over, or at once when it was not due.
//
// Instances sharing a store each keep a loop per source and wake for
// the same run time; the one that claims the source first runs it, and
// the others, finding the run made (RunOptions.Shared), wait for the
// next time. While another instance holds the claim, the loop looks
// again every tick: the holder finishes the run, or its lease runs out
// (it died) and this instance takes the run over.
func (sc *Scheduler) keepRunning(ctx context.Context, p *pool, src Source, sch schedule.Schedule, o DaemonOptions, t *tally, startupDone func()) {
	log := sc.log.With("source", src.ID)
	var ran time.Time
	held := false // the last try found another instance holding the source
	var once sync.Once
	defer once.Do(startupDone)
	for ctx.Err() == nil {
		st, err := sc.o.Store.Source(ctx, src.ID)
		if err != nil {
			log.Error("source state not read; trying again at its next scheduled time", "err", err)
			st.LastFetch = sc.o.Now()
		}
		next := sch.NextRun(st.LastFetch, st.NextRun, st.Failures > 0)
		if !ran.IsZero() && !next.After(ran) {
			if held {
				// Still not run: look again a tick later.
				next = ran.Add(o.Tick)
			} else {
				// The last run left no trace (the store failed): do not spin.
				next = sch.Next(ran)
			}
		}
		wait := next.Sub(sc.o.Now())
		if wait > 0 {
			once.Do(startupDone) // not due at start
			select {
			case <-ctx.Done():
				return
			case <-sc.o.After(wait):
			}
		}
		ran, held = sc.o.Now(), false
		p.doFor(ctx, log, "source run; it runs again at its next time", hostOf(src), func() {
			rep := sc.o.Run(ctx, src, RunOptions{Force: true, DeliverExisting: o.DeliverExisting,
				Shared: true, Since: st.LastFetch})
			held = rep.Outcome == OutcomeElsewhere
			if s, done := t.add(rep); done && ctx.Err() == nil {
				sc.passEnded(s, "pass")
			}
		})
		once.Do(startupDone)
	}
}

// HoldLeases renews every claim this process holds in the store, a few
// times per lease, until ctx is done or the returned stop is called
// (which waits for the renewer to end). A process that dies stops
// renewing, and its claims go to others when their leases run out.
func (sc *Scheduler) HoldLeases(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	every := max(sc.o.Lease/3, 10*time.Millisecond)
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := sc.o.Store.RenewLeases(ctx, sc.o.Now().Add(sc.o.Lease)); err != nil && ctx.Err() == nil {
					sc.log.Warn("could not renew claims; other instances may take them over", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
