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
	// MinWords, when set, overrides IngestOptions.MinWords for this source;
	// 0 turns article extraction off for it.
	MinWords *int
}

// IngestStore is what an Ingester uses of a store: the state and claims
// of sources, and the items it dedupes against and commits.
type IngestStore interface {
	SourceStore
	ItemStore
}

// IngestOptions wire an Ingester; zero options take their defaults.
type IngestOptions struct {
	Store      IngestStore
	Fetchers   map[fetch.Kind]fetch.Fetcher // by source kind
	Extractor  Extractor                    // nil: no article text read
	Classifier classify.Classifier
	// Sinks names the sinks a relevant item is queued for.
	Sinks []string
	// Queued, when set, is called after a commit queued records (the
	// outbox's Kick).
	Queued  func()
	Logger  *slog.Logger
	Metrics *Metrics // nil: no metrics
	Now     func() time.Time
	// MinWords is the word count below which an item is thin (default 80).
	MinWords int
	// Backoff is the wait after failed runs: Base after the first,
	// doubling per failure in a row up to Cap (defaults 1m and 4h). A
	// source is never given up.
	Backoff schedule.Backoff
	// Lease is how long a source's claim lasts before a store shared by
	// several processes may hand it to another (default DefaultLease).
	Lease time.Duration
	// EmptyRunsWarn is how many item-less runs in a row of a page source
	// make it suspect (default DefaultEmptyRunsWarn).
	EmptyRunsWarn int
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

// Ingester takes items into the store: one run of one source
// (RunSource: claim, fetch, ingest, commit with the source's health and
// next run) and the backfill of a source's archives (Backfill, over the
// same ingest). Its only state of its own is whether it handed the
// classifier the stored treaty events yet.
type Ingester struct {
	o   IngestOptions
	log *slog.Logger
	// treatyOnce loads the stored treaty events into the classifier
	// before the first run.
	treatyOnce sync.Once
}

// NewIngester returns an Ingester; zero options take their defaults.
func NewIngester(o IngestOptions) *Ingester {
	o.Logger = loggerOr(o.Logger)
	o.Now = nowOr(o.Now)
	o.Redact = redactOr(o.Redact)
	if o.Queued == nil {
		o.Queued = func() {}
	}
	o.MinWords = cmp.Or(o.MinWords, 80)
	o.Backoff.Base = cmp.Or(o.Backoff.Base, time.Minute)
	o.Backoff.Cap = cmp.Or(o.Backoff.Cap, 4*time.Hour)
	o.Lease = cmp.Or(o.Lease, DefaultLease)
	o.EmptyRunsWarn = cmp.Or(o.EmptyRunsWarn, DefaultEmptyRunsWarn)
	if o.FieldCaps == nil {
		caps := fetch.DefaultFieldCaps()
		o.FieldCaps = &caps
	}
	return &Ingester{o: o, log: o.Logger}
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

	// notModified and failures, when set, take the run's 304 or its
	// failure to be written later with others (RunAll) instead of at
	// once.
	notModified *runRecords[store.NotModified]
	failures    *runRecords[store.Failure]
	// states, when set, holds the state of every stored source as the
	// pass (RunAll, not shared) began; a source missing from it was
	// never run.
	states map[string]store.SourceState
	// commits, when set, commits the run in one transaction with the
	// runs of the pass that end at about the same time (RunAll).
	commits *commitGroup
}

// state returns the source's state from the pass's snapshot, else from
// the store. neverStored is true when the snapshot shows the source was
// never stored: the store then holds no item of it either (items are
// written with their source's row, in one commit).
func (ro RunOptions) state(ctx context.Context, st SourceStore, id string) (s store.SourceState, neverStored bool, err error) {
	if ro.states == nil {
		s, err = st.Source(ctx, id)
		return s, false, err
	}
	if s, ok := ro.states[id]; ok {
		return s, false, nil
	}
	return store.SourceState{ID: id}, true, nil
}

// RunSource runs one source once, top to bottom.
func (ing *Ingester) RunSource(ctx context.Context, src Source, ro RunOptions) Report {
	rep := Report{Source: src.ID}
	log := ing.log.With("source", src.ID)
	ing.treatyOnce.Do(func() { ing.loadTreatyEvents(ctx, ing.log, nil) })
	now := ing.o.Now()

	// 0. Claim the run, so that one instance at a time runs a source;
	// the claim is a lease, renewed while this process lives
	// (HoldLeases) and free for another instance once it ran out (this
	// process died or hung).
	claimed, err := ing.o.Store.ClaimSource(ctx, src.ID, store.SourceClaim{Now: now, Until: now.Add(ing.o.Lease)})
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
		if err := ing.o.Store.ReleaseSource(context.WithoutCancel(ctx), src.ID); err != nil {
			log.Warn("source claim not released; another instance takes it when its lease ends", "err", err)
		}
	}()

	st, neverStored, err := ro.state(ctx, ing.o.Store, src.ID)
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
	fetcher, ok := ing.o.Fetchers[src.Kind]
	if !ok {
		return ing.fail(ctx, log, rep, src, st, ro, &fetch.Error{Kind: fetch.ErrConfig, URL: src.URL,
			Err: fmt.Errorf("no fetcher for source kind %q", src.Kind)})
	}
	batch, err := fetcher.Fetch(ctx, src.Source, st.Validators)
	if err != nil {
		return ing.fail(ctx, log, rep, src, st, ro, err)
	}
	next := time.Time{}
	if batch.RetryAfter > 0 {
		next = now.Add(batch.RetryAfter)
	}
	rep.NextRun = ing.nextRun(src, now, next, false)
	if batch.NotModified {
		rep.Outcome = OutcomeNotModified
		ing.o.Metrics.fetched(src.ID, string(rep.Outcome), now)
		if ro.notModified != nil {
			// Written with other 304s of the pass, before it ends: a crash
			// first costs the next run a conditional GET again, no more.
			ro.notModified.add(store.NotModified{ID: src.ID, At: now, NextRun: next})
		} else if err := ing.o.Store.RecordNotModified(ctx, src.ID, now, next); err != nil {
			rep.Outcome, rep.Err = OutcomeFailed, err
		}
		log.Debug("not modified", "url", redact.URL(src.URL))
		return rep
	}
	rep.Items = len(batch.Items)
	ing.capFields(log, batch.Items)

	// 2-5. Keep the unseen items, read the text of thin ones (not on a
	// first run that delivers nothing: no need to load every article of
	// a site), classify, and commit validators, items, labels and outbox
	// rows at once.
	deliver := st.Initialised || src.DeliverExisting || ro.DeliverExisting
	rep.FirstRun = !deliver
	var queueFor []string
	if deliver {
		queueFor = ing.o.Sinks
	}
	got, err := ing.ingest(ctx, intake{src: src, log: log, items: batch.Items, fill: deliver, noneStored: neverStored,
		commit: func(ctx context.Context, labeled []store.Labeled) (int, error) {
			c := store.RunCommit{
				SourceID: src.ID, Validators: batch.Next, At: now, NextRun: next,
				Listed: len(batch.Items), Items: labeled, Sinks: queueFor,
			}
			if ro.commits != nil {
				return ro.commits.commit(ctx, ing.o.Store, c)
			}
			return ing.o.Store.CommitRun(ctx, c)
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
		ing.loadTreatyEvents(ctx, log, batch.Items)
	}
	ing.o.Metrics.fetched(src.ID, string(rep.Outcome), now)
	ing.o.Metrics.items(src.ID, rep.New, rep.Relevant)
	if len(batch.Items) == 0 && SelectorsSuspect(src.Kind, st.EmptyRuns+1, ing.o.EmptyRunsWarn) {
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
// st is the source's state as the run read it: in a pass that writes
// failures in groups (ro.failures) nothing else wrote it since; elsewhere
// it is read again, as another process may have.
func (ing *Ingester) fail(ctx context.Context, log *slog.Logger, rep Report, src Source, st store.SourceState, ro RunOptions, ferr error) Report {
	now := ing.o.Now()
	if ro.failures == nil {
		st, _ = ing.o.Store.Source(ctx, src.ID)
	}
	wait := ing.o.Backoff.Wait(st.Failures)
	if ra := fetch.RetryAfterOf(ferr); ra > wait {
		wait = ra
	}
	rep.Outcome, rep.Err, rep.NextRun = OutcomeFailed, ferr, ing.nextRun(src, now, now.Add(wait), true)
	kind := fetch.KindOf(ferr)
	msg := ing.o.Redact(ferr.Error())
	n := st.Failures + 1
	if ro.failures != nil {
		// Written with other failures of the pass, before it ends.
		ro.failures.add(store.Failure{ID: src.ID, Kind: kind, Msg: msg, At: now, NextRun: now.Add(wait)})
	} else if recorded, err := ing.o.Store.RecordFailure(context.WithoutCancel(ctx), src.ID, kind, msg, now, now.Add(wait)); err != nil {
		rep.Err = errors.Join(ferr, err)
	} else {
		n = recorded
	}
	ing.o.Metrics.fetched(src.ID, string(kind), time.Time{})
	// One short line: the URL once, why, and when it is tried again.
	log.Warn("fetch failed", "url", redact.URL(src.URL), "reason", ing.o.Redact(fetch.Reason(ferr)),
		"next_run", rep.NextRun.Format(time.RFC3339), "failures", n)
	return rep
}

// nextRun is when the daemon runs src again after a run at now that
// asked not to run before notBefore; notBefore when the source has no
// schedule (a run outside the daemon).
func (ing *Ingester) nextRun(src Source, now, notBefore time.Time, failed bool) time.Time {
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
func (ing *Ingester) capFields(log *slog.Logger, items []fetch.Item) {
	for i := range items {
		for _, field := range fetch.CapItem(&items[i], *ing.o.FieldCaps) {
			ing.o.Metrics.truncated(field)
			log.Info("field cut to its cap", "field", field, "key", items[i].Key)
		}
	}
}
