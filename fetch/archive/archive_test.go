package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

func TestPages(t *testing.T) {
	paged := &fetch.Archive{PageParam: "paged"}
	tests := []struct {
		name string
		src  fetch.Source
		n    int
		want string
	}{
		{"page 1 is the feed", fetch.Source{URL: "https://ex.org/feed/", Archive: paged}, 1, "https://ex.org/feed/"},
		{"wordpress page 2", fetch.Source{URL: "https://ex.org/feed/", Archive: paged}, 2, "https://ex.org/feed/?paged=2"},
		{"keeps query in order", fetch.Source{URL: "https://ex.org/?feed=rss2&cat=7", Archive: paged}, 3, "https://ex.org/?feed=rss2&cat=7&paged=3"},
		{"replaces param", fetch.Source{URL: "https://ex.org/feed?paged=1&x=y", Archive: paged}, 4, "https://ex.org/feed?paged=4&x=y"},
		{"other param", fetch.Source{URL: "https://ex.org/news.rss", Archive: &fetch.Archive{PageParam: "page"}}, 2, "https://ex.org/news.rss?page=2"},
		{"no archive", fetch.Source{URL: "https://ex.org/feed/"}, 2, ""},
		{"no param", fetch.Source{URL: "https://ex.org/feed/", Archive: &fetch.Archive{Sitemap: "https://ex.org/s.xml"}}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PageURL(tt.src, tt.n); got != tt.want {
				t.Errorf("Pages(%s, %d) = %q, want %q", tt.src.URL, tt.n, got, tt.want)
			}
		})
	}
}

func TestSearchURL(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		name, query  string
		since, until time.Time
		lang         string
		wantQ        string
		wantHL       string
		wantGL       string
		wantCEID     string
	}{
		{"english default", `"cybercrime convention" site:reuters.com`, d("2024-08-01T00:00:00Z"), d("2024-09-01T00:00:00Z"), "",
			`"cybercrime convention" site:reuters.com after:2024-07-31 before:2024-09-01`, "en-US", "US", "US:en"},
		{"until mid-day covers its day", "UNCC", d("2024-08-01T00:00:00Z"), d("2024-08-10T15:30:00Z"), "en",
			"UNCC after:2024-07-31 before:2024-08-11", "en-US", "US", "US:en"},
		{"french", "convention cybercriminalité", d("2025-10-25T00:00:00Z"), d("2025-10-27T00:00:00Z"), "fr",
			"convention cybercriminalité after:2025-10-24 before:2025-10-27", "fr", "FR", "FR:fr"},
		{"british english", "UN cybercrime treaty", d("2025-01-01T00:00:00Z"), d("2025-01-02T00:00:00Z"), "en-GB",
			"UN cybercrime treaty after:2024-12-31 before:2025-01-02", "en-GB", "GB", "GB:en"},
		{"zone converted to UTC", "x", d("2025-01-01T01:00:00+03:00"), time.Time{}, "ru",
			"x after:2024-12-30", "ru", "RU", "RU:ru"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := SearchURL(tt.query, tt.since, tt.until, tt.lang)
			if !strings.HasPrefix(raw, "https://news.google.com/rss/search?q=") {
				t.Fatalf("SearchURL = %s", raw)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if q.Get("q") != tt.wantQ || q.Get("hl") != tt.wantHL || q.Get("gl") != tt.wantGL || q.Get("ceid") != tt.wantCEID {
				t.Errorf("SearchURL = %s\n q=%q hl=%q gl=%q ceid=%q", raw, q.Get("q"), q.Get("hl"), q.Get("gl"), q.Get("ceid"))
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    string // RFC 3339 in UTC; "" = error
		wantEnd string
	}{
		{"2024", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"2024-05", "2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z"},
		{"2024-05-10", "2024-05-10T00:00:00Z", "2024-05-11T00:00:00Z"},
		{"2024-05-10T12:30+02:00", "2024-05-10T10:30:00Z", "2024-05-10T10:31:00Z"},
		{"2024-05-10T12:30:15Z", "2024-05-10T12:30:15Z", "2024-05-10T12:30:16Z"},
		{"2024-05-10T12:30:15.25-05:00", "2024-05-10T17:30:15.25Z", "2024-05-10T17:30:16.25Z"},
		{" 2024-05-10T12:30:15 ", "2024-05-10T12:30:15Z", "2024-05-10T12:30:16Z"},
		{"2024-05-10T12:30:15+0200", "2024-05-10T10:30:15Z", "2024-05-10T10:30:16Z"},
		{"10 May 2024", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, end, err := parseW3C(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseW3C(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := got.UTC().Format(time.RFC3339Nano); g != tt.want {
				t.Errorf("start = %s, want %s", g, tt.want)
			}
			if g := end.UTC().Format(time.RFC3339Nano); g != tt.wantEnd {
				t.Errorf("end = %s, want %s", g, tt.wantEnd)
			}
		})
	}
}

func TestEntryWithin(t *testing.T) {
	since := time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)
	until := time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		lastmod, published string
		want               bool
	}{
		{"2024-05-10", "", true},           // the day overlaps the window
		{"2024-05-09", "", false},          // ends at 05-10 00:00, before since
		{"2024-05-20", "", false},          // until is exclusive
		{"2024-05-19T23:59:59Z", "", true}, // last second
		{"2024-05", "", true},              // the month overlaps
		{"2024-06-01", "2024-05-15", true}, // the publication date wins
		{"2024-05-15", "2024-04-01", false},
		{"", "", false}, // undated
	}
	for _, tt := range tests {
		var e Entry
		e.LastMod, e.lastModEnd, _ = parseW3C(tt.lastmod)
		e.Published, e.publishedEnd, _ = parseW3C(tt.published)
		if got := e.Within(since, until); got != tt.want {
			t.Errorf("lastmod %q published %q: Within = %v, want %v", tt.lastmod, tt.published, got, tt.want)
		}
	}
}

const urlsetXML = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://ex.org/a </loc><lastmod>2024-05-12</lastmod>
    <image:image><image:loc>https://ex.org/a.jpg</image:loc></image:image></url>
  <url><loc>https://ex.org/b</loc></url>
  <url><loc>https://ex.org/c</loc><lastmod>2024-06-01T08:00:00+00:00</lastmod>
    <news:news><news:publication_date>2024-05-15T08:00:00Z</news:publication_date><news:title>UN cybercrime convention</news:title></news:news></url>
  <url><loc></loc></url>
</urlset>`

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseSitemap(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		wantURLs  []string
		wantMaps  []string
		wantError bool
	}{
		{"urlset", []byte(urlsetXML), []string{"https://ex.org/a", "https://ex.org/b", "https://ex.org/c"}, nil, false},
		{"gzipped", gz(t, urlsetXML), []string{"https://ex.org/a", "https://ex.org/b", "https://ex.org/c"}, nil, false},
		{"index", []byte(`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
			<sitemap><loc>https://ex.org/s1.xml</loc><lastmod>2024-05-01</lastmod></sitemap>
			<sitemap><loc>https://ex.org/s2.xml.gz</loc></sitemap></sitemapindex>`),
			nil, []string{"https://ex.org/s1.xml", "https://ex.org/s2.xml.gz"}, false},
		{"an rss feed is not a sitemap", []byte(`<rss version="2.0"><channel></channel></rss>`), nil, nil, true},
		{"broken xml", []byte(`<urlset><url><loc>x`), nil, nil, true},
		{"broken gzip", []byte{0x1f, 0x8b, 0, 0}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, err := ParseSitemap(tt.body)
			if tt.wantError {
				if err == nil {
					t.Fatalf("no error; got %+v", sm)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var urls, maps []string
			for _, e := range sm.URLs {
				urls = append(urls, e.URL)
			}
			for _, e := range sm.Sitemaps {
				maps = append(maps, e.URL)
			}
			if !slices.Equal(urls, tt.wantURLs) || !slices.Equal(maps, tt.wantMaps) {
				t.Errorf("urls %v sitemaps %v, want %v %v", urls, maps, tt.wantURLs, tt.wantMaps)
			}
		})
	}
	sm, _ := ParseSitemap([]byte(urlsetXML))
	c := sm.URLs[2]
	if c.Title != "UN cybercrime convention" || !c.Date().Equal(time.Date(2024, 5, 15, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("news entry = %+v", c)
	}
}

func TestReadSitemapFollowsIndex(t *testing.T) {
	mux := http.NewServeMux()
	var srvURL string
	mux.HandleFunc("/sitemap_index.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>` + srvURL + `/post-sitemap1.xml</loc><lastmod>2024-05-30</lastmod></sitemap>
  <sitemap><loc>/post-sitemap2.xml.gz</loc></sitemap>
  <sitemap><loc>` + srvURL + `/old-sitemap.xml</loc><lastmod>2023-01-01T00:00:00Z</lastmod></sitemap>
  <sitemap><loc>` + srvURL + `/missing.xml</loc></sitemap>
  <sitemap><loc>` + srvURL + `/post-sitemap1.xml</loc></sitemap>
</sitemapindex>`))
	})
	mux.HandleFunc("/post-sitemap1.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>` + srvURL + `/in-1</loc><lastmod>2024-05-12T10:00:00+02:00</lastmod></url>
<url><loc>` + srvURL + `/old</loc><lastmod>2024-01-12</lastmod></url>
<url><loc>` + srvURL + `/nodate</loc></url>
</urlset>`))
	})
	mux.HandleFunc("/post-sitemap2.xml.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(gz(t, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>`+srvURL+`/in-2</loc><lastmod>2024-05-20</lastmod></url>
<url><loc>`+srvURL+`/in-1</loc><lastmod>2024-05-12</lastmod></url>
<url><loc>`+srvURL+`/new</loc><lastmod>2024-07-01</lastmod></url>
</urlset>`))
	})
	mux.HandleFunc("/old-sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		t.Error("a sitemap last modified before the window was read")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	srvURL = srv.URL

	client := fetch.NewClient(fetch.ClientOptions{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostInterval: -1,
	})
	var fetched []string
	res, err := ReadSitemap(context.Background(), client, fetch.Source{ID: "s"}, srv.URL+"/sitemap_index.xml", SitemapOptions{
		Since:   time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Until:   time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		Fetched: func(u string, _ int) { fetched = append(fetched, strings.TrimPrefix(u, srv.URL)) },
	})
	if err == nil || !strings.Contains(err.Error(), "missing.xml") {
		t.Errorf("err = %v, want the failing child sitemap named", err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, strings.TrimPrefix(e.URL, srv.URL))
	}
	if want := []string{"/in-1", "/in-2"}; !slices.Equal(got, want) {
		t.Errorf("entries = %v, want %v", got, want)
	}
	if want := []string{"/sitemap_index.xml", "/post-sitemap1.xml", "/post-sitemap2.xml.gz"}; !slices.Equal(fetched, want) {
		t.Errorf("fetched %v, want %v", fetched, want)
	}
	if res.Sitemaps != 3 || res.Skipped != 1 || res.Listed != 5 || res.Undated != 1 || res.Outside != 2 {
		t.Errorf("result = %+v", res)
	}

	// The first document failing is an error with nothing else.
	if _, err := ReadSitemap(context.Background(), client, fetch.Source{ID: "s"}, srv.URL+"/missing.xml", SitemapOptions{}); err == nil {
		t.Error("a missing sitemap gave no error")
	}
}
