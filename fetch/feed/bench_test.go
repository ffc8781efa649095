package feed_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/internal/cputime"
)

type benchFeed struct {
	name, contentType string
	body              []byte
}

// gofeedCorpus returns the corpus feeds bare gofeed parses, as read from
// disk (the .gz one decompressed by neither: gofeed cannot read it raw).
func gofeedCorpus(b *testing.B) ([]benchFeed, int64) {
	return corpusFeeds(b, func(body []byte) bool {
		_, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		return err == nil
	})
}

// corpusFeeds returns the corpus feeds whose bytes keep accepts, and
// their total size.
func corpusFeeds(b *testing.B, keep func(body []byte) bool) ([]benchFeed, int64) {
	b.Helper()
	var (
		out   []benchFeed
		total int64
	)
	for _, f := range corpustest.Feeds(b) {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			b.Fatal(err)
		}
		if !keep(body) {
			continue
		}
		out = append(out, benchFeed{f.Name, f.ContentType(), body})
		total += int64(len(body))
	}
	return out, total
}

// BenchmarkParseCorpus runs feed.Parse (decode, parse, normalise) over
// every corpus feed that bare gofeed can parse.
func BenchmarkParseCorpus(b *testing.B) {
	feeds, total := gofeedCorpus(b)
	b.SetBytes(total)
	now := time.Now()
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for b.Loop() {
		for _, f := range feeds {
			if _, _, err := feed.Parse(f.body, f.contentType, "https://example.org/feeds/"+f.name, fetch.Source{ID: f.name}, now); err != nil {
				b.Fatalf("%s: %v", f.name, err)
			}
		}
	}
	cpu.Stop()
}

// BenchmarkGofeedCorpus is the baseline: bare gofeed.Parse over the same
// bytes.
func BenchmarkGofeedCorpus(b *testing.B) {
	feeds, total := gofeedCorpus(b)
	b.SetBytes(total)
	p := gofeed.NewParser()
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for b.Loop() {
		for _, f := range feeds {
			if _, err := p.Parse(bytes.NewReader(f.body)); err != nil {
				b.Fatalf("%s: %v", f.name, err)
			}
		}
	}
	cpu.Stop()
}

// BenchmarkParseAllCorpus runs feed.Parse over every corpus feed, those
// bare gofeed refuses included (salvaged JSON, broken or embedded XML,
// the gzip one): what a once pass parses.
func BenchmarkParseAllCorpus(b *testing.B) {
	feeds, total := corpusFeeds(b, func([]byte) bool { return true })
	b.SetBytes(total)
	now := time.Now()
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for b.Loop() {
		items := 0
		for _, f := range feeds {
			its, _, _ := feed.Parse(f.body, f.contentType, "https://example.org/feeds/"+f.name, fetch.Source{ID: f.name}, now)
			items += len(its)
		}
		if items < 2500 {
			b.Fatalf("only %d items", items)
		}
	}
	cpu.Stop()
}
