package pipeline

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/treatywatch/treatywatch/internal/window"
)

// cronParser accepts the standard five fields and descriptors (@every, @hourly).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a source schedule.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("bad schedule %q: %w", spec, err)
	}
	return s, nil
}

// grid runs every period at a fixed phase: the times t with
// (t - offset) a multiple of period since the Unix epoch. Unlike cron's
// @every, whose phase is wherever the daemon happened to start, the
// phase survives restarts, and each source gets its own.
type grid struct {
	period, offset time.Duration
}

func (g grid) Next(t time.Time) time.Time {
	n := t.Add(-g.offset).Truncate(g.period).Add(g.offset)
	for !n.After(t) {
		n = n.Add(g.period)
	}
	return n
}

// spread shifts a calendar schedule by a fixed offset.
type spread struct {
	inner  cron.Schedule
	offset time.Duration
}

func (s spread) Next(t time.Time) time.Time {
	return s.inner.Next(t.Add(-s.offset)).Add(s.offset)
}

// inWindow moves each run of a schedule that falls outside an active
// window to the moment the window opens.
type inWindow struct {
	inner cron.Schedule
	w     *window.Window
}

func (s inWindow) Next(t time.Time) time.Time {
	return s.w.NextOpen(s.inner.Next(t))
}

// ScheduleFor returns the schedule the daemon runs src on. A spread
// source is offset by a hash of its id modulo its period (@every
// schedules are put on a grid with that phase), so sources sharing a
// schedule start apart.
func ScheduleFor(src Source) (cron.Schedule, error) {
	sch, err := spreadSchedule(src)
	if err != nil || src.Active == nil {
		return sch, err
	}
	return inWindow{inner: sch, w: src.Active}, nil
}

// spreadSchedule is the source's schedule with its per-source offset.
func spreadSchedule(src Source) (cron.Schedule, error) {
	sch, err := ParseSchedule(src.Schedule)
	if err != nil {
		return nil, err
	}
	if !src.Spread {
		return sch, nil
	}
	h := fnv.New64a()
	h.Write([]byte(src.ID))
	if every, ok := sch.(cron.ConstantDelaySchedule); ok {
		offset := time.Duration(h.Sum64() % uint64(every.Delay)).Truncate(time.Second)
		return grid{period: every.Delay, offset: offset}, nil
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := sch.Next(base)
	period := sch.Next(first).Sub(first)
	if period <= 0 {
		return sch, nil
	}
	offset := time.Duration(h.Sum64() % uint64(period)).Truncate(time.Second)
	return spread{inner: sch, offset: offset}, nil
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

// Daemon schedules every source with cron and delivers until ctx is done.
// On start, sources whose scheduled time passed while the daemon was down
// run at once. A source still running when its time comes again is
// skipped. When ctx is done it stops scheduling, cancels fetches, flushes
// the outbox within the grace period and returns nil.
func (r *Runner) Daemon(ctx context.Context, srcs []Source, o DaemonOptions) error {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Grace <= 0 {
		o.Grace = 30 * time.Second
	}
	if o.Tick <= 0 {
		o.Tick = 5 * time.Second
	}
	sem := make(chan struct{}, o.Workers)
	c := cron.New(cron.WithParser(cronParser), cron.WithLogger(cronLogger{r.log}),
		cron.WithChain(cron.Recover(cronLogger{r.log}), cron.SkipIfStillRunning(cronLogger{r.log})))
	var startup sync.WaitGroup
	t := newTally(len(srcs))
	for _, src := range srcs {
		sch, err := ScheduleFor(src)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.ID, err)
		}
		job := c.Schedule(sch, cron.FuncJob(func() { r.runGuarded(ctx, sem, src, o, t) }))
		st, err := r.o.Store.Source(ctx, src.ID)
		if err != nil {
			return err
		}
		if st.LastFetch.IsZero() || !sch.Next(st.LastFetch).After(r.o.Now()) {
			startup.Add(1)
			go func() {
				defer startup.Done()
				// Through the cron entry's own wrapped job, so that the
				// scheduled run skips while this one is still going.
				c.Entry(job).WrappedJob.Run()
			}()
		}
	}
	c.Start()
	r.log.Info("daemon started", "sources", len(srcs), "sinks", len(r.names))
	go func() {
		startup.Wait()
		if s, ok := t.startupOver(); ok && ctx.Err() == nil {
			r.logSummary(s, "start-up")
		}
	}()

	ticker := time.NewTicker(o.Tick)
	defer ticker.Stop()
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-r.kick:
			r.Deliver(ctx)
		case <-ticker.C:
			r.Deliver(ctx)
		}
	}

	r.log.Info("stopping: no new runs; cancelling fetches and flushing the outbox", "grace", o.Grace.String())
	stopped := c.Stop()
	startup.Wait()
	<-stopped.Done()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Grace)
	defer cancel()
	n, err := r.Flush(fctx)
	if err != nil {
		r.log.Warn("stopped with records still queued; they are delivered on the next start", "delivered", n, "err", err)
	} else {
		r.log.Info("stopped", "delivered", n)
	}
	return nil
}

// runGuarded runs one source within the worker limit, recovering from a
// panic in a fetcher or classifier so that one bad source cannot stop the
// daemon.
func (r *Runner) runGuarded(ctx context.Context, sem chan struct{}, src Source, o DaemonOptions, t *tally) {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-sem }()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("source run crashed; it runs again at its next time", "source", src.ID, "err", fmt.Errorf("panic: %v", p))
		}
	}()
	if ctx.Err() != nil {
		return
	}
	rep := r.RunSource(ctx, src, RunOptions{DeliverExisting: o.DeliverExisting})
	if s, done := t.add(rep); done && ctx.Err() == nil {
		r.logSummary(s, "pass")
	}
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Info("source still running; this run is skipped")
		return
	}
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
