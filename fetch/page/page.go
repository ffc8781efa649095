package page

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/normalize"
	"github.com/treatywatch/treatywatch/internal/redact"
)

// Fetcher reads listing pages of sources of kind "page". It keeps no
// state and is safe for concurrent use.
type Fetcher struct {
	get fetch.Getter
}

// New returns a Fetcher that fetches through g.
func New(g fetch.Getter) *Fetcher {
	return &Fetcher{get: g}
}

var _ fetch.Fetcher = (*Fetcher)(nil)

// Fetch fetches the source's page and returns one item per element the
// item selector matches. When the selector matches nothing, Fetch returns
// a Batch with no items, NotModified false and no error: the page was read
// but the selectors found nothing, which the caller counts (a site that
// changed its template shows as runs with zero items).
func (f *Fetcher) Fetch(ctx context.Context, src fetch.Source, prev fetch.Validators) (fetch.Batch, error) {
	if src.Page == nil {
		return fetch.Batch{}, &fetch.Error{Kind: fetch.ErrConfig, URL: src.URL, Err: fmt.Errorf("page: source %s has no selectors", src.ID)}
	}
	sels, err := compile(*src.Page)
	if err != nil {
		return fetch.Batch{}, &fetch.Error{Kind: fetch.ErrConfig, URL: src.URL, Err: fmt.Errorf("page: source %s: %w", src.ID, err)}
	}
	resp, err := f.get.Get(ctx, src, src.URL, prev)
	if err != nil {
		return fetch.Batch{}, err
	}
	final := resp.FinalURL
	if final == "" {
		final = src.URL
	}
	prov := resp.Provenance()
	prov.FinalURL = redact.URL(final)
	batch := fetch.Batch{Next: resp.Next, RetryAfter: resp.RetryAfter, Provenance: prov}
	if resp.NotModified {
		batch.NotModified = true
		if batch.Next == (fetch.Validators{}) {
			batch.Next = prev
		}
		return batch, nil
	}
	fetched := resp.FetchedAt
	if fetched.IsZero() {
		fetched = time.Now()
	}
	items, err := parse(resp.Body, resp.Header.Get("Content-Type"), src.Charset, final, src, sels, fetched)
	if err != nil {
		return fetch.Batch{}, &fetch.Error{Kind: fetch.ErrParse, URL: final, Status: resp.Status, Err: err}
	}
	for i := range items {
		items[i].Provenance = batch.Provenance
	}
	batch.Items = items
	return batch, nil
}

// Parse reads a listing page with the source's selectors. contentType is
// the response's Content-Type (it may carry the charset); pageURL is the
// URL the page was fetched from, against which relative links resolve
// (a <base href> in the page wins). Dates in the future are clamped to
// fetched. Items whose links repeat an earlier item's are dropped.
func Parse(body []byte, contentType, pageURL string, src fetch.Source, fetched time.Time) ([]fetch.Item, error) {
	if src.Page == nil {
		return nil, fmt.Errorf("page: source %s has no selectors", src.ID)
	}
	sels, err := compile(*src.Page)
	if err != nil {
		return nil, fmt.Errorf("page: source %s: %w", src.ID, err)
	}
	return parse(body, contentType, src.Charset, pageURL, src, sels, fetched)
}

// SelectorError names the selector that does not compile.
type SelectorError struct {
	Field    string // "item", "link", "title", "date" or "summary"
	Selector string
	Err      error
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("%s selector %q: %v", e.Field, e.Selector, e.Err)
}

func (e *SelectorError) Unwrap() error { return e.Err }

// ErrNoItemSelector is returned by Validate when the item selector is
// empty.
var ErrNoItemSelector = errors.New("page: the item selector is required")

// Validate compiles every selector and returns a *SelectorError for the
// first that does not compile. goquery silently matches nothing on a bad
// selector, so this must run when the configuration loads.
func Validate(sel fetch.PageSelectors) error {
	_, err := compile(sel)
	return err
}

// selectors are the compiled selectors of a page source; nil means not
// set.
type selectors struct {
	item, link, title, date, summary goquery.Matcher
	dateLayout                       string
}

func compile(ps fetch.PageSelectors) (selectors, error) {
	if strings.TrimSpace(ps.Item) == "" {
		return selectors{}, ErrNoItemSelector
	}
	s := selectors{dateLayout: ps.DateLayout}
	for _, f := range []struct {
		name string
		src  string
		dst  *goquery.Matcher
	}{
		{"item", ps.Item, &s.item},
		{"link", ps.Link, &s.link},
		{"title", ps.Title, &s.title},
		{"date", ps.Date, &s.date},
		{"summary", ps.Summary, &s.summary},
	} {
		if strings.TrimSpace(f.src) == "" {
			continue
		}
		sel, err := cascadia.Compile(f.src)
		if err != nil {
			return selectors{}, &SelectorError{Field: f.name, Selector: f.src, Err: err}
		}
		*f.dst = sel
	}
	return s, nil
}

func parse(body []byte, contentType, override, pageURL string, src fetch.Source, sels selectors, fetched time.Time) ([]fetch.Item, error) {
	utf8Body, _, err := fetch.DecodeHTML(body, contentType, override)
	if err != nil {
		return nil, fmt.Errorf("page: %s: %w", pageURL, err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(utf8Body))
	if err != nil {
		return nil, fmt.Errorf("page: parse %s: %w", pageURL, err)
	}
	base, err := url.Parse(strings.TrimSpace(pageURL))
	if err != nil {
		return nil, fmt.Errorf("page: page URL %q: %w", pageURL, err)
	}
	page := base.String()
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := base.Parse(cleanHref(href)); err == nil {
			base = b
		}
	}

	var items []fetch.Item
	seen := make(map[string]bool)
	doc.FindMatcher(sels.item).Each(func(_ int, el *goquery.Selection) {
		it := fetch.Item{
			SourceID:    src.ID,
			SourceName:  src.Name,
			SourceActor: src.Actor,
			Lang:        src.Lang,
			Fetched:     fetched,
		}
		linkEl := el
		if sels.link != nil {
			linkEl = pick(el, sels.link)
		}
		var a *goquery.Selection
		if linkEl != nil {
			var u *url.URL
			if u, a = resolveLink(base, linkEl); u != nil {
				it.URL = u.String()
				it.Key = normalize.CanonicalURL(u)
			}
		}
		if t := pick(el, sels.title); t != nil {
			it.Title = text(t)
		} else if a != nil {
			it.Title = text(a)
			if it.Title == "" {
				it.Title = normalize.Collapse(a.AttrOr("title", ""))
			}
		}
		if s := pick(el, sels.summary); s != nil {
			it.Summary = text(s)
		}
		if d := pick(el, sels.date); d != nil {
			if t, ok := parseDate(dateText(d), sels.dateLayout); ok {
				if t.After(fetched) {
					t = fetched
				}
				it.Published = t
			}
		}
		if it.Key == "" {
			if it.Title == "" {
				return // nothing to identify the item by
			}
			it.Key = normalize.ContentKey(it.Title, it.Summary)
		}
		if it.URL == "" {
			// No usable link (none, javascript:, mailto:): the item
			// points at the page it was found on, so a reader can open it.
			it.URL = page
		}
		if seen[it.Key] {
			return
		}
		seen[it.Key] = true
		items = append(items, it)
	})
	return items, nil
}

// pick returns the first element inside el that sel matches, or el itself
// when it matches (so a selector can name the item element), or nil.
func pick(el *goquery.Selection, sel goquery.Matcher) *goquery.Selection {
	if sel == nil {
		return nil
	}
	if found := el.FindMatcher(sel).First(); found.Length() > 0 {
		return found
	}
	if el.IsMatcher(sel) {
		return el
	}
	return nil
}

// resolveLink returns the absolute http(s) URL of el's link and the
// element that carries it: el itself when it has an href, else its first
// descendant <a> whose href is a web link (javascript:, mailto: and
// same-page anchors are passed over). It returns nil when there is none.
func resolveLink(base *url.URL, el *goquery.Selection) (*url.URL, *goquery.Selection) {
	var found *url.URL
	var at *goquery.Selection
	cands := el.Find("a[href]")
	if _, ok := el.Attr("href"); ok {
		cands = el.AddSelection(cands)
	}
	cands.EachWithBreak(func(_ int, a *goquery.Selection) bool {
		href := cleanHref(a.AttrOr("href", ""))
		if href == "" || strings.HasPrefix(href, "#") {
			return true
		}
		u, err := base.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return true
		}
		found, at = u, a
		return false
	})
	return found, at
}

// cleanHref strips what the URL standard strips from an href: leading and
// trailing white space, and tabs and newlines anywhere.
func cleanHref(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	}
	return s
}

// text returns the element's text with white space collapsed.
func text(s *goquery.Selection) string {
	return normalize.Collapse(s.Text())
}

// dateText prefers a machine-readable date: the datetime attribute of a
// <time> element (the element itself or inside it), or a content
// attribute, then the visible text.
func dateText(s *goquery.Selection) string {
	for _, el := range []*goquery.Selection{s, s.Find("time[datetime]").First()} {
		if el.Length() == 0 {
			continue
		}
		if v, ok := el.Attr("datetime"); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	if v, ok := s.Attr("content"); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return text(s)
}
