package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// MaxSitemapBytes bounds a sitemap once decompressed. The protocol allows
// 50 MB; a little more is tolerated.
const MaxSitemapBytes = 64 << 20

// DefaultMaxSitemaps bounds how many sitemap documents one ReadSitemap
// fetches when SitemapOptions.MaxSitemaps is zero.
const DefaultMaxSitemaps = 500

// Entry is one <url> of a urlset or one <sitemap> of a sitemap index.
type Entry struct {
	URL string
	// LastMod is the <lastmod> date; zero when absent or unreadable.
	LastMod time.Time
	// Published and Title come from a Google News sitemap's <news:news>.
	Published time.Time
	Title     string

	// The ends of the periods that coarse dates name ("2024-05" is all
	// of May): a date given to the second ends a second later.
	lastModEnd, publishedEnd time.Time
}

// Date returns what the entry is dated by: its publication date when the
// sitemap gives one, else its lastmod; zero when it has neither.
func (e Entry) Date() time.Time {
	if !e.Published.IsZero() {
		return e.Published
	}
	return e.LastMod
}

// Within reports whether the entry's date (see Date) falls inside
// [since, until). A date given only to the day, month or year is inside
// when any part of that period is. Zero bounds are open. An undated
// entry is never within.
func (e Entry) Within(since, until time.Time) bool {
	start, end := e.LastMod, e.lastModEnd
	if !e.Published.IsZero() {
		start, end = e.Published, e.publishedEnd
	}
	if start.IsZero() {
		return false
	}
	if end.IsZero() {
		end = start.Add(time.Second)
	}
	return (since.IsZero() || end.After(since)) && (until.IsZero() || start.Before(until))
}

// Sitemap is one parsed sitemap document: a urlset lists pages in URLs,
// a sitemap index lists other sitemaps in Sitemaps.
type Sitemap struct {
	URLs     []Entry
	Sitemaps []Entry
}

type xmlURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod"`
	News    struct {
		PublicationDate string `xml:"publication_date"`
		Title           string `xml:"title"`
	} `xml:"news"`
}

type xmlSitemap struct {
	XMLName  xml.Name
	URLs     []xmlURL `xml:"url"`
	Sitemaps []xmlURL `xml:"sitemap"`
}

// ParseSitemap reads a sitemap (<urlset>) or a sitemap index
// (<sitemapindex>), gzipped or not. body must be UTF-8 (see
// fetch.DecodeXML). Locations are trimmed; empty ones are dropped.
func ParseSitemap(body []byte) (Sitemap, error) {
	body, err := gunzip(body)
	if err != nil {
		return Sitemap{}, err
	}
	var doc xmlSitemap
	dec := xml.NewDecoder(bytes.NewReader(body))
	// Declarations that still name another charset were decoded already.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&doc); err != nil {
		return Sitemap{}, fmt.Errorf("sitemap: %w", err)
	}
	switch doc.XMLName.Local {
	case "urlset", "sitemapindex":
	default:
		return Sitemap{}, fmt.Errorf("sitemap: root element is <%s>, want <urlset> or <sitemapindex>", doc.XMLName.Local)
	}
	var sm Sitemap
	for _, u := range doc.URLs {
		if e, ok := entryOf(u); ok {
			sm.URLs = append(sm.URLs, e)
		}
	}
	for _, u := range doc.Sitemaps {
		if e, ok := entryOf(u); ok {
			sm.Sitemaps = append(sm.Sitemaps, e)
		}
	}
	return sm, nil
}

func entryOf(u xmlURL) (Entry, bool) {
	loc := strings.TrimSpace(u.Loc)
	if loc == "" {
		return Entry{}, false
	}
	e := Entry{URL: loc, Title: strings.TrimSpace(u.News.Title)}
	e.LastMod, e.lastModEnd, _ = parseW3C(u.LastMod)
	e.Published, e.publishedEnd, _ = parseW3C(u.News.PublicationDate)
	return e, true
}

// gunzip decompresses a gzip body (sitemap.xml.gz is usually served as a
// gzip file, not with a Content-Encoding the client would undo).
func gunzip(body []byte) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("sitemap: gzip: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxSitemapBytes+1))
	if err != nil {
		return nil, fmt.Errorf("sitemap: gzip: %w", err)
	}
	if len(out) > MaxSitemapBytes {
		return nil, fmt.Errorf("sitemap: more than %d MiB once decompressed", MaxSitemapBytes>>20)
	}
	return out, nil
}

// ParseDate reads a W3C datetime as sitemaps use it: YYYY, YYYY-MM,
// YYYY-MM-DD, YYYY-MM-DDThh:mmTZD, YYYY-MM-DDThh:mm:ssTZD or with
// fractional seconds, TZD being Z or ±hh:mm. A time without a zone is
// taken as UTC, and so is a date alone.
func ParseDate(s string) (time.Time, error) {
	t, _, err := parseW3C(s)
	return t, err
}

// w3cLayouts pair each accepted layout with the period it names.
var w3cLayouts = []struct {
	layout string
	span   func(time.Time) time.Time
}{
	{"2006-01-02T15:04:05.999999999Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02T15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
	{"2006-01-02T15:04:05.999999999", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
	{"2006-01-02T15:04:05-0700", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02 15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02 15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
	{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
}

// parseW3C returns the start and the end of the period a W3C datetime
// names.
func parseW3C(s string) (start, end time.Time, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, time.Time{}, errors.New("sitemap: empty date")
	}
	for _, l := range w3cLayouts {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, l.span(t), nil
		}
	}
	return time.Time{}, time.Time{}, fmt.Errorf("sitemap: date %q is not a W3C datetime", s)
}

// SitemapOptions bound a ReadSitemap.
type SitemapOptions struct {
	// Since and Until are the window [Since, Until); zero bounds are open.
	Since, Until time.Time
	// MaxSitemaps bounds the sitemap documents fetched (default
	// DefaultMaxSitemaps).
	MaxSitemaps int
	// Fetched, when set, is called after each sitemap document is read
	// with its URL and how many entries it listed.
	Fetched func(url string, listed int)
}

// SitemapResult is what ReadSitemap found.
type SitemapResult struct {
	// Entries are the pages dated within the window, each URL once, in
	// the order the sitemaps list them.
	Entries []Entry
	// Sitemaps is the number of sitemap documents read.
	Sitemaps int
	// Listed counts the page URLs listed, Undated those without a date,
	// Outside those dated outside the window.
	Listed, Undated, Outside int
	// Skipped counts child sitemaps not read because their lastmod is
	// before the window (nothing in them changed since).
	Skipped int
}

// ReadSitemap reads the sitemap at sitemapURL through g with the
// source's HTTP settings, follows a sitemap index to its child sitemaps
// (at most MaxSitemaps documents, an index inside an index included),
// and returns the page URLs dated within the window.
//
// Failing to read the first document is an error with no result. A
// child sitemap that fails is skipped; its error is returned, joined
// with the others, next to everything the remaining sitemaps gave.
func ReadSitemap(ctx context.Context, g fetch.Getter, src fetch.Source, sitemapURL string, o SitemapOptions) (SitemapResult, error) {
	if o.MaxSitemaps <= 0 {
		o.MaxSitemaps = DefaultMaxSitemaps
	}
	var res SitemapResult
	var errs []error
	queue := []string{sitemapURL}
	visited := map[string]bool{sitemapURL: true}
	seen := map[string]bool{}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return res, errors.Join(append(errs, err)...)
		}
		if res.Sitemaps >= o.MaxSitemaps {
			errs = append(errs, fmt.Errorf("sitemap: stopped after %d sitemaps, %d not read", res.Sitemaps, len(queue)))
			break
		}
		cur := queue[0]
		queue = queue[1:]
		sm, err := fetchSitemap(ctx, g, src, cur)
		if err != nil {
			if res.Sitemaps == 0 && cur == sitemapURL {
				return SitemapResult{}, err
			}
			errs = append(errs, err)
			continue
		}
		res.Sitemaps++
		if o.Fetched != nil {
			o.Fetched(cur, len(sm.URLs)+len(sm.Sitemaps))
		}
		for _, child := range sm.Sitemaps {
			loc, ok := resolve(cur, child.URL)
			if !ok || visited[loc] {
				continue
			}
			visited[loc] = true
			// A child sitemap last changed before the window lists no page
			// changed inside it. One without a lastmod is read.
			if !child.LastMod.IsZero() && !o.Since.IsZero() && !child.lastModEnd.After(o.Since) {
				res.Skipped++
				continue
			}
			queue = append(queue, loc)
		}
		for _, e := range sm.URLs {
			loc, ok := resolve(cur, e.URL)
			if !ok || seen[loc] {
				continue
			}
			seen[loc] = true
			e.URL = loc
			res.Listed++
			switch {
			case e.Date().IsZero():
				res.Undated++
			case !e.Within(o.Since, o.Until):
				res.Outside++
			default:
				res.Entries = append(res.Entries, e)
			}
		}
	}
	return res, errors.Join(errs...)
}

func fetchSitemap(ctx context.Context, g fetch.Getter, src fetch.Source, u string) (Sitemap, error) {
	resp, err := g.Get(ctx, src, u, fetch.Validators{})
	if err != nil {
		return Sitemap{}, err
	}
	body, err := gunzip(resp.Body)
	if err != nil {
		return Sitemap{}, &fetch.Error{Kind: fetch.ErrParse, URL: u, Err: err}
	}
	body, _, err = fetch.DecodeXML(body, resp.Header.Get("Content-Type"), src.Charset)
	if err != nil {
		return Sitemap{}, &fetch.Error{Kind: fetch.ErrParse, URL: u, Err: err}
	}
	sm, err := ParseSitemap(body)
	if err != nil {
		return Sitemap{}, &fetch.Error{Kind: fetch.ErrParse, URL: u, Err: err}
	}
	return sm, nil
}

// resolve makes loc absolute against the sitemap's URL and keeps only
// http and https locations.
func resolve(base, loc string) (string, bool) {
	b, err := url.Parse(base)
	if err != nil {
		return "", false
	}
	u, err := b.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	u.Fragment = ""
	return u.String(), true
}
