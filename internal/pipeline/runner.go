package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/redact"
	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/internal/window"
	"github.com/treatywatch/treatywatch/sinks"
)

// Source is a fetch.Source with the settings that drive its runs.
type Source struct {
	fetch.Source
	// Schedule is a robfig/cron spec ("@every 30m", "*/15 * * * *").
	Schedule string
	// Spread shifts the schedule by a per-source offset so that sources
	// sharing one schedule do not all start at once.
	Spread bool
	// DeliverExisting delivers the items of the first successful fetch
	// instead of only marking them seen.
	DeliverExisting bool
	// Active, when set, is the only time the source is fetched.
	Active *window.Window
	// MinWords, when set, overrides Options.MinWords for this source;
	// 0 turns article extraction off for it.
	MinWords *int
}

// Options wire a Runner.
type Options struct {
	Store      Store
	Fetchers   map[fetch.Kind]fetch.Fetcher // by source kind
	Extractor  Extractor                    // nil: no article text read
	Classifier classify.Classifier
	Sinks      []sinks.Sink
	Logger     *slog.Logger
	Metrics    *Metrics // nil: no metrics
	Now        func() time.Time
	// After waits like time.After (the default); tests pass a fake
	// clock's.
	After func(time.Duration) <-chan time.Time

	// MinWords is the word count below which an item is thin (default 80).
	MinWords int
	// PerHost is how many sources of one host run at once: the fetch
	// client's limit of requests per host (0: no limit). A free worker
	// takes the next source whose host is below it.
	PerHost int
	// SourceBackoff is the first delay after a failed run; it doubles per
	// failure in a row up to SourceBackoffCap (defaults 1m and 4h). A
	// source is never given up.
	SourceBackoff, SourceBackoffCap time.Duration
	// DeliveryBackoff and DeliveryBackoffCap do the same for a sink that
	// failed (defaults 5s and 15m).
	DeliveryBackoff, DeliveryBackoffCap time.Duration
	// BatchSize is how many records one Write gets at most (default 25).
	BatchSize int
	// Lease is how long a claim on outbox records lasts before a store
	// shared by several processes may hand them to another (default
	// 10m).
	Lease time.Duration
	// EmptyRunsWarn is how many item-less runs in a row of a page source
	// make it suspect (default DefaultEmptyRunsWarn).
	EmptyRunsWarn int
	// Quiet holds, by sink name, the hours a sink sends nothing: its
	// records wait in the outbox until the window ends.
	Quiet map[string]*window.Window
	// Redact hides secrets in error text before it is stored (default:
	// the text unchanged).
	Redact func(string) string
	// FieldCaps bound each item's fields after cleaning (default
	// fetch.DefaultFieldCaps).
	FieldCaps *fetch.FieldCaps
}

// DefaultEmptyRunsWarn is how many item-less runs in a row make a page
// source's selectors suspect.
const DefaultEmptyRunsWarn = 3

// SelectorsSuspect reports whether a source of kind whose last emptyRuns
// runs in a row listed no item has page selectors that no longer match
// (the page layout changed): a page source, warn or more such runs (0
// means DefaultEmptyRunsWarn). A feed can be empty; a listing page that
// lists nothing is broken.
func SelectorsSuspect(kind fetch.Kind, emptyRuns, warn int) bool {
	if warn <= 0 {
		warn = DefaultEmptyRunsWarn
	}
	return kind == fetch.KindPage && emptyRuns >= warn
}

// DefaultLease is how long a claim (a source run, records, a window)
// lasts when the options set none.
const DefaultLease = 10 * time.Minute

// Runner runs sources and hands what they queue to its Outbox.
type Runner struct {
	*Outbox
	*Scheduler
	o     Options
	log   *slog.Logger
	names []string
	// treatyOnce loads the stored treaty events into the classifier
	// before the first run.
	treatyOnce sync.Once
}

// New returns a Runner; zero options take their defaults.
func New(o Options) *Runner {
	o.Logger = loggerOr(o.Logger)
	o.Now = nowOr(o.Now)
	o.Redact = redactOr(o.Redact)
	o.MinWords = cmp.Or(o.MinWords, 80)
	o.SourceBackoff = cmp.Or(o.SourceBackoff, time.Minute)
	o.SourceBackoffCap = cmp.Or(o.SourceBackoffCap, 4*time.Hour)
	o.Lease = cmp.Or(o.Lease, DefaultLease)
	o.EmptyRunsWarn = cmp.Or(o.EmptyRunsWarn, DefaultEmptyRunsWarn)
	if o.FieldCaps == nil {
		caps := fetch.DefaultFieldCaps()
		o.FieldCaps = &caps
	}
	r := &Runner{o: o, log: o.Logger, Outbox: NewOutbox(OutboxOptions{
		Store: o.Store, Sinks: o.Sinks, Logger: o.Logger, Metrics: o.Metrics, Now: o.Now,
		Backoff: o.DeliveryBackoff, BackoffCap: o.DeliveryBackoffCap, BatchSize: o.BatchSize,
		Lease: o.Lease, Quiet: o.Quiet, Redact: o.Redact,
	})}
	r.names = r.Outbox.Sinks()
	r.Scheduler = NewScheduler(SchedulerOptions{Store: o.Store, Run: r.RunSource, Outbox: r.Outbox,
		Logger: o.Logger, Now: o.Now, After: o.After, PerHost: o.PerHost, Lease: o.Lease})
	return r
}

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

// Outcome is how one source run ended.
type Outcome string

// Outcomes of a source run.
const (
	OutcomeOK          Outcome = "ok"
	OutcomeNotModified Outcome = "not-modified"
	OutcomeFailed      Outcome = "failed"
	OutcomeWaiting     Outcome = "waiting"   // the source asked us to wait (Retry-After, backoff)
	OutcomeInactive    Outcome = "inactive"  // outside the source's active window; NextRun is when it opens
	OutcomeElsewhere   Outcome = "elsewhere" // another instance runs the source, or already ran this slot
)

// Report says what one source run did.
type Report struct {
	Source   string
	Outcome  Outcome
	Items    int // items in the fetched document
	New      int // items not seen before
	Relevant int // new items the classifier found relevant
	Queued   int // outbox rows written
	// FirstRun is true when the items were only marked seen.
	FirstRun bool
	NextRun  time.Time
	Err      error
}

// RunOptions change one run.
type RunOptions struct {
	// Force runs the source even when it asked us to wait.
	Force bool
	// DeliverExisting delivers a first run's items.
	DeliverExisting bool
	// Shared makes the run conditional, for instances sharing a store:
	// once this instance holds the source's claim, it runs the source
	// only if no run of it started after Since (else another instance
	// took this slot, and the report says OutcomeElsewhere). The daemon
	// passes the last run it saw when it decided the source was due
	// (zero: it had never run); a one-off pass passes its own start.
	Shared bool
	Since  time.Time
}

// RunSource runs one source once, top to bottom.
func (r *Runner) RunSource(ctx context.Context, src Source, ro RunOptions) Report {
	rep := Report{Source: src.ID}
	log := r.log.With("source", src.ID)
	r.treatyOnce.Do(func() { r.loadTreatyEvents(ctx, r.log, nil) })
	now := r.o.Now()

	// 0. Claim the run, so that one instance at a time runs a source;
	// the claim is a lease, renewed while this process lives
	// (HoldLeases) and free for another instance once it ran out (this
	// process died or hung).
	claimed, err := r.o.Store.ClaimSource(ctx, src.ID, store.SourceClaim{Now: now, Until: now.Add(r.o.Lease)})
	if err != nil {
		rep.Outcome, rep.Err = OutcomeFailed, err
		return rep
	}
	if !claimed {
		rep.Outcome = OutcomeElsewhere
		log.Debug("another instance is running this source")
		return rep
	}
	defer func() {
		if err := r.o.Store.ReleaseSource(context.WithoutCancel(ctx), src.ID); err != nil {
			log.Warn("source claim not released; another instance takes it when its lease ends", "err", err)
		}
	}()

	st, err := r.o.Store.Source(ctx, src.ID)
	if err != nil {
		rep.Outcome, rep.Err = OutcomeFailed, err
		return rep
	}
	if ro.Shared && st.LastFetch.After(ro.Since) {
		// Read under the claim: the run another instance made since the
		// caller decided is committed.
		rep.Outcome = OutcomeElsewhere
		log.Debug("another instance ran this source already", "ran", st.LastFetch.Format(time.RFC3339Nano))
		return rep
	}
	if !ro.Force && now.Before(st.NextRun) {
		rep.Outcome, rep.NextRun = OutcomeWaiting, st.NextRun
		return rep
	}
	if src.Active != nil && !src.Active.Contains(now) {
		// Not fetched, nothing stored: the source's state stays as it was.
		rep.Outcome, rep.NextRun = OutcomeInactive, src.Active.NextOpen(now)
		log.Debug("outside the active window; not fetched", "active", src.Active.String(),
			"resumes", rep.NextRun.Format(time.RFC3339))
		return rep
	}

	// 1. Fetch, conditionally.
	fetcher, ok := r.o.Fetchers[src.Kind]
	if !ok {
		return r.fail(ctx, log, rep, src, &fetch.Error{Kind: fetch.ErrConfig, URL: src.URL,
			Err: fmt.Errorf("no fetcher for source kind %q", src.Kind)})
	}
	batch, err := fetcher.Fetch(ctx, src.Source, st.Validators)
	if err != nil {
		return r.fail(ctx, log, rep, src, err)
	}
	next := time.Time{}
	if batch.RetryAfter > 0 {
		next = now.Add(batch.RetryAfter)
	}
	rep.NextRun = r.nextRun(src, now, next, false)
	if batch.NotModified {
		rep.Outcome = OutcomeNotModified
		r.o.Metrics.fetched(src.ID, string(rep.Outcome), now)
		if err := r.o.Store.RecordNotModified(ctx, src.ID, now, next); err != nil {
			rep.Outcome, rep.Err = OutcomeFailed, err
		}
		log.Debug("not modified", "url", redact.URL(src.URL))
		return rep
	}
	rep.Items = len(batch.Items)
	r.capFields(log, batch.Items)

	// 2-5. Keep the unseen items, read the text of thin ones (not on a
	// first run that delivers nothing: no need to load every article of
	// a site), classify, and commit validators, items, labels and outbox
	// rows at once.
	deliver := st.Initialised || src.DeliverExisting || ro.DeliverExisting
	rep.FirstRun = !deliver
	var queueFor []string
	if deliver {
		queueFor = r.names
	}
	got, err := r.ingest(ctx, intake{src: src, log: log, items: batch.Items, fill: deliver,
		commit: func(ctx context.Context, labeled []store.Labeled) (int, error) {
			return r.o.Store.CommitRun(ctx, store.RunCommit{
				SourceID: src.ID, Validators: batch.Next, At: now, NextRun: next,
				Listed: len(batch.Items), Items: labeled, Sinks: queueFor,
			})
		}})
	rep.New, rep.Queued = len(got.labeled), got.queued
	for _, l := range got.labeled {
		if l.Result.Relevant {
			rep.Relevant++
		}
	}
	if err != nil {
		rep.Outcome, rep.Err = OutcomeFailed, err
		return rep
	}
	rep.Outcome = OutcomeOK
	if src.Kind == fetch.KindTreaty && hasTreatyEvents(batch.Items) {
		r.loadTreatyEvents(ctx, log, batch.Items)
	}
	r.o.Metrics.fetched(src.ID, string(rep.Outcome), now)
	r.o.Metrics.items(src.ID, rep.New, rep.Relevant)
	if len(batch.Items) == 0 && SelectorsSuspect(src.Kind, st.EmptyRuns+1, r.o.EmptyRunsWarn) {
		log.Warn("page selectors matched nothing", "url", redact.URL(src.URL), "runs", st.EmptyRuns+1,
			"hint", "the page layout may have changed: check the source's page selectors")
	}
	attrs := []any{"items", rep.Items, "new", rep.New, "relevant", rep.Relevant, "queued", rep.Queued,
		"next_run", rep.NextRun.Format(time.RFC3339)}
	if rep.FirstRun && rep.New > 0 {
		log.Info("first run: items marked seen, not delivered", attrs...)
	} else {
		log.Info("fetched", attrs...)
	}
	return rep
}

// fail records a failed run and when to try again: after the Retry-After
// the server asked for, and at least after a capped exponential backoff.
func (r *Runner) fail(ctx context.Context, log *slog.Logger, rep Report, src Source, ferr error) Report {
	now := r.o.Now()
	st, _ := r.o.Store.Source(ctx, src.ID)
	wait := r.sourceBackoff().Wait(st.Failures)
	if ra := fetch.RetryAfterOf(ferr); ra > wait {
		wait = ra
	}
	rep.Outcome, rep.Err, rep.NextRun = OutcomeFailed, ferr, r.nextRun(src, now, now.Add(wait), true)
	kind := fetch.KindOf(ferr)
	n, err := r.o.Store.RecordFailure(context.WithoutCancel(ctx), src.ID, kind, r.o.Redact(ferr.Error()), now, now.Add(wait))
	if err != nil {
		rep.Err = errors.Join(ferr, err)
	}
	r.o.Metrics.fetched(src.ID, string(kind), time.Time{})
	// One short line: the URL once, why, and when it is tried again.
	log.Warn("fetch failed", "url", redact.URL(src.URL), "reason", r.o.Redact(fetch.Reason(ferr)),
		"next_run", rep.NextRun.Format(time.RFC3339), "failures", n)
	return rep
}

func (r *Runner) sourceBackoff() schedule.Backoff {
	return schedule.Backoff{Base: r.o.SourceBackoff, Cap: r.o.SourceBackoffCap}
}

// nextRun is when the daemon runs src again after a run at now that
// asked not to run before notBefore; notBefore when the source has no
// schedule (a run outside the daemon).
func (r *Runner) nextRun(src Source, now, notBefore time.Time, failed bool) time.Time {
	sch, err := ScheduleFor(src)
	if err != nil {
		return notBefore
	}
	return sch.NextRun(now, notBefore, failed)
}

// withLang stores the language the classifier read in the item's own
// words; the source's language stays when it detected none.
func withLang(it fetch.Item, res classify.Result) fetch.Item {
	if res.Lang != "" {
		it.Lang = res.Lang
	}
	return it
}

// capFields cuts each item's fields to the configured caps, counting and
// logging what was cut; the record names the cut fields (Item.Truncated).
func (r *Runner) capFields(log *slog.Logger, items []fetch.Item) {
	for i := range items {
		for _, field := range fetch.CapItem(&items[i], *r.o.FieldCaps) {
			r.o.Metrics.truncated(field)
			log.Info("field cut to its cap", "field", field, "key", items[i].Key)
		}
	}
}
