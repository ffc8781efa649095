package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/normalize"
)

// Done is what a Walker's Next returns once its archive has ended.
var Done = errors.New("archive: end of the archive")

// ErrLimit wraps the error of a walker that stopped at one of its
// bounds (page, sitemap or query limits) before its archive ended.
var ErrLimit = errors.New("archive: limit reached")

// Stages of a walk: what kind of document a Doc is.
const (
	StagePage    = "page"    // a page of the source's feed or listing
	StageSitemap = "sitemap" // sitemap documents
	StageArticle = "article" // article pages a sitemap listed
	StageSearch  = "search"  // a news search over part of the window
)

// Scope says how far a document's items are bounded by the window.
type Scope uint8

const (
	// Undated items are outside; dated ones are kept to the window.
	ScopeDated Scope = iota
	// The document was asked for the window (a dated search): undated
	// items are inside, dated ones are kept to the window.
	ScopeSearch
	// The walker kept only items inside the window (a sitemap's dates
	// may be coarse: "2024-05" is all of May).
	ScopeWindow
)

// Doc is one step of a walk: a document read, and the items it gave.
type Doc struct {
	fetch.Batch
	Stage string
	URL   string
	// Read counts the documents read for this step (sitemaps, pages,
	// searches); article pages are read later, by whoever fills Links
	// items.
	Read int
	// Listed counts what the documents listed, Undated the entries left
	// out for want of a date (sitemaps).
	Listed, Undated int
	Scope           Scope
	// Links is set when the items carry only a link (a title and a date
	// at best): their text is on their pages.
	Links bool
	// Total is the number of article links the walk will yield in all,
	// given on the first Doc that knows it.
	Total int
}

// Walker goes through an archive one document at a time, oldest
// pagination state first. Next returns the next Doc, an error for a
// document that could not be read (Next may be called again: the walker
// goes on if it can), or Done when the archive has ended. A Walker is
// not safe for concurrent use.
type Walker interface {
	Next(ctx context.Context) (Doc, error)
}

// Window is the part of an archive a walk is after: [Since, Until).
type Window struct{ Since, Until time.Time }

// Pages walks a paginated source (WordPress "?paged=N", or only its
// current document when the source has no page parameter) through f:
// until a page is empty, is missing (404, 410), repeats the pages before
// it, holds nothing dated inside or after the window, or maxPages pages
// were read.
func Pages(f fetch.Fetcher, src fetch.Source, w Window, maxPages int) Walker {
	return &pages{f: f, src: src, w: w, max: maxPages, listed: map[string]bool{}}
}

type pages struct {
	f      fetch.Fetcher
	src    fetch.Source
	w      Window
	max, n int
	done   bool
	listed map[string]bool
}

func (p *pages) Next(ctx context.Context) (Doc, error) {
	if p.done || p.n >= p.max {
		return Doc{}, Done
	}
	p.n++
	u := PageURL(p.src, p.n)
	if u == "" {
		return Doc{}, Done
	}
	s := p.src
	s.URL = u
	batch, err := p.f.Fetch(ctx, s, fetch.Validators{})
	if err != nil {
		p.done = true
		if p.n > 1 && EndOfArchive(err) {
			return Doc{}, Done
		}
		return Doc{}, fmt.Errorf("page %d: %w", p.n, err)
	}
	repeated, newer := len(batch.Items) > 0, false
	for _, it := range batch.Items {
		if !p.listed[it.Key] {
			repeated = false
			p.listed[it.Key] = true
		}
		if !it.Published.IsZero() && !it.Published.Before(p.w.Since) {
			newer = true
		}
	}
	// Empty, the same items again (the server ignores the page
	// parameter), or older than the window from here on: the end.
	p.done = len(batch.Items) == 0 || repeated || !newer
	return Doc{Batch: batch, Stage: StagePage, URL: u, Read: 1, Listed: len(batch.Items)}, nil
}

// EndOfArchive reports whether err is how a paginated source says there
// is no such page.
func EndOfArchive(err error) bool {
	var fe *fetch.Error
	return errors.As(err, &fe) && fe.Kind == fetch.ErrHTTP && (fe.Status == 404 || fe.Status == 410)
}

// SitemapBatch is how many article links one sitemap Doc carries, so a
// walk's consumer can commit as it goes.
const SitemapBatch = 10

// Sitemaps walks the sitemap at sitemapURL (an index is followed to its
// children, see ReadSitemap): its first Doc counts the sitemaps read,
// then the pages dated inside the window come as link items, a batch at
// a time, keyed like every other item (normalize.Key). A child sitemap
// that failed is reported after the links the others gave.
func Sitemaps(g fetch.Getter, src fetch.Source, sitemapURL string, w Window, now time.Time) Walker {
	return &sitemaps{g: g, src: src, url: sitemapURL, w: w, now: now}
}

type sitemaps struct {
	g       fetch.Getter
	src     fetch.Source
	url     string
	w       Window
	now     time.Time
	read    bool
	entries []Entry
	err     error
	stopped bool
}

func (s *sitemaps) Next(ctx context.Context) (Doc, error) {
	if !s.read {
		s.read = true
		var urls []string
		res, err := ReadSitemap(ctx, s.g, s.src, s.url, SitemapOptions{
			Since: s.w.Since, Until: s.w.Until,
			Fetched: func(u string, _ int) { urls = append(urls, u) },
		})
		if res.Sitemaps == 0 && err != nil {
			s.stopped = true
			return Doc{}, fmt.Errorf("sitemap: %w", err)
		}
		if err != nil {
			s.err = fmt.Errorf("sitemap: %w", err)
		}
		s.entries = res.Entries
		last := s.url
		if len(urls) > 0 {
			last = urls[len(urls)-1]
		}
		return Doc{Stage: StageSitemap, URL: last, Read: res.Sitemaps, Listed: res.Listed, Undated: res.Undated,
			Scope: ScopeWindow, Total: len(res.Entries)}, nil
	}
	if len(s.entries) == 0 {
		if s.err != nil && !s.stopped {
			s.stopped = true
			return Doc{}, s.err
		}
		return Doc{}, Done
	}
	n := min(SitemapBatch, len(s.entries))
	batch := s.entries[:n]
	s.entries = s.entries[n:]
	items := make([]fetch.Item, len(batch))
	for i, e := range batch {
		items[i] = fetch.Item{
			Key: normalize.Key("", e.URL, e.Title, ""), SourceID: s.src.ID, SourceName: s.src.Name,
			SourceActor: s.src.Actor, URL: e.URL, Title: e.Title, Lang: s.src.Lang, Published: e.Date(), Fetched: s.now,
		}
	}
	return Doc{Batch: fetch.Batch{Items: items}, Stage: StageArticle, URL: batch[n-1].URL, Scope: ScopeWindow, Links: true}, nil
}

// MaxSearches bounds the queries of one search walk (a window is split
// while its search comes back full).
const MaxSearches = 200

// Search walks a news search for query over the window through f (a
// feed fetcher): a window whose search comes back full (SearchCap) is
// split in two and searched again, down to two days. A search that
// fails is reported and the walk goes on.
func Search(f fetch.Fetcher, src fetch.Source, query string, w Window) Walker {
	return &search{f: f, src: src, query: query, queue: []Window{w}}
}

type search struct {
	f     fetch.Fetcher
	src   fetch.Source
	query string
	queue []Window
	n     int
}

func (s *search) Next(ctx context.Context) (Doc, error) {
	if len(s.queue) == 0 {
		return Doc{}, Done
	}
	if s.n >= MaxSearches {
		s.queue = nil
		return Doc{}, fmt.Errorf("search: stopped after %d queries: %w", s.n, ErrLimit)
	}
	s.n++
	w := s.queue[0]
	s.queue = s.queue[1:]
	src := s.src
	src.Kind = fetch.KindFeed
	src.URL = SearchURL(s.query, w.Since, w.Until, s.src.Lang)
	batch, err := s.f.Fetch(ctx, src, fetch.Validators{})
	if err != nil {
		return Doc{}, fmt.Errorf("search %s: %w", src.URL, err)
	}
	if len(batch.Items) >= SearchCap && w.Until.Sub(w.Since) > 48*time.Hour {
		mid := w.Since.Add(w.Until.Sub(w.Since) / 2).Truncate(24 * time.Hour)
		if mid.After(w.Since) && mid.Before(w.Until) {
			s.queue = append(s.queue, Window{w.Since, mid}, Window{mid, w.Until})
		}
	}
	return Doc{Batch: batch, Stage: StageSearch, URL: src.URL, Read: 1, Listed: len(batch.Items), Scope: ScopeSearch}, nil
}
