package page

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// loopbackClient is the real shared client, allowed to reach the test
// servers on 127.0.0.1 (the SSRF guard refuses loopback by default) and
// without the per-host pause.
func loopbackClient() *fetch.Client {
	return fetch.NewClient(fetch.ClientOptions{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		HostInterval: -1,
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		sel       fetch.PageSelectors
		wantField string // "" means valid
		wantErr   error
	}{
		{"all good", fetch.PageSelectors{Item: "div.row", Link: "h3 a", Title: "h3", Date: "time", Summary: "p.lead"}, "", nil},
		{"item only", fetch.PageSelectors{Item: "li"}, "", nil},
		{"group and :has", fetch.PageSelectors{Item: "li:has(a), article"}, "", nil},
		{"no item", fetch.PageSelectors{Link: "a"}, "", ErrNoItemSelector},
		{"bad item", fetch.PageSelectors{Item: "div[class="}, "item", nil},
		{"bad link", fetch.PageSelectors{Item: "li", Link: "a:nth-child("}, "link", nil},
		{"bad title", fetch.PageSelectors{Item: "li", Title: "h2 >> span"}, "title", nil},
		{"bad date", fetch.PageSelectors{Item: "li", Date: ":bogus-pseudo"}, "date", nil},
		{"bad summary", fetch.PageSelectors{Item: "li", Summary: "p,"}, "summary", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.sel)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Validate = %v, want %v", err, tt.wantErr)
				}
			case tt.wantField == "":
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
			default:
				var se *SelectorError
				if !errors.As(err, &se) {
					t.Fatalf("Validate = %v, want a *SelectorError", err)
				}
				if se.Field != tt.wantField {
					t.Errorf("bad field %q, want %q (%v)", se.Field, tt.wantField, err)
				}
				if !strings.Contains(err.Error(), tt.wantField+" selector") {
					t.Errorf("message %q does not name the %s selector", err, tt.wantField)
				}
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	paris := time.FixedZone("", 2*3600)
	tests := []struct {
		in, layout string
		want       time.Time // zero: no date expected
	}{
		{"Apr 14, 2015", "Jan 2, 2006", time.Date(2015, 4, 14, 0, 0, 0, 0, time.UTC)},
		{"Apr 14, 2015", "", time.Date(2015, 4, 14, 0, 0, 0, 0, time.UTC)},
		{"Mar\n9\n2015", "", time.Date(2015, 3, 9, 0, 0, 0, 0, time.UTC)},
		{"  April 06, 2015  ", "January 02, 2006", time.Date(2015, 4, 6, 0, 0, 0, 0, time.UTC)},
		{"2013-05-01", "", time.Date(2013, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-09-10T14:30:00+02:00", "", time.Date(2024, 9, 10, 14, 30, 0, 0, paris)},
		{"Tue, 10 Sep 2024 14:30:00 +0200", "", time.Date(2024, 9, 10, 14, 30, 0, 0, paris)},
		{"Sept. 3rd, 2024", "", time.Date(2024, 9, 3, 0, 0, 0, 0, time.UTC)},
		{"3 September 2024", "", time.Date(2024, 9, 3, 0, 0, 0, 0, time.UTC)},
		{"05/19/15", "", time.Date(2015, 5, 19, 0, 0, 0, 0, time.UTC)},
		{"05.19.15", "01.02.06", time.Date(2015, 5, 19, 0, 0, 0, 0, time.UTC)},
		{"19.05.2015", "", time.Date(2015, 5, 19, 0, 0, 0, 0, time.UTC)},
		{"Senators: dock pay , media release, February 28, 2013", "January 02, 2006", time.Date(2013, 2, 28, 0, 0, 0, 0, time.UTC)},
		{"Posted on 2019-07-12 by the press office", "", time.Date(2019, 7, 12, 0, 0, 0, 0, time.UTC)},
		{"yesterday", "", time.Time{}},
		{"", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseDate(tt.in, tt.layout)
			if tt.want.IsZero() {
				if ok {
					t.Fatalf("parseDate(%q) = %v, want no date", tt.in, got)
				}
				return
			}
			if !ok || !got.Equal(tt.want) {
				t.Fatalf("parseDate(%q, %q) = %v %v, want %v", tt.in, tt.layout, got, ok, tt.want)
			}
			_, wantOff := tt.want.Zone()
			if _, off := got.Zone(); off != wantOff {
				t.Errorf("zone offset %d, want %d", off, wantOff)
			}
		})
	}
}

const listingHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>News</title>%s</head><body>
<nav><a href="/about">About</a></nav>
<ul class="news">
 <li><a href="2024/one.html?utm_source=rss">First statement on the convention</a>
     <span class="when">10 September 2024</span><p>Summary one.</p></li>
 <li><a href="javascript:void(0)">Print</a> <a href="/2024/two.html#top">Second</a>
     <span class="when">2099-01-01</span></li>
 <li><a href="/press/2024/one.html?utm_medium=email#comments">First statement, again</a></li>
 <li><a href="/2024/three.html">Third</a></li>
 <li><span class="when">not a date</span> A row without a link</li>
 <li><a href="mailto:press@example.org"></a></li>
</ul></body></html>`

func TestParse(t *testing.T) {
	fetched := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	src := fetch.Source{ID: "mofa", Name: "Ministry", Actor: "Ministry of Foreign Affairs", Lang: "en",
		Page: &fetch.PageSelectors{Item: "ul.news li", Date: ".when", Summary: "p"}}

	t.Run("relative links against the page URL", func(t *testing.T) {
		items, err := Parse([]byte(fmt.Sprintf(listingHTML, "")), "text/html", "https://mofa.example.org/press/index.html", src, fetched)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ url, key, title, summary string }{
			{"https://mofa.example.org/press/2024/one.html?utm_source=rss", "https://mofa.example.org/press/2024/one.html", "First statement on the convention", "Summary one."},
			// The javascript: link is passed over for the first web link.
			{"https://mofa.example.org/2024/two.html#top", "https://mofa.example.org/2024/two.html", "Second", ""},
			// "First statement, again" has the same canonical URL as the
			// first item: dropped. The row without a link has no title
			// either: dropped. So is the empty mailto: row.
			{"https://mofa.example.org/2024/three.html", "https://mofa.example.org/2024/three.html", "Third", ""},
		}
		if len(items) != len(want) {
			for _, it := range items {
				t.Logf("%+v", it)
			}
			t.Fatalf("%d items, want %d", len(items), len(want))
		}
		for i, w := range want {
			it := items[i]
			if it.URL != w.url || it.Title != w.title || it.Summary != w.summary {
				t.Errorf("item %d = %q %q %q, want %q %q %q", i, it.URL, it.Title, it.Summary, w.url, w.title, w.summary)
			}
			if w.key != "" && it.Key != w.key {
				t.Errorf("item %d key = %q, want %q", i, it.Key, w.key)
			}
			if w.key == "" && !strings.HasPrefix(it.Key, "sha256:") {
				t.Errorf("item %d key = %q, want a content hash", i, it.Key)
			}
			if it.SourceID != "mofa" || it.SourceActor != "Ministry of Foreign Affairs" || it.Lang != "en" || !it.Fetched.Equal(fetched) {
				t.Errorf("item %d: source fields not copied: %+v", i, it)
			}
		}
		if got := items[0].Published; !got.Equal(time.Date(2024, 9, 10, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("first date = %v", got)
		}
		if got := items[1].Published; !got.Equal(fetched) {
			t.Errorf("future date not clamped: %v", got)
		}
	})

	t.Run("an item without a usable link points at its page", func(t *testing.T) {
		titled := fetch.Source{ID: "mofa", Page: &fetch.PageSelectors{Item: "li", Title: "h3"}}
		page := `<html><head><base href="https://cdn.example.net/"></head><body><ul>
<li><h3>Statement without a link</h3></li>
<li><h3>Statement with a mail link</h3><a href="mailto:press@example.org">Write</a></li>
<li><h3>Linked</h3><a href="/2024/four.html">more</a></li></ul></body></html>`
		items, err := Parse([]byte(page), "text/html", "https://mofa.example.org/press/", titled, fetched)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ url, title string }{
			{"https://mofa.example.org/press/", "Statement without a link"},
			{"https://mofa.example.org/press/", "Statement with a mail link"},
			{"https://cdn.example.net/2024/four.html", "Linked"},
		}
		if len(items) != len(want) {
			t.Fatalf("%d items, want %d: %+v", len(items), len(want), items)
		}
		for i, w := range want {
			if items[i].URL != w.url || items[i].Title != w.title {
				t.Errorf("item %d = %q %q, want %q %q", i, items[i].URL, items[i].Title, w.url, w.title)
			}
		}
		if items[0].Key == items[1].Key || !strings.HasPrefix(items[0].Key, "sha256:") {
			t.Errorf("link-less items need distinct content keys: %q %q", items[0].Key, items[1].Key)
		}
	})

	t.Run("base href wins", func(t *testing.T) {
		page := fmt.Sprintf(listingHTML, `<base href="https://cdn.example.net/archive/">`)
		items, err := Parse([]byte(page), "text/html", "https://mofa.example.org/press/index.html", src, fetched)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := items[0].URL, "https://cdn.example.net/archive/2024/one.html?utm_source=rss"; got != want {
			t.Errorf("URL = %q, want %q", got, want)
		}
	})

	t.Run("link selector and duplicates", func(t *testing.T) {
		s := src
		s.Page = &fetch.PageSelectors{Item: "ul.news li", Link: "a[href*='2024']", Title: "a[href*='2024'], li"}
		items, err := Parse([]byte(fmt.Sprintf(listingHTML, "")), "text/html", "https://mofa.example.org/press/", s, fetched)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, it.Key+" "+it.Title)
		}
		want := []string{
			"https://mofa.example.org/press/2024/one.html First statement on the convention",
			"https://mofa.example.org/2024/two.html Second",
			"https://mofa.example.org/2024/three.html Third",
			"sha256:" + hexSum("not a date A row without a link\x00") + " not a date A row without a link",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("item selector matching nothing", func(t *testing.T) {
		s := src
		s.Page = &fetch.PageSelectors{Item: "div.gone"}
		items, err := Parse([]byte(fmt.Sprintf(listingHTML, "")), "text/html", "https://mofa.example.org/", s, fetched)
		if err != nil || len(items) != 0 {
			t.Fatalf("Parse = %d items, %v; want 0, nil", len(items), err)
		}
	})

	t.Run("bad selector", func(t *testing.T) {
		s := src
		s.Page = &fetch.PageSelectors{Item: "li", Title: "h2["}
		_, err := Parse([]byte("<p>x</p>"), "text/html", "https://mofa.example.org/", s, fetched)
		var se *SelectorError
		if !errors.As(err, &se) || se.Field != "title" {
			t.Fatalf("Parse = %v, want a title SelectorError", err)
		}
	})
}

func hexSum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseCharsets(t *testing.T) {
	src := fetch.Source{ID: "x", Page: &fetch.PageSelectors{Item: "li"}}
	latin1 := "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head><body><ul><li><a href=\"/a\">D\xe9claration de la d\xe9l\xe9gation fran\xe7aise</a></li></ul></body></html>"
	utf8Lie := "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head><body><ul><li><a href=\"/a\">Déclaration de la délégation française</a></li></ul></body></html>"
	cp1251 := "<html><head><meta charset=\"windows-1251\"></head><body><ul><li><a href=\"/a\">\xc7\xe0\xff\xe2\xeb\xe5\xed\xe8\xe5</a></li></ul></body></html>"
	tests := []struct {
		name, body, contentType, override, want string
	}{
		{"declared iso-8859-1 in meta", latin1, "text/html", "", "Déclaration de la délégation française"},
		{"declared iso-8859-1 in header", latin1, "text/html; charset=ISO-8859-1", "", "Déclaration de la délégation française"},
		{"undeclared latin-1 falls back to windows-1252", strings.Replace(latin1, "charset=iso-8859-1", "", 1), "text/html", "", "Déclaration de la délégation française"},
		{"meta says iso-8859-1, bytes are UTF-8", utf8Lie, "text/html", "", "Déclaration de la délégation française"},
		{"header says iso-8859-1, bytes are UTF-8", utf8Lie, "text/html; charset=iso-8859-1", "", "Déclaration de la délégation française"},
		{"windows-1251", cp1251, "text/html", "", "Заявление"},
		{"source override", strings.Replace(cp1251, "windows-1251", "utf-8", 1), "text/html; charset=utf-8", "windows-1251", "Заявление"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := src
			s.Charset = tt.override
			sels, err := compile(*s.Page)
			if err != nil {
				t.Fatal(err)
			}
			items, err := parse([]byte(tt.body), tt.contentType, tt.override, "https://example.org/", s, sels, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Title != tt.want {
				t.Fatalf("items = %+v, want one titled %q", items, tt.want)
			}
		})
	}
}

// TestFetch serves a corpus listing under its original path and reads it
// through the Fetcher: links resolve against the URL fetched, provenance
// is recorded, a 304 is passed on, and a selector that matches nothing
// gives an empty batch without an error.
func TestFetch(t *testing.T) {
	const file = "us-house-walz_press-releases.html"
	body, err := os.ReadFile(filepath.Join(corpustest.Dir(t), "pages", file))
	if err != nil {
		t.Fatal(err)
	}
	const etag = `"walz-1"`
	mux := http.NewServeMux()
	mux.HandleFunc("/media-center/press-releases", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", etag)
		w.Write(body)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/media-center/press-releases?page=0", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	f := New(loopbackClient())
	sel := loadListingConfig(t)[file]
	src := fetch.Source{ID: "walz", Kind: fetch.KindPage, URL: srv.URL + "/old", Page: &sel}
	ctx := context.Background()

	b, err := f.Fetch(ctx, src, fetch.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 10 || b.NotModified {
		t.Fatalf("%d items, NotModified %v; want 10, false", len(b.Items), b.NotModified)
	}
	final := srv.URL + "/media-center/press-releases?page=0"
	if got, want := b.Items[0].URL, srv.URL+"/media-center/press-releases/walz-calls-for-passage-of-the-paycheck-fairness-act-on-equal-pay-day-0"; got != want {
		t.Errorf("first URL = %q, want %q", got, want)
	}
	wantProv := fetch.Provenance{FinalURL: final, Status: 200, ETag: etag, BodySHA256: hexSum(string(body))}
	for _, p := range []fetch.Provenance{b.Provenance, b.Items[0].Provenance, b.Items[9].Provenance} {
		got := p
		got.FetchedAt = time.Time{}
		if got != wantProv {
			t.Errorf("provenance = %+v, want %+v", p, wantProv)
		}
		if p.FetchedAt.IsZero() {
			t.Error("provenance has no fetch time")
		}
	}
	if b.Next.ETag != etag {
		t.Errorf("Next = %+v", b.Next)
	}

	b2, err := f.Fetch(ctx, src, b.Next)
	if err != nil {
		t.Fatal(err)
	}
	if !b2.NotModified || len(b2.Items) != 0 || b2.Next.ETag != etag {
		t.Errorf("second fetch: NotModified %v, %d items, Next %+v", b2.NotModified, len(b2.Items), b2.Next)
	}

	gone := src
	gone.Page = &fetch.PageSelectors{Item: ".view-press-releases-2026 .row"}
	b3, err := f.Fetch(ctx, gone, fetch.Validators{})
	if err != nil || len(b3.Items) != 0 || b3.NotModified || b3.Provenance.Status != 200 {
		t.Errorf("template changed: %d items, NotModified %v, status %d, err %v; want 0, false, 200, nil",
			len(b3.Items), b3.NotModified, b3.Provenance.Status, err)
	}

	bad := src
	bad.Page = &fetch.PageSelectors{Item: "li[", Link: "a"}
	if _, err := f.Fetch(ctx, bad, fetch.Validators{}); fetch.KindOf(err) != fetch.ErrConfig {
		t.Errorf("bad selector: err %v, want kind config", err)
	}
	none := src
	none.Page = nil
	if _, err := f.Fetch(ctx, none, fetch.Validators{}); fetch.KindOf(err) != fetch.ErrConfig {
		t.Errorf("no selectors: err %v, want kind config", err)
	}
	broken := src
	broken.URL = srv.URL + "/broken"
	if _, err := f.Fetch(ctx, broken, fetch.Validators{}); fetch.KindOf(err) != fetch.ErrHTTP {
		t.Errorf("500: err %v, want kind http", err)
	}
}
