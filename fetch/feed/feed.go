package feed

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/normalize"
	"github.com/treatywatch/treatywatch/internal/redact"
)

// Options configure a Fetcher.
type Options struct {
	Logger *slog.Logger
}

// Fetcher fetches feed sources. It keeps no state between fetches and is
// safe for concurrent use.
type Fetcher struct {
	get fetch.Getter
	log *slog.Logger
}

var _ fetch.Fetcher = (*Fetcher)(nil)

// New returns a Fetcher that GETs through g (usually the shared
// *fetch.Client).
func New(g fetch.Getter, opts Options) *Fetcher {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Fetcher{get: g, log: opts.Logger}
}

// Fetch does a conditional GET of src.URL with the validators of prev
// and parses the feed. A 304 returns a Batch with NotModified set and no
// items. Errors are *fetch.Error.
func (f *Fetcher) Fetch(ctx context.Context, src fetch.Source, prev fetch.Validators) (fetch.Batch, error) {
	resp, err := f.get.Get(ctx, src, src.URL, prev)
	if err != nil {
		return fetch.Batch{}, err
	}
	prov := resp.Provenance()
	if resp.NotModified {
		return fetch.Batch{NotModified: true, Next: resp.Next, RetryAfter: resp.RetryAfter, Provenance: prov}, nil
	}
	items, ttl, err := parse(resp.Body, resp.Header.Get("Content-Type"), resp.FinalURL, src, resp.FetchedAt, prov)
	if err != nil {
		f.log.Warn("feed: parse failed", "source", src.ID, "url", redact.URL(resp.FinalURL), "err", err)
		return fetch.Batch{}, err
	}
	return fetch.Batch{
		Items:      items,
		Next:       resp.Next,
		RetryAfter: max(ttl, resp.RetryAfter),
		Provenance: prov,
	}, nil
}

// normalise turns gofeed items into fetch.Items.
func normalise(f *gofeed.Feed, base *url.URL, src fetch.Source, fetched time.Time, prov fetch.Provenance) []fetch.Item {
	lang := strings.ToLower(strings.TrimSpace(f.Language))
	if lang == "" {
		lang = src.Lang
	}
	feedAuthor := person(f.Authors)
	items := make([]fetch.Item, 0, len(f.Items))
	seen := make(map[string]bool, len(f.Items))
	var w normalize.Spacer // the buffer plainText reuses, as long as the longest field
	longest := 0
	for _, it := range f.Items {
		if it != nil {
			longest = max(longest, len(it.Title), len(it.Description), len(it.Content))
		}
	}
	w.Grow(longest)
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		link := it.Link
		if link == "" && len(it.Links) > 0 {
			link = it.Links[0]
		}
		out := fetch.Item{
			SourceID:    src.ID,
			SourceName:  src.Name,
			SourceActor: src.Actor,
			URL:         normalize.Link(link, base),
			Title:       plainTextIn(&w, it.Title),
			Summary:     plainTextIn(&w, it.Description),
			Lang:        lang,
			Author:      person(it.Authors),
			Fetched:     fetched,
			Provenance:  prov,
		}
		if it.Content != it.Description { // the same text would be dropped below
			out.Content = plainTextIn(&w, it.Content)
		}
		if out.Author == "" {
			out.Author = feedAuthor
		}
		if out.Summary == out.Content {
			out.Content = ""
		}
		out.Published = itemDate(it.Published, it.PublishedParsed)
		if out.Published.IsZero() {
			out.Published = itemDate(it.Updated, it.UpdatedParsed)
		}
		if out.Published.After(fetched) {
			out.Published = fetched
		}
		out.Key = normalize.Key(it.GUID, out.URL, out.Title, out.Summary)
		if seen[out.Key] {
			// A feed that repeats a GUID: tell the items apart, stably.
			out.Key = normalize.Distinct(out.Key, out.URL, out.Title, out.Summary)
		}
		seen[out.Key] = true
		items = append(items, out)
	}
	return items
}

func person(ps []*gofeed.Person) string {
	var names []string
	for _, p := range ps {
		if p == nil {
			continue
		}
		name := normalize.Collapse(p.Name)
		if name == "" {
			name = normalize.Collapse(p.Email)
		}
		if name != "" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

// dateLayouts are the common feed date forms that carry a numeric zone,
// by how a date in them begins: a year ("2006-"), a weekday, a day.
// Within a group, the first that parses a date wins.
var dateLayouts = [...][]string{
	yearFirst: {
		time.RFC3339Nano,
		"2006-01-02T15:04:05-0700",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05-07:00",
	},
	weekdayFirst: {
		// Also RFC 1123 with a numeric zone: "2" reads a day of one or
		// two digits.
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04 -0700",
	},
	dayFirst: {
		"2 Jan 2006 15:04:05 -0700",
		time.RFC822Z,
	},
}

const (
	yearFirst = iota
	weekdayFirst
	dayFirst
)

// layoutsFor returns the dateLayouts raw can match: those that begin as
// raw does and end, as raw does, in a numeric zone or "Z". Each one left
// out would fail to parse, so the first of them that parses raw is the
// first of all dateLayouts that does; a failed time.Parse allocates its
// error, and most feed dates are not in the first layout.
func layoutsFor(raw string) []string {
	if len(raw) < 5 {
		return nil
	}
	if last := raw[len(raw)-1]; last != 'Z' && (last < '0' || last > '9') {
		return nil // a named zone ("GMT") or none
	}
	switch c := raw[0]; {
	case raw[4] == '-':
		return dateLayouts[yearFirst]
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return dateLayouts[weekdayFirst]
	case c >= '0' && c <= '9':
		return dateLayouts[dayFirst]
	}
	return nil
}

// itemDate returns the date of raw with the zone the feed gave. gofeed
// parses many more forms but turns RSS and Atom dates into UTC: its
// result is used when raw has no numeric zone we can read.
func itemDate(raw string, parsed *time.Time) time.Time {
	raw = strings.TrimSpace(raw)
	for _, layout := range layoutsFor(raw) {
		t, err := time.Parse(layout, raw)
		if err != nil {
			continue
		}
		if parsed == nil || t.Equal(*parsed) {
			return t
		}
		break
	}
	if parsed != nil {
		return *parsed
	}
	return time.Time{}
}
