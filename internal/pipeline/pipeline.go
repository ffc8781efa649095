package pipeline

import (
	"log/slog"
	"time"
)

// Options wire a Pipeline: the store and the settings its parts share,
// and each part's own options. A shared setting that is set is used by
// every part that has it, in place of the part's own.
type Options struct {
	Store   Store
	Logger  *slog.Logger
	Metrics *Metrics // nil: no metrics
	Now     func() time.Time
	// Redact hides secrets in error text before it is stored.
	Redact func(string) string
	// Lease is how long the claims of this process last (DefaultLease).
	Lease time.Duration

	Ingest   IngestOptions
	Outbox   OutboxOptions
	Schedule SchedulerOptions
}

// Pipeline is the three parts wired together, for a command to use:
// the Ingester runs sources and backfills into the store, and a commit
// that queued records kicks the Outbox; the Scheduler runs the
// Ingester's sources on its worker pool and drains the Outbox between
// runs. The parts keep their own state; Pipeline keeps none.
type Pipeline struct {
	*Ingester  // RunSource, Backfill
	*Outbox    // Deliver, Flush, SendNow, scheduled windows, quiet hours
	*Scheduler // Daemon, RunAll, NextRun, HoldLeases
}

// New wires a Pipeline. Unless their options say otherwise, the
// Ingester queues for the Outbox's sinks and kicks the Outbox, and the
// Scheduler runs the Ingester's RunSource and delivers the Outbox.
func New(o Options) *Pipeline {
	in, out, sch := o.Ingest, o.Outbox, o.Schedule
	if o.Store != nil {
		in.Store, out.Store, sch.Store = o.Store, o.Store, o.Store
	}
	if o.Logger != nil {
		in.Logger, out.Logger, sch.Logger = o.Logger, o.Logger, o.Logger
	}
	if o.Metrics != nil {
		in.Metrics, out.Metrics = o.Metrics, o.Metrics
	}
	if o.Now != nil {
		in.Now, out.Now, sch.Now = o.Now, o.Now, o.Now
	}
	if o.Redact != nil {
		in.Redact, out.Redact = o.Redact, o.Redact
	}
	if o.Lease != 0 {
		in.Lease, out.Lease, sch.Lease = o.Lease, o.Lease, o.Lease
	}
	p := &Pipeline{Outbox: NewOutbox(out)}
	if in.Sinks == nil {
		in.Sinks = p.Outbox.Sinks()
	}
	if in.Queued == nil {
		in.Queued = p.Outbox.Kick
	}
	p.Ingester = NewIngester(in)
	if sch.Run == nil {
		sch.Run = p.Ingester.RunSource
	}
	if sch.Outbox == nil {
		sch.Outbox = p.Outbox
	}
	p.Scheduler = NewScheduler(sch)
	return p
}

// DefaultLease is how long a claim (a source run, records, a window)
// lasts when the options set none.
const DefaultLease = 10 * time.Minute

// loggerOr, nowOr and redactOr are the defaults of the parts' options.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

func redactOr(redact func(string) string) func(string) string {
	if redact == nil {
		return func(s string) string { return s }
	}
	return redact
}
