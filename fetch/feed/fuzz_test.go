package feed

import (
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// FuzzParse feeds arbitrary bytes, under each content type, to the feed
// parser: it may refuse them, but must not panic, and what it returns
// must carry the source and a key.
func FuzzParse(f *testing.F) {
	for _, b := range corpustest.Seeds(f, 512<<10, "feeds") {
		f.Add(b, "")
	}
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"/a"}]}`), "application/feed+json")
	f.Add([]byte(`<rss version="2.0"><channel><item><title>t</title><link>/x</link></item></channel></rss>`), "application/rss+xml; charset=iso-8859-1")
	fetched := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		items, _, err := Parse(body, contentType, "https://feeds.example.org/feed", fetch.Source{ID: "fz"}, fetched)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.SourceID != "fz" {
				t.Fatalf("item without its source: %+v", it)
			}
		}
	})
}
