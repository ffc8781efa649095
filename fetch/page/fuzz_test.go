package page

import (
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// FuzzParse runs arbitrary selectors over arbitrary HTML: selectors that
// do not compile are refused by Validate, and Parse must not panic on
// what passes.
func FuzzParse(f *testing.F) {
	for _, b := range corpustest.Seeds(f, 512<<10, "pages") {
		f.Add(b, "article, div.press-release, li", "a[href]", "h2, h3, a", "time[datetime]")
	}
	f.Add([]byte(`<ul><li><a href="/n/1">One</a><time datetime="2026-11-02">2 Nov</time></li></ul>`), "li", "a", "a", "time")
	fetched := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, item, link, title, date string) {
		sel := fetch.PageSelectors{Item: item, Link: link, Title: title, Date: date}
		if Validate(sel) != nil {
			return
		}
		src := fetch.Source{ID: "fz", Kind: fetch.KindPage, Page: &sel}
		items, err := Parse(body, "text/html", "https://www.example.org/press/", src, fetched)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Key == "" || it.URL == "" || it.SourceID != "fz" {
				t.Fatalf("item without a key, a URL or its source: %+v", it)
			}
		}
	})
}
