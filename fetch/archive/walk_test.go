package archive

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// urlFetcher answers each URL from a table: a batch, or an error; a URL
// it has no answer for is a 404. It records the URLs asked for.
type urlFetcher struct {
	answers map[string]any
	full    func(u string) bool // when set, a URL it holds true for gets SearchCap items
	asked   []string
}

func (f *urlFetcher) Fetch(_ context.Context, src fetch.Source, _ fetch.Validators) (fetch.Batch, error) {
	f.asked = append(f.asked, src.URL)
	if f.full != nil && f.full(src.URL) {
		var b fetch.Batch
		for i := range SearchCap {
			b.Items = append(b.Items, fetch.Item{Key: fmt.Sprintf("%s#%d", src.URL, i)})
		}
		return b, nil
	}
	switch a := f.answers[src.URL].(type) {
	case fetch.Batch:
		return a, nil
	case error:
		return fetch.Batch{}, a
	}
	return fetch.Batch{}, &fetch.Error{Kind: fetch.ErrHTTP, URL: src.URL, Status: 404, Err: errors.New("status 404")}
}

// walk collects a walker's steps as "n items" or "error: ..." until Done
// (at most 20 steps).
func walk(t *testing.T, w Walker) []string {
	t.Helper()
	var out []string
	for range 20 {
		d, err := w.Next(context.Background())
		switch {
		case errors.Is(err, Done):
			return out
		case err != nil:
			out = append(out, "error: "+err.Error())
		default:
			out = append(out, fmt.Sprintf("%d items", len(d.Items)))
		}
	}
	t.Fatalf("no end after 20 steps: %v", out)
	return nil
}

func dated(keys string, at time.Time) fetch.Batch {
	var b fetch.Batch
	for _, k := range strings.Fields(keys) {
		b.Items = append(b.Items, fetch.Item{Key: k, Published: at})
	}
	return b
}

func TestPagesWalk(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := Window{Since: since, Until: since.AddDate(0, 6, 0)}
	in, old := since.AddDate(0, 1, 0), since.AddDate(0, -1, 0)
	const feed = "https://ex.org/feed/"
	page := func(n int) string { return fmt.Sprintf("%s?paged=%d", feed, n) }
	src := fetch.Source{ID: "wp", URL: feed, Archive: &fetch.Archive{PageParam: "paged"}}
	server500 := &fetch.Error{Kind: fetch.ErrHTTP, Status: 500, Err: errors.New("status 500")}
	missing := &fetch.Error{Kind: fetch.ErrHTTP, URL: feed, Status: 404, Err: errors.New("status 404")}
	tests := []struct {
		name     string
		src      fetch.Source
		answers  map[string]any
		max      int
		want     string
		wantURLs int
	}{
		{"pages until a 404", src, map[string]any{feed: dated("a b", in), page(2): dated("c", in)}, 10,
			"[2 items 1 items]", 3},
		{"a 410 ends it too", src, map[string]any{feed: dated("a", in), page(2): &fetch.Error{Kind: fetch.ErrHTTP, Status: 410, Err: errors.New("gone")}}, 10,
			"[1 items]", 2},
		{"a missing first page is an error", src, map[string]any{}, 10,
			"[error: page 1: " + missing.Error() + "]", 1},
		{"a failing page stops the walk with its error", src, map[string]any{feed: dated("a", in), page(2): server500}, 10,
			"[1 items error: page 2: " + server500.Error() + "]", 2},
		{"the server ignores the page parameter", src, map[string]any{feed: dated("a b", in), page(2): dated("a b", in)}, 10,
			"[2 items 2 items]", 2},
		{"older than the window from here on", src, map[string]any{feed: dated("a", in), page(2): dated("b c", old), page(3): dated("d", in)}, 10,
			"[1 items 2 items]", 2},
		{"an empty page", src, map[string]any{feed: dated("a", in), page(2): fetch.Batch{}}, 10,
			"[1 items 0 items]", 2},
		{"at most max pages", src, map[string]any{feed: dated("a", in), page(2): dated("b", in), page(3): dated("c", in)}, 2,
			"[1 items 1 items]", 2},
		{"no page parameter: the feed only", fetch.Source{ID: "plain", URL: feed}, map[string]any{feed: dated("a", in)}, 10,
			"[1 items]", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &urlFetcher{answers: tc.answers}
			got := walk(t, Pages(f, tc.src, w, tc.max))
			if fmt.Sprint(got) != tc.want {
				t.Errorf("walk = %v, want %s (asked %v)", got, tc.want, f.asked)
			}
			if len(f.asked) != tc.wantURLs {
				t.Errorf("asked for %d pages %v, want %d", len(f.asked), f.asked, tc.wantURLs)
			}
		})
	}
}

func TestEndOfArchive(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&fetch.Error{Kind: fetch.ErrHTTP, Status: 404}, true},
		{fmt.Errorf("page 3: %w", &fetch.Error{Kind: fetch.ErrHTTP, Status: 410}), true},
		{&fetch.Error{Kind: fetch.ErrHTTP, Status: 500}, false},
		{&fetch.Error{Kind: fetch.ErrBlocked, Status: 404}, false},
		{errors.New("404"), false},
	} {
		if got := EndOfArchive(tc.err); got != tc.want {
			t.Errorf("EndOfArchive(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// searchWindow reads the after: and before: days of a search URL.
func searchWindow(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range strings.Fields(pu.Query().Get("q")) {
		if strings.HasPrefix(f, "after:") || strings.HasPrefix(f, "before:") {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

func TestSearchWalkSplitsFullWindows(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	src := fetch.Source{ID: "news", Lang: "en"}
	whole := Window{since, since.AddDate(0, 0, 8)}
	firstHalf := SearchURL("cybercrime treaty", since, since.AddDate(0, 0, 4), "en")
	unavailable := &fetch.Error{Kind: fetch.ErrHTTP, Status: 503, Err: errors.New("status 503")}
	tests := []struct {
		name   string
		w      Window
		full   func(u string) bool
		errs   map[string]any
		want   string
		ranges []string
	}{
		{"not full: one search", whole, nil, nil, "[0 items]", []string{"after:2026-02-28 before:2026-03-09"}},
		{"full: split in two at a day", whole, func(u string) bool { return u == SearchURL("cybercrime treaty", whole.Since, whole.Until, "en") }, nil,
			"[100 items 0 items 0 items]",
			[]string{"after:2026-02-28 before:2026-03-09", "after:2026-02-28 before:2026-03-05", "after:2026-03-04 before:2026-03-09"}},
		{"a failed half is reported, the walk goes on", whole, func(u string) bool { return u == SearchURL("cybercrime treaty", whole.Since, whole.Until, "en") },
			map[string]any{firstHalf: unavailable},
			"[100 items error: search " + firstHalf + ": " + unavailable.Error() + " 0 items]", nil},
		{"two days full: not split further", Window{since, since.AddDate(0, 0, 2)}, func(string) bool { return true }, nil,
			"[100 items]", []string{"after:2026-02-28 before:2026-03-03"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &urlFetcher{answers: tc.errs, full: tc.full}
			if f.answers == nil {
				f.answers = map[string]any{}
			}
			// A search URL the table does not hold answers an empty feed.
			got := walk(t, Search(emptyDefault{f}, src, "cybercrime treaty", tc.w))
			if fmt.Sprint(got) != tc.want {
				t.Errorf("walk = %v, want %s", got, tc.want)
			}
			if tc.ranges != nil {
				var rs []string
				for _, u := range f.asked {
					rs = append(rs, searchWindow(t, u))
				}
				if fmt.Sprint(rs) != fmt.Sprint(tc.ranges) {
					t.Errorf("searched %v, want %v", rs, tc.ranges)
				}
			}
		})
	}
}

// emptyDefault answers an empty feed where its urlFetcher would say 404.
type emptyDefault struct{ f *urlFetcher }

func (e emptyDefault) Fetch(ctx context.Context, src fetch.Source, v fetch.Validators) (fetch.Batch, error) {
	b, err := e.f.Fetch(ctx, src, v)
	var fe *fetch.Error
	if errors.As(err, &fe) && fe.Status == 404 {
		return fetch.Batch{}, nil
	}
	return b, err
}

func TestSearchWalkStopsAtItsLimit(t *testing.T) {
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &urlFetcher{answers: map[string]any{}, full: func(string) bool { return true }}
	w := Search(f, fetch.Source{ID: "news"}, "treaty", Window{since, since.AddDate(3, 0, 0)})
	var err error
	n := 0
	for ; n <= MaxSearches+1; n++ {
		if _, err = w.Next(context.Background()); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrLimit) || n != MaxSearches || len(f.asked) != MaxSearches {
		t.Fatalf("after %d steps (%d searches): %v, want ErrLimit after %d", n, len(f.asked), err, MaxSearches)
	}
	if _, err := w.Next(context.Background()); !errors.Is(err, Done) {
		t.Errorf("after the limit: %v, want Done", err)
	}
}
