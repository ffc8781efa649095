package archive_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/archive"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/fetch/page"
)

// The same article met through a feed, a listing page and a sitemap has
// one key, however each spelled its link: tracking parameters of any
// kind, a fragment, the scheme's and host's case, a permalink GUID.
func TestOneKeyThroughFeedPageAndSitemap(t *testing.T) {
	tests := []struct {
		name string
		// feedItem is the feed's <item> body; {base} is the server's URL,
		// {loud} the same with the scheme and host in upper case.
		feedItem, pageHref, sitemapLoc string
	}{
		{
			name:       "no guid",
			feedItem:   `<link>{base}/news/treaty-signed?utm_source=rss&amp;utm_medium=feed#comments</link>`,
			pageHref:   `/news/treaty-signed?gbraid=0AAA&amp;wbraid=1BBB`,
			sitemapLoc: `{base}/news/treaty-signed`,
		},
		{
			name:       "permalink guid",
			feedItem:   `<link>{base}/news/treaty-signed</link><guid isPermaLink="true">{base}/news/treaty-signed?yclid=77</guid>`,
			pageHref:   `treaty-signed#top`,
			sitemapLoc: `/news/treaty-signed?fbclid=x`,
		},
		{
			name:       "scheme and host case",
			feedItem:   `<link>{loud}/news/treaty-signed?msclkid=3</link>`,
			pageHref:   `{loud}/news/treaty-signed`,
			sitemapLoc: `{loud}/news/treaty-signed?_hsenc=p2&amp;mc_cid=1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			defer srv.Close()
			loud := "HTTP://" + srv.Listener.Addr().String()
			fill := strings.NewReplacer("{base}", srv.URL, "{loud}", loud).Replace
			mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Treaty signed</title>%s<pubDate>Sat, 25 Oct 2025 10:00:00 +0000</pubDate></item></channel></rss>`,
					fill(tt.feedItem))
			})
			mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<html><body><ul class="news"><li><a href="%s">Treaty signed</a> <span>25 October 2025</span></li></ul></body></html>`,
					fill(tt.pageHref))
			})
			mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s</loc><lastmod>2025-10-25</lastmod></url></urlset>`,
					fill(tt.sitemapLoc))
			})
			c := fetch.NewClient(fetch.ClientOptions{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostInterval: -1})
			ctx := context.Background()
			want := srv.URL + "/news/treaty-signed"

			fb, err := feed.New(c, feed.Options{}).Fetch(ctx, fetch.Source{ID: "s", Kind: fetch.KindFeed, URL: srv.URL + "/feed"}, fetch.Validators{})
			if err != nil || len(fb.Items) != 1 {
				t.Fatalf("feed: %v, %d items", err, len(fb.Items))
			}
			pb, err := page.New(c).Fetch(ctx, fetch.Source{ID: "s", Kind: fetch.KindPage, URL: srv.URL + "/news/",
				Page: &fetch.PageSelectors{Item: "ul.news li"}}, fetch.Validators{})
			if err != nil || len(pb.Items) != 1 {
				t.Fatalf("page: %v, %d items", err, len(pb.Items))
			}
			w := archive.Sitemaps(c, fetch.Source{ID: "s"}, srv.URL+"/sitemap.xml",
				archive.Window{Since: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)}, time.Now())
			var sm []fetch.Item
			for {
				d, err := w.Next(ctx)
				if err == archive.Done {
					break
				}
				if err != nil {
					t.Fatalf("sitemap: %v", err)
				}
				sm = append(sm, d.Items...)
			}
			if len(sm) != 1 {
				t.Fatalf("sitemap: %d items", len(sm))
			}
			for path, key := range map[string]string{"feed": fb.Items[0].Key, "page": pb.Items[0].Key, "sitemap": sm[0].Key} {
				if key != want {
					t.Errorf("%s key %q, want %q", path, key, want)
				}
			}
		})
	}
}
