package feed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
)

var fetched = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const rssDoc = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Test</title><link>https://example.org/</link><language>fr-FR</language><ttl>90</ttl>
<item>
  <title>UN &lt;b&gt;Cybercrime&lt;/b&gt; Convention &amp;amp; rights</title>
  <link>/news/one?utm_source=rss&amp;id=7&amp;fbclid=abc</link>
  <guid isPermaLink="false">guid-1</guid>
  <description><![CDATA[<p>Signed in <b>Hanoi</b>&nbsp;&mdash; 25   October.</p><script>alert(1)</script><p>Second</p>]]></description>
  <pubDate>Sat, 25 Oct 2025 10:00:00 +0700</pubDate>
</item>
<item>
  <title>No guid</title>
  <link>https://Example.org/news/two#part</link>
  <pubDate>Mon, 01 Jan 2029 00:00:00 +0000</pubDate>
</item>
<item>
  <title>Neither guid nor link</title>
  <description>Just text</description>
</item>
</channel></rss>`

func TestParseNormalises(t *testing.T) {
	src := fetch.Source{ID: "s1", Name: "Source One", Actor: "Some NGO", Lang: "en"}
	items, ttl, err := feed.Parse([]byte(rssDoc), "application/rss+xml", "https://example.org/feeds/rss.xml", src, fetched)
	if err != nil {
		t.Fatal(err)
	}
	if ttl != 90*time.Minute {
		t.Errorf("ttl %v", ttl)
	}
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	one, two, three := items[0], items[1], items[2]
	sum := sha256.Sum256([]byte(rssDoc))
	for _, it := range items {
		if it.SourceID != "s1" || it.SourceName != "Source One" || it.SourceActor != "Some NGO" || it.Lang != "fr-fr" {
			t.Errorf("source fields %+v", it)
		}
		if it.Fetched != fetched || it.Provenance.FetchedAt != fetched || it.Provenance.FinalURL != "https://example.org/feeds/rss.xml" ||
			it.Provenance.BodySHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("provenance %+v", it.Provenance)
		}
	}
	tests := []struct{ field, got, want string }{
		{"key 1", one.Key, "guid-1"},
		{"url 1", one.URL, "https://example.org/news/one?id=7"},
		{"title 1", one.Title, "UN Cybercrime Convention & rights"},
		{"summary 1", one.Summary, "Signed in Hanoi — 25 October. Second"},
		{"key 2", two.Key, "https://example.org/news/two"}, // the canonical link: no fragment
		{"url 2", two.URL, "https://example.org/news/two#part"},
		{"title 3", three.Title, "Neither guid nor link"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.field, tc.got, tc.want)
		}
	}
	h := sha256.Sum256([]byte("Neither guid nor link\x00Just text"))
	if three.Key != "sha256:"+hex.EncodeToString(h[:]) {
		t.Errorf("key 3 %q is not the hash of title and summary", three.Key)
	}
	if _, off := one.Published.Zone(); off != 7*3600 || !one.Published.Equal(time.Date(2025, 10, 25, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("date 1 %v: zone not kept", one.Published)
	}
	if !two.Published.Equal(fetched) {
		t.Errorf("future date %v not clamped to %v", two.Published, fetched)
	}
	if !three.Published.IsZero() {
		t.Errorf("date 3 %v", three.Published)
	}
}

func TestParseLangFallsBackToSource(t *testing.T) {
	doc := `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>e1</id><title>x</title><link href="a/b"/><updated>2025-01-02T03:04:05+01:00</updated></entry></feed>`
	items, _, err := feed.Parse([]byte(doc), "", "https://example.org/blog/feed.atom", fetch.Source{Lang: "de"}, fetched)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Lang != "de" || items[0].URL != "https://example.org/blog/a/b" {
		t.Fatalf("items %+v", items)
	}
	if _, off := items[0].Published.Zone(); off != 3600 {
		t.Errorf("zone lost: %v", items[0].Published)
	}
}

func TestParseDuplicateGUIDs(t *testing.T) {
	doc := `<rss><channel><item><guid>g</guid><title>a</title></item><item><guid>g</guid><title>b</title></item></channel></rss>`
	items, _, err := feed.Parse([]byte(doc), "", "https://example.org/", fetch.Source{}, fetched)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Key == items[1].Key || items[0].Key != "g" {
		t.Errorf("keys %q %q", items[0].Key, items[1].Key)
	}
}

func TestParseRecoversAndExplains(t *testing.T) {
	item := func(n string) string { return "<item><title>item " + n + "</title><guid>" + n + "</guid></item>" }
	tests := []struct {
		name      string
		body      string
		wantItems int
		wantErr   string // words the error must contain; "" for success
	}{
		{"truncated after two items", `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` + item("1") + item("2") + `<item><title>cut he`, 2, ""},
		{"truncated in channel", `<rss version="2.0"><channel><title>t</title><description>cut`, 0, "cut off before its first complete item"},
		{"atom inside xhtml", `<!DOCTYPE html><html><body><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id><title>a</title></entry></feed></body></html>`, 1, ""},
		{"html page with feed link", `<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/feed/"></head><body>hi</body></html>`, 0, "HTML page; it links to a feed at https://example.org/feed/"},
		{"html page", `<html><head><title>News</title></head><body><p>no feed here</p></body></html>`, 0, "not a feed: the document is an HTML page"},
		{"plain text", `hello, world`, 0, "not a feed"},
		{"empty", "  \n", 0, "empty"},
		{"json feed, tags as string", `{"version":"https://jsonfeed.org/version/1","title":"t","items":[{"id":"1","title":"a","tags":"x, y"}]}`, 1, ""},
		{"json feed, truncated", `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","title":"a"},{"id":"2","title":"b"},{"id":"3","ti`, 2, ""},
		{"json feed, raw newline", "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[{\"id\":\"1\",\"content_text\":\"a\nb\"}]}", 1, ""},
		{"json feed, null item", `{"version":"https://jsonfeed.org/version/1","items":[null,{"id":"1","title":"a"}]}`, 1, ""},
		{"json feed, wrong types", `{"version":"https://jsonfeed.org/version/1","items":[{"id":7,"title":2026,"author":"Ann","authors":{"name":"Bo"},"summary":{"x":1}}]}`, 1, ""},
		{"json feed, wrong feed field", `{"version":"https://jsonfeed.org/version/1","title":{"a":1},"items":[{"id":"1","title":"a"}]}`, 0, "JSON Feed is broken"},
		{"json feed, cut before an item", `{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","ti`, 0, "cut off before its first complete item"},
		{"json array", `[{"id":"1"}]`, 0, "not a JSON Feed"},
		{"json feed, no items", `{"version":"https://jsonfeed.org/version/1","title":"t","items":[]}`, 0, ""},
		{"rss-in-json", `{"rss":{"version":"2.0","channel":{"title":"t","item":[{"title":"a","link":"http://x.org/1","pubDate":"Mon, 26 Jun 2017 12:20:05 GMT"}]}}}`, 1, ""},
		{"json, not a feed", `{"error":"rate limited"}`, 0, ""},
		{"broken json", `{"items": [}`, 0, "JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, _, err := feed.Parse([]byte(tc.body), "", "https://example.org/news", fetch.Source{}, fetched)
			if tc.wantErr != "" {
				var fe *fetch.Error
				if !errors.As(err, &fe) || fe.Kind != fetch.ErrParse {
					t.Fatalf("error %v, want a parse error", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.wantItems {
				t.Errorf("%d items, want %d", len(items), tc.wantItems)
			}
		})
	}
}

func TestFetcher(t *testing.T) {
	var status int
	var retry string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != 0 {
			w.Header().Set("Retry-After", retry)
			w.WriteHeader(status)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Cache-Control", "max-age=7200")
		io.WriteString(w, rssDoc) // ttl 90 minutes
	}))
	defer srv.Close()
	f := feed.New(testClient(), feed.Options{})
	src := fetch.Source{ID: "s", URL: srv.URL + "/rss"}

	b, err := f.Fetch(context.Background(), src, fetch.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 3 || b.Next.ETag != `"v1"` || b.RetryAfter != 2*time.Hour || b.Provenance.Status != 200 {
		t.Errorf("batch: %d items, next %+v, retry %v, provenance %+v", len(b.Items), b.Next, b.RetryAfter, b.Provenance)
	}
	if p := b.Items[0].Provenance; p.ETag != `"v1"` || p.Status != 200 || p.BodySHA256 == "" {
		t.Errorf("item provenance %+v", p)
	}

	b, err = f.Fetch(context.Background(), src, b.Next)
	if err != nil || !b.NotModified || len(b.Items) != 0 {
		t.Errorf("second fetch: %+v, %v", b, err)
	}

	status, retry = http.StatusTooManyRequests, "120"
	_, err = f.Fetch(context.Background(), src, fetch.Validators{})
	if fetch.KindOf(err) != fetch.ErrHTTP || fetch.RetryAfterOf(err) < 120*time.Second {
		t.Errorf("429: %v (retry after %v)", err, fetch.RetryAfterOf(err))
	}
}
