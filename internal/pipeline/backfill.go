package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/archive"
	"github.com/treatywatch/treatywatch/fetch/normalize"
	"github.com/treatywatch/treatywatch/internal/store"
)

// DefaultMaxPages bounds the pages of a paginated feed a backfill reads
// when neither its options nor the source's archive set a limit.
const DefaultMaxPages = 50

// BackfillOptions shape one backfill of one source.
type BackfillOptions struct {
	// Since and Until are the window [Since, Until). Since is required;
	// a zero Until means now.
	Since, Until time.Time
	// DryRun fetches and classifies but commits and queues nothing: the
	// report says what would be delivered.
	DryRun bool
	// Redeliver queues relevant items again for sinks that already took
	// them; without it a sink gets an item at most once.
	Redeliver bool
	// MaxPages bounds feed pagination; zero means the source's
	// archive.max_pages, else DefaultMaxPages.
	MaxPages int
	// Progress, when set, is called after every document read, and once
	// at the end with Stage StageDone.
	Progress func(Progress)
	// Getter reads sitemaps; a source with a sitemap archive needs it.
	Getter fetch.Getter
}

// Backfill runs src once over a date window: it walks the source's
// archives (its current document and the pages after it, a sitemap, a
// news search bounded by the window), keeps the items dated inside
// [Since, Until) and takes each through the same ingest as a source run,
// committing with delivery on. The source's health, schedule and
// validators are left as the daemon knows them. An item is queued for a
// sink at most once unless Redeliver is set: a second backfill over the
// same window delivers nothing new.
//
// The report is returned even with an error. The error joins what
// failed: a page or sitemap that could not be read, the search; articles
// that could not be read are only counted in Failed.
func (ing *Ingester) Backfill(ctx context.Context, src Source, o BackfillOptions) (BackfillReport, error) {
	rep := BackfillReport{Source: src.ID, DryRun: o.DryRun, ByTopic: map[rules.Topic]map[classify.Stance]int{}, BySink: map[string]int{}}
	if o.Until.IsZero() {
		o.Until = ing.o.Now()
	}
	if o.Since.IsZero() {
		return rep, errors.New("backfill: no start of the window (since)")
	}
	if !o.Since.Before(o.Until) {
		return rep, fmt.Errorf("backfill: since %s is not before until %s",
			o.Since.Format(time.RFC3339), o.Until.Format(time.RFC3339))
	}
	b := &backfill{in: ing, src: src, o: o, rep: &rep, log: ing.log.With("source", src.ID), keys: map[string]bool{}, urls: map[string]bool{}}
	walkers, errs := b.walkers()
	for _, w := range walkers {
		errs = append(errs, b.walk(ctx, w)...)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	sort.SliceStable(rep.WouldDeliver, func(i, j int) bool {
		return rep.WouldDeliver[i].Item.Published.Before(rep.WouldDeliver[j].Item.Published)
	})
	b.progress(StageDone, "")
	err := errors.Join(errs...)
	attrs := []any{"pages", rep.Pages, "articles", rep.Articles, "items", rep.Items, "in_window", rep.InWindow,
		"relevant", rep.Relevant, "queued", rep.Queued, "dry_run", o.DryRun}
	if err != nil {
		b.log.Warn("backfill incomplete", append(attrs, "err", err)...)
		return rep, fmt.Errorf("backfill %s: %w", src.ID, err)
	}
	b.log.Info("backfill done", attrs...)
	return rep, nil
}

// backfill is the state of one source's backfill.
type backfill struct {
	in  *Ingester
	src Source
	o   BackfillOptions
	rep *BackfillReport
	log *slog.Logger
	// articles and total count the sitemap entries gone through, for
	// progress.
	articles, total int
	// keys and urls hold the item keys and the canonical URLs taken in
	// this backfill.
	keys, urls map[string]bool
}

// walkers returns the source's archives as walkers, in the order they
// are read, and the configuration errors of those it cannot walk.
func (b *backfill) walkers() ([]archive.Walker, []error) {
	var ws []archive.Walker
	var errs []error
	win := archive.Window{Since: b.o.Since, Until: b.o.Until}
	src, a := b.src.Source, b.src.Archive
	if f, ok := b.in.o.Fetchers[src.Kind]; ok {
		ws = append(ws, archive.Pages(f, src, win, b.maxPages()))
	} else {
		errs = append(errs, &fetch.Error{Kind: fetch.ErrConfig, URL: src.URL, Err: fmt.Errorf("no fetcher for source kind %q", src.Kind)})
	}
	if a != nil && a.Sitemap != "" {
		switch {
		case b.o.Getter == nil:
			errs = append(errs, &fetch.Error{Kind: fetch.ErrConfig, URL: a.Sitemap, Err: errors.New("backfill: no getter to read sitemaps")})
		case b.in.o.Extractor == nil:
			errs = append(errs, &fetch.Error{Kind: fetch.ErrConfig, URL: a.Sitemap, Err: errors.New("backfill: no article reader for sitemap entries")})
		default:
			ws = append(ws, archive.Sitemaps(b.o.Getter, src, a.Sitemap, win, b.in.o.Now()))
		}
	}
	if a != nil && a.Query != "" {
		if f, ok := b.in.o.Fetchers[fetch.KindFeed]; ok {
			ws = append(ws, archive.Search(f, src, a.Query, win))
		} else {
			errs = append(errs, &fetch.Error{Kind: fetch.ErrConfig, Err: errors.New("backfill: no feed fetcher for the news search")})
		}
	}
	return ws, errs
}

func (b *backfill) maxPages() int {
	switch {
	case b.o.MaxPages > 0:
		return b.o.MaxPages
	case b.src.Archive != nil && b.src.Archive.MaxPages > 0:
		return b.src.Archive.MaxPages
	}
	return DefaultMaxPages
}

// walk takes every document of w through the ingest, until the archive
// ends, the context ends or the store fails.
func (b *backfill) walk(ctx context.Context, w archive.Walker) []error {
	var errs []error
	for ctx.Err() == nil {
		d, err := w.Next(ctx)
		if errors.Is(err, archive.Done) {
			break
		}
		if err != nil {
			if !errors.Is(err, archive.ErrLimit) {
				b.rep.Failed++
			}
			errs = append(errs, err)
			continue
		}
		b.rep.Pages += d.Read
		b.rep.Items += d.Listed
		b.rep.Undated += d.Undated
		b.total += d.Total
		if err := b.take(ctx, d); err != nil {
			return append(errs, err)
		}
		b.progress(d.Stage, d.URL)
	}
	return errs
}

// take keeps the items of one document that are inside the window and
// not taken yet, and ingests them: labelled and, unless this is a dry
// run, committed with delivery on and the source's health left alone.
func (b *backfill) take(ctx context.Context, d archive.Doc) error {
	var in []fetch.Item
	for _, it := range d.Items {
		switch p := it.Published; {
		case d.Scope == archive.ScopeWindow:
		case p.IsZero() && d.Scope == archive.ScopeDated:
			b.rep.Undated++
			continue
		case p.IsZero():
		case !p.Before(b.o.Until), p.Before(b.o.Since):
			continue
		}
		in = append(in, it)
	}
	if d.Links {
		b.articles += len(d.Items)
	}
	if len(in) == 0 {
		return nil
	}
	it := intake{src: b.src, log: b.log, items: in, backfill: true, links: d.Links, fill: true, take: b.claim,
		commit: func(ctx context.Context, labeled []store.Labeled) (int, error) {
			// A dry run makes the same commit and rolls it back, so what it
			// says a sink would get is what a real run queues.
			n, err := b.in.o.Store.CommitBackfill(ctx, store.BackfillCommit{
				SourceID: b.src.ID, At: b.in.o.Now(), Items: labeled, Sinks: b.in.o.Sinks, Redeliver: b.o.Redeliver,
				DryRun: b.o.DryRun, BySink: b.rep.BySink,
			})
			if b.o.DryRun {
				n = 0
			}
			return n, err
		}}
	got, err := b.in.ingest(ctx, it)
	b.rep.Articles += got.articles
	b.rep.Failed += got.failed
	b.rep.Queued += got.queued
	for _, l := range got.labeled {
		b.count(l, got.stored[l.Item.Key])
	}
	return err
}

// claim marks an item taken; false when it (its key, or the URL it does
// not share with other items) was taken already by an earlier document.
func (b *backfill) claim(it fetch.Item, stored, ownURL bool) bool {
	u := normalize.Canonical(it.URL)
	if b.keys[it.Key] || (ownURL && b.urls[u]) {
		return false
	}
	b.keys[it.Key] = true
	if ownURL {
		b.urls[u] = true
	}
	b.rep.InWindow++
	if !stored {
		b.rep.New++
	}
	return true
}
