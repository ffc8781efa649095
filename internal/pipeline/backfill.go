package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/archive"
	"github.com/treatywatch/treatywatch/fetch/extract"
	"github.com/treatywatch/treatywatch/internal/store"
)

// DefaultMaxPages bounds the pages of a paginated feed a backfill reads
// when neither its options nor the source's archive set a limit.
const DefaultMaxPages = 50

// maxSearches bounds the search queries of one source's backfill (a
// window is split while its search comes back full).
const maxSearches = 200

// articleBatch is how many sitemap articles are committed at once, so an
// interrupted backfill keeps what it read.
const articleBatch = 10

// ArticleReader reads an article page: its main text and title.
// *extract.Extractor implements it.
type ArticleReader interface {
	Extract(ctx context.Context, src fetch.Source, url string) (extract.Article, error)
}

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
	// Progress, when set, is called after every document and article
	// read, and once at the end with Stage StageDone.
	Progress func(Progress)
	// Getter reads sitemaps; a source with a sitemap archive needs it.
	Getter fetch.Getter
	// Articles reads the article pages a sitemap lists. Nil falls back
	// to the runner's FullText (text without a title).
	Articles ArticleReader
}

// Stages of a backfill, as Progress reports them.
const (
	StagePage    = "page"    // a page of the source's feed or listing
	StageSitemap = "sitemap" // a sitemap document
	StageArticle = "article" // an article page a sitemap listed
	StageSearch  = "search"  // a news search over part of the window
	StageDone    = "done"
)

// Progress is a snapshot of a running backfill.
type Progress struct {
	Source string
	Stage  string
	// URL is the document or article just read.
	URL string
	// Pages counts documents read (feed pages, sitemaps, searches);
	// Articles the sitemap entries gone through (read, or found in the
	// store) of ArticlesTotal.
	Pages, Articles, ArticlesTotal int
	Items, InWindow, Relevant      int
}

// BackfillReport says what a backfill of one source did.
type BackfillReport struct {
	Source string
	// Pages counts the documents read: feed pages, sitemaps, searches.
	Pages int
	// Articles counts the article pages read for sitemap entries.
	Articles int
	// Items counts what the documents listed; InWindow the distinct
	// items dated inside the window; Undated the items skipped for want
	// of a date (kept only from date-scoped searches).
	Items, InWindow, Undated int
	// New counts in-window items the store had not seen.
	New int
	// Relevant counts in-window items the classifier kept, NewRelevant
	// those among them the store had not seen.
	Relevant, NewRelevant int
	// Queued counts the outbox rows written (zero on a dry run).
	Queued int
	// Failed counts documents and articles that could not be read.
	Failed int
	// ByTopic counts relevant items per topic and stance; an item without
	// a topic is counted under "".
	ByTopic map[string]map[classify.Stance]int
	// WouldDeliver lists the relevant items of a dry run, oldest first.
	WouldDeliver []store.Labeled
	DryRun       bool
}

// Backfill runs src once over a date window: it reads the source's
// current document and follows its archive (the pages of a paginated
// feed, a sitemap, a news search bounded by the window), keeps the items
// dated inside [Since, Until), dedupes them, fills thin ones, classifies
// them and commits them with delivery on. The source's health, schedule
// and validators are left as the daemon knows them. An item is queued
// for a sink at most once unless Redeliver is set: a second backfill over
// the same window delivers nothing new.
//
// The report is returned even with an error. The error joins what
// failed: a page or sitemap that could not be read, the search; articles
// that could not be read are only counted in Failed.
func (r *Runner) Backfill(ctx context.Context, src Source, o BackfillOptions) (BackfillReport, error) {
	rep := BackfillReport{Source: src.ID, DryRun: o.DryRun, ByTopic: map[string]map[classify.Stance]int{}}
	now := r.o.Now()
	if o.Until.IsZero() {
		o.Until = now
	}
	if o.Since.IsZero() {
		return rep, errors.New("backfill: no start of the window (since)")
	}
	if !o.Since.Before(o.Until) {
		return rep, fmt.Errorf("backfill: since %s is not before until %s",
			o.Since.Format(time.RFC3339), o.Until.Format(time.RFC3339))
	}
	b := &backfill{
		r: r, src: src, o: o, rep: &rep,
		log:  r.log.With("source", src.ID),
		done: map[string]bool{}, stored: map[string]bool{},
	}

	var errs []error
	if err := b.pages(ctx); err != nil {
		errs = append(errs, err)
	}
	if a := src.Archive; a != nil && a.Sitemap != "" && ctx.Err() == nil {
		if err := b.sitemap(ctx, a.Sitemap); err != nil {
			errs = append(errs, err)
		}
	}
	if a := src.Archive; a != nil && a.Query != "" && ctx.Err() == nil {
		if err := b.search(ctx, a.Query); err != nil {
			errs = append(errs, err)
		}
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
	r   *Runner
	src Source
	o   BackfillOptions
	rep *BackfillReport
	log *slog.Logger
	// total and handled count the sitemap entries to go through, for
	// progress.
	total, handled int
	// done holds the keys ("k:") and URLs ("u:") taken in this backfill.
	done map[string]bool
	// stored holds the keys of taken items the store had before.
	stored map[string]bool
}

// lookup asks the store which of items it has: it returns the stored
// key of each known URL (an article a sitemap lists may be stored under
// a feed GUID) and notes in b.stored the keys, given or stored under the
// URL, that the store has.
func (b *backfill) lookup(ctx context.Context, items []fetch.Item) (map[string]string, error) {
	var urls, keys []string
	for _, it := range items {
		keys = append(keys, it.Key)
		if it.URL != "" {
			urls = append(urls, it.URL)
		}
	}
	byURL, err := b.r.o.Store.KeysByURL(ctx, b.src.ID, urls)
	if err != nil {
		return nil, err
	}
	for _, k := range byURL {
		keys = append(keys, k)
	}
	unseen, err := b.r.o.Store.Unseen(ctx, b.src.ID, keys)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if !unseen[k] {
			b.stored[k] = true
		}
	}
	return byURL, nil
}

func (b *backfill) progress(stage, url string) {
	if b.o.Progress == nil {
		return
	}
	b.o.Progress(Progress{
		Source: b.src.ID, Stage: stage, URL: url,
		Pages: b.rep.Pages, Articles: b.handled, ArticlesTotal: b.total,
		Items: b.rep.Items, InWindow: b.rep.InWindow, Relevant: b.rep.Relevant,
	})
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

// pages reads the source's current document and, when its archive has a
// page parameter, the pages after it: until a page is empty, is missing
// (404, 410), repeats earlier pages, holds nothing inside or newer than
// the window, or the page limit is reached.
func (b *backfill) pages(ctx context.Context) error {
	fetcher, ok := b.r.o.Fetchers[b.src.Kind]
	if !ok {
		return &fetch.Error{Kind: fetch.ErrConfig, URL: b.src.URL, Err: fmt.Errorf("no fetcher for source kind %q", b.src.Kind)}
	}
	listed := map[string]bool{}
	limit := b.maxPages()
	for n := 1; n <= limit && ctx.Err() == nil; n++ {
		u := archive.Pages(b.src.Source, n)
		if u == "" {
			return nil
		}
		s := b.src.Source
		s.URL = u
		batch, err := fetcher.Fetch(ctx, s, fetch.Validators{})
		if err != nil {
			if n > 1 && endOfArchive(err) {
				b.log.Debug("end of the archive", "url", u, "page", n)
				return nil
			}
			b.rep.Failed++
			return fmt.Errorf("page %d: %w", n, err)
		}
		b.rep.Pages++
		repeated := len(batch.Items) > 0
		for _, it := range batch.Items {
			if !listed[it.Key] {
				repeated = false
				listed[it.Key] = true
			}
		}
		in, newer, err := b.take(ctx, batch.Items, false)
		b.log.Debug("backfill page", "url", u, "page", n, "items", len(batch.Items), "in_window", in)
		b.progress(StagePage, u)
		switch {
		case err != nil:
			return err
		case len(batch.Items) == 0:
			return nil
		case repeated:
			b.log.Debug("page repeats earlier pages; the server ignores the page parameter", "url", u)
			return nil
		case in == 0 && !newer:
			return nil // older than the window from here on
		}
	}
	return nil
}

// endOfArchive reports whether err is how a paginated feed says there is
// no such page.
func endOfArchive(err error) bool {
	var fe *fetch.Error
	return errors.As(err, &fe) && fe.Kind == fetch.ErrHTTP && (fe.Status == 404 || fe.Status == 410)
}

// take keeps the items of one document that are inside the window and
// not taken yet, and labels and commits them. Undated items are kept only
// from date-scoped documents. It returns how many items were inside the
// window (taken before or not) and whether some item was newer than it.
func (b *backfill) take(ctx context.Context, items []fetch.Item, dateScoped bool) (in int, newer bool, err error) {
	var inWindow []fetch.Item
	for _, it := range items {
		b.rep.Items++
		switch p := it.Published; {
		case p.IsZero() && !dateScoped:
			b.rep.Undated++
			continue
		case p.IsZero():
		case !p.Before(b.o.Until):
			newer = true
			continue
		case p.Before(b.o.Since):
			continue
		}
		in++
		inWindow = append(inWindow, it)
	}
	if len(inWindow) == 0 {
		return in, newer, nil
	}
	byURL, err := b.lookup(ctx, inWindow)
	if err != nil {
		return in, newer, err
	}
	var keep []fetch.Item
	for _, it := range inWindow {
		if key, ok := byURL[it.URL]; ok && it.URL != "" && key != it.Key && !b.done["k:"+key] {
			it.Key = key // stored under another key (a sitemap URL, say)
		}
		if b.claim(it) {
			keep = append(keep, it)
		}
	}
	return in, newer, b.label(ctx, keep)
}

// claim marks an item taken; false when it (its key or its URL) was
// taken already.
func (b *backfill) claim(it fetch.Item) bool {
	if b.done["k:"+it.Key] || (it.URL != "" && b.done["u:"+it.URL]) {
		return false
	}
	b.done["k:"+it.Key] = true
	if it.URL != "" {
		b.done["u:"+it.URL] = true
	}
	b.rep.InWindow++
	if !b.stored[it.Key] {
		b.rep.New++
	}
	return true
}

// label fills thin items, classifies them and, unless this is a dry run,
// commits them with delivery on, leaving the source's health alone.
func (b *backfill) label(ctx context.Context, items []fetch.Item) error {
	if len(items) == 0 {
		return nil
	}
	thin := make([]fetch.Item, 0, len(items))
	var at []int
	for i, it := range items {
		if !it.Provenance.Extracted { // read from its page already: as full as it gets
			thin = append(thin, it)
			at = append(at, i)
		}
	}
	b.r.fillThin(ctx, b.log, b.src, thin)
	for j, i := range at {
		items[i] = thin[j]
	}
	labeled := make([]store.Labeled, len(items))
	for i, it := range items {
		res := b.r.o.Classifier.Classify(it)
		labeled[i] = store.Labeled{Item: withLang(it, res), Result: res}
		if !res.Relevant {
			continue
		}
		b.rep.Relevant++
		if !b.stored[it.Key] {
			b.rep.NewRelevant++
		}
		topics := res.Topics
		if len(topics) == 0 {
			topics = []string{""}
		}
		for _, t := range topics {
			if b.rep.ByTopic[t] == nil {
				b.rep.ByTopic[t] = map[classify.Stance]int{}
			}
			b.rep.ByTopic[t][res.Stance]++
		}
		if b.o.DryRun {
			b.rep.WouldDeliver = append(b.rep.WouldDeliver, labeled[i])
		}
	}
	if b.o.DryRun {
		return nil
	}
	n, err := b.r.o.Store.CommitBackfill(ctx, store.BackfillCommit{
		SourceID: b.src.ID, At: b.r.o.Now(), Items: labeled, Sinks: b.r.names, Redeliver: b.o.Redeliver,
	})
	if err != nil {
		return err
	}
	b.rep.Queued += n
	if n > 0 {
		b.r.Kick()
	}
	return nil
}

// sitemap reads the source's sitemap and the articles it dates inside
// the window. Articles the store holds already are not fetched again.
func (b *backfill) sitemap(ctx context.Context, sitemapURL string) error {
	if b.o.Getter == nil {
		return &fetch.Error{Kind: fetch.ErrConfig, URL: sitemapURL, Err: errors.New("backfill: no getter to read sitemaps")}
	}
	if b.o.Articles == nil && b.r.o.FullText == nil {
		return &fetch.Error{Kind: fetch.ErrConfig, URL: sitemapURL, Err: errors.New("backfill: no article reader for sitemap entries")}
	}
	res, serr := archive.ReadSitemap(ctx, b.o.Getter, b.src.Source, sitemapURL, archive.SitemapOptions{
		Since: b.o.Since, Until: b.o.Until,
		Fetched: func(u string, _ int) {
			b.rep.Pages++
			b.progress(StageSitemap, u)
		},
	})
	if res.Sitemaps == 0 && serr != nil {
		b.rep.Failed++
		return fmt.Errorf("sitemap: %w", serr)
	}
	b.rep.Items += res.Listed
	b.rep.Undated += res.Undated
	b.total += len(res.Entries)
	listed := make([]fetch.Item, len(res.Entries))
	for i, e := range res.Entries {
		listed[i] = fetch.Item{Key: e.URL, URL: e.URL}
	}
	byURL, err := b.lookup(ctx, listed)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(byURL))
	for _, k := range byURL {
		keys = append(keys, k)
	}
	stored, err := b.r.o.Store.StoredItems(ctx, b.src.ID, keys)
	if err != nil {
		return err
	}
	var batch []fetch.Item
	for _, e := range res.Entries {
		if ctx.Err() != nil {
			break
		}
		if it, ok := b.sitemapItem(ctx, e, byURL, stored); ok && b.claim(it) {
			batch = append(batch, it)
		}
		b.handled++
		b.progress(StageArticle, e.URL)
		if len(batch) >= articleBatch {
			if err := b.label(ctx, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if err := b.label(ctx, batch); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("sitemap: %w", serr)
	}
	return nil
}

// sitemapItem turns a sitemap entry into an item: the stored one when the
// store has the URL, else the article read from the page.
func (b *backfill) sitemapItem(ctx context.Context, e archive.Entry, byURL map[string]string, stored map[string]fetch.Item) (fetch.Item, bool) {
	if key, ok := byURL[e.URL]; ok {
		if b.done["k:"+key] {
			return fetch.Item{}, false
		}
		it := stored[key]
		if it.Published.IsZero() {
			it.Published = e.Date()
		}
		return it, true
	}
	if b.done["u:"+e.URL] {
		return fetch.Item{}, false
	}
	it := fetch.Item{
		Key: e.URL, SourceID: b.src.ID, SourceName: b.src.Name, SourceActor: b.src.Actor,
		URL: e.URL, Title: e.Title, Lang: b.src.Lang, Published: e.Date(), Fetched: b.r.o.Now(),
	}
	var err error
	if b.o.Articles != nil {
		var a extract.Article
		if a, err = b.o.Articles.Extract(ctx, b.src.Source, e.URL); err == nil {
			it.Content, it.Provenance = a.Text, a.Provenance
			if it.Title == "" {
				it.Title = a.Title
			}
		}
	} else {
		it.Content, it.Provenance, err = b.r.o.FullText.FullText(ctx, b.src.Source, e.URL)
	}
	b.rep.Articles++
	if err != nil {
		b.rep.Failed++
		b.log.Warn("article not read", "url", e.URL, "err", err)
		return fetch.Item{}, false
	}
	it.Provenance.Extracted = true
	if !it.Provenance.FetchedAt.IsZero() {
		it.Fetched = it.Provenance.FetchedAt
	}
	return it, true
}

// search runs the source's news search over the window. A window whose
// search comes back full is split in two and searched again, down to
// two days.
func (b *backfill) search(ctx context.Context, query string) error {
	fetcher, ok := b.r.o.Fetchers[fetch.KindFeed]
	if !ok {
		return &fetch.Error{Kind: fetch.ErrConfig, Err: errors.New("backfill: no feed fetcher for the news search")}
	}
	type window struct{ since, until time.Time }
	queue := []window{{b.o.Since, b.o.Until}}
	var errs []error
	for n := 0; len(queue) > 0 && ctx.Err() == nil; n++ {
		if n >= maxSearches {
			errs = append(errs, fmt.Errorf("search: stopped after %d queries", n))
			break
		}
		w := queue[0]
		queue = queue[1:]
		s := b.src.Source
		s.Kind = fetch.KindFeed
		s.URL = archive.SearchURL(query, w.since, w.until, b.src.Lang)
		batch, err := fetcher.Fetch(ctx, s, fetch.Validators{})
		if err != nil {
			b.rep.Failed++
			errs = append(errs, fmt.Errorf("search %s: %w", s.URL, err))
			continue
		}
		b.rep.Pages++
		_, _, err = b.take(ctx, batch.Items, true)
		b.progress(StageSearch, s.URL)
		if err != nil {
			return err
		}
		if len(batch.Items) >= archive.SearchCap && w.until.Sub(w.since) > 48*time.Hour {
			mid := w.since.Add(w.until.Sub(w.since) / 2).Truncate(24 * time.Hour)
			if mid.After(w.since) && mid.Before(w.until) {
				queue = append(queue, window{w.since, mid}, window{mid, w.until})
			}
		}
	}
	return errors.Join(errs...)
}
