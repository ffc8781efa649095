package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

type corpus struct {
	feeds     [][]byte
	feedBytes int64
	items     []fetch.Item
	itemBytes int64
}

// loadCorpus reads every feed of shared/corpus/feeds that gofeed parses
// and turns its entries into items the way the pipeline does (feed.Parse:
// markup stripped, entities decoded), so the classifier sees what it sees
// in production.
func loadCorpus(tb testing.TB) *corpus {
	dir := corpustest.Shared(tb, filepath.Join("corpus", "feeds"))
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	c := &corpus{}
	p := gofeed.NewParser()
	for _, e := range ents {
		if e.IsDir() || filepath.Ext(e.Name()) == ".tsv" || filepath.Ext(e.Name()) == ".md" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := p.Parse(bytes.NewReader(data)); err != nil {
			continue // gofeed cannot parse it: not part of the comparison
		}
		items, _, err := feed.Parse(data, "", "https://example.org/feed", fetch.Source{ID: e.Name(), Name: e.Name()}, time.Now())
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		c.feeds = append(c.feeds, data)
		c.feedBytes += int64(len(data))
		for _, item := range items {
			c.items = append(c.items, item)
			c.itemBytes += int64(len(item.Title) + len(item.Summary) + len(item.Content))
		}
	}
	if len(c.items) == 0 {
		tb.Skip("no parseable feed in the corpus")
	}
	return c
}

// BenchmarkClassify: throughput of Classify over the item texts of the
// corpus (title + summary + content bytes).
func BenchmarkClassify(b *testing.B) {
	c := loadCorpus(b)
	e := engine(b)
	b.SetBytes(c.itemBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, it := range c.items {
			e.Classify(it)
		}
	}
}

// BenchmarkGofeedParse: gofeed parsing the same feeds, for comparison.
func BenchmarkGofeedParse(b *testing.B) {
	c := loadCorpus(b)
	p := gofeed.NewParser()
	b.SetBytes(c.feedBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, f := range c.feeds {
			if _, err := p.Parse(bytes.NewReader(f)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkClassifyVsParse reports the time to classify every item of the
// corpus as a percentage of the time gofeed takes to parse it (target:
// at most 10%).
func BenchmarkClassifyVsParse(b *testing.B) {
	c := loadCorpus(b)
	e := engine(b)
	p := gofeed.NewParser()
	var parse, classify time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		for _, f := range c.feeds {
			if _, err := p.Parse(bytes.NewReader(f)); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for _, it := range c.items {
			e.Classify(it)
		}
		t2 := time.Now()
		parse += t1.Sub(t0)
		classify += t2.Sub(t1)
	}
	b.ReportMetric(100*float64(classify)/float64(parse), "classify/parse-%")
	b.ReportMetric(float64(len(c.items)), "items")
}
