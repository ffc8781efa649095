package feed_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

func testClient() *fetch.Client {
	return fetch.NewClient(fetch.ClientOptions{
		UserAgent:    "treatywatch-test/0.1 (+https://example.org)",
		Timeout:      20 * time.Second,
		PerHost:      4,
		HostInterval: -1,
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
}

// TestCorpus fetches all corpus feeds from a local server that sends the
// charsets the manifest describes, then from one that sends no charset at
// all (so every declaration and sniff is exercised).
func TestCorpus(t *testing.T) {
	for _, opts := range []corpustest.ServerOptions{{}, {NoCharset: true}} {
		t.Run(fmt.Sprintf("NoCharset=%v", opts.NoCharset), func(t *testing.T) {
			testCorpus(t, corpustest.NewFeedServer(t, opts))
		})
	}
}

func testCorpus(t *testing.T, srv *corpustest.FeedServer) {
	f := feed.New(testClient(), feed.Options{})
	ctx := context.Background()

	type result struct {
		batch fetch.Batch
		err   error
	}
	results := map[string]result{}
	withItems := 0
	for _, ff := range srv.Files {
		src := fetch.Source{ID: ff.Name, Kind: fetch.KindFeed, URL: srv.FeedURL(ff.Name), Name: ff.Name, Lang: "xx"}
		b, err := f.Fetch(ctx, src, fetch.Validators{})
		results[ff.Name] = result{b, err}
		if err != nil {
			var fe *fetch.Error
			if !errors.As(err, &fe) {
				t.Errorf("%s: error is not a *fetch.Error: %v", ff.Name, err)
			}
			if fe.Kind != fetch.ErrParse {
				t.Errorf("%s: error kind %q, want parse: %v", ff.Name, fe.Kind, err)
			}
			t.Logf("%s: %v", ff.Name, err)
			continue
		}
		if len(b.Items) > 0 {
			withItems++
		} else {
			t.Logf("%s: 0 items", ff.Name)
		}
		if !ff.Approx && ff.Items > 0 && len(b.Items) != ff.Items {
			t.Errorf("%s: %d items, manifest says %d", ff.Name, len(b.Items), ff.Items)
		}
		for _, it := range b.Items {
			checkItem(t, ff.Name, b, it)
		}
	}
	t.Logf("%d of %d feeds yield items", withItems, len(srv.Files))
	if withItems < 104 {
		t.Errorf("%d feeds yield items, want at least 104", withItems)
	}

	// Feeds gofeed alone cannot read.
	for name, min := range map[string]int{
		"le-cercle-psy_undeclared-iso-8859-1.rss": 5,
		"uol-noticias_no-prolog.rss":              5,
		"tablix-avian_atom-inside-xhtml.xml":      10,
		"rosemaryorchard.json":                    84,
		"leancrew-allthis-partial_malformed.json": 1,
		"scriptingnews_rss-in-json.json":          1,
		"nshipster_invalid-chars.rss.gz":          25,
	} {
		if got := len(results[name].batch.Items); got < min {
			t.Errorf("%s: %d items, want at least %d (err %v)", name, got, min, results[name].err)
		}
	}
	// The truncated Reuters feed ends before its first item: a clear error.
	if err := results["reuters-mostread_invalid.rss"].err; err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("reuters: want an error that says the XML is broken, got %v", err)
	}

	// Text decoded without mojibake.
	for _, tc := range []struct {
		feed  string
		words []string
	}{
		{"laut-de_iso-8859-1.rdf", []string{"veröffentlicht", "Hütter", "Björn"}},
		{"le-cercle-psy_undeclared-iso-8859-1.rss", []string{"modèles", "européens"}},
		{"uol-noticias_no-prolog.rss", []string{"prisão", "simulações", "inquérito", "Líder"}},
		{"golem-de_iso-8859-1.rss", []string{"für"}},
		{"ibash-org-ru_windows-1251.rss", []string{"Цитата"}},
		{"kc0011_gb2312.rss", []string{"的"}},
	} {
		text := allText(results[tc.feed].batch)
		for _, w := range tc.words {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q not found in the decoded text", tc.feed, w)
			}
		}
		for _, bad := range []string{"Ã", "Â", "\uFFFD"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: mojibake %q in the decoded text", tc.feed, bad)
			}
		}
	}

	// Relative links are made absolute against the fetched URL.
	for _, name := range []string{"qemu-project-blog.atom", "talkingpointsmemo.atom", "us-senate-burr.rss", "insanity-industries_relative.rss"} {
		for _, it := range results[name].batch.Items {
			if !strings.HasPrefix(it.URL, "http://") && !strings.HasPrefix(it.URL, "https://") {
				t.Errorf("%s: item URL %q is not absolute", name, it.URL)
			}
		}
	}

	// A second fetch with the validators gets 304.
	for _, ff := range srv.Files[:10] {
		r := results[ff.Name]
		if r.err != nil {
			continue
		}
		src := fetch.Source{ID: ff.Name, URL: srv.FeedURL(ff.Name)}
		b, err := f.Fetch(ctx, src, r.batch.Next)
		if err != nil {
			t.Fatalf("%s: second fetch: %v", ff.Name, err)
		}
		if !b.NotModified || len(b.Items) != 0 {
			t.Errorf("%s: second fetch NotModified=%v with %d items, want a 304", ff.Name, b.NotModified, len(b.Items))
		}
	}
}

func checkItem(t *testing.T, feedName string, b fetch.Batch, it fetch.Item) {
	t.Helper()
	if it.Key == "" {
		t.Errorf("%s: item without key", feedName)
	}
	if it.SourceID != feedName || it.SourceName != feedName {
		t.Errorf("%s: item source %q/%q", feedName, it.SourceID, it.SourceName)
	}
	if it.Published.After(it.Fetched) {
		t.Errorf("%s: item published %v after fetch %v", feedName, it.Published, it.Fetched)
	}
	if it.Lang == "" {
		t.Errorf("%s: item without language", feedName)
	}
	p := it.Provenance
	if p.FinalURL == "" || p.Status != 200 || p.ETag == "" || p.LastModified == "" || len(p.BodySHA256) != 64 || p.FetchedAt.IsZero() {
		t.Errorf("%s: incomplete provenance %+v", feedName, p)
	}
	if b.Next.ETag == "" {
		t.Errorf("%s: batch without ETag", feedName)
	}
	for _, s := range []string{it.Title, it.Summary} {
		if strings.Contains(s, "<p>") || strings.Contains(s, "&amp;") || strings.Contains(s, "  ") {
			t.Errorf("%s: text not plain: %.80q", feedName, s)
		}
	}
	if strings.Contains(it.URL, "utm_") {
		t.Errorf("%s: tracking parameters left in %s", feedName, it.URL)
	}
}

func allText(b fetch.Batch) string {
	var sb strings.Builder
	for _, it := range b.Items {
		sb.WriteString(it.Title + "\n" + it.Summary + "\n" + it.Content + "\n")
	}
	return sb.String()
}
