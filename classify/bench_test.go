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
	"github.com/treatywatch/treatywatch/internal/cputime"
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

// classifyTarget is the most classifying every corpus item may cost, as
// a percentage of gofeed parsing the feeds they came from.
const classifyTarget = 10.0

// BenchmarkClassifyVsParse reports the time to classify every item of the
// corpus as a percentage of the time gofeed takes to parse it, with the
// target beside it (classify/parse-% against target-max-%), and logs
// whether the run met it. Every pass must parse every feed and classify
// the items alike (the same number found relevant), so a pass that did
// less work cannot look cheap.
func BenchmarkClassifyVsParse(b *testing.B) {
	c := loadCorpus(b)
	e := engine(b)
	p := gofeed.NewParser()
	var parse, classify time.Duration
	relevant := -1
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		for _, f := range c.feeds {
			if _, err := p.Parse(bytes.NewReader(f)); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		n := 0
		for _, it := range c.items {
			if e.Classify(it).Relevant {
				n++
			}
		}
		t2 := time.Now()
		if relevant >= 0 && n != relevant {
			b.Fatalf("a pass found %d relevant items, the first %d", n, relevant)
		}
		relevant = n
		parse += t1.Sub(t0)
		classify += t2.Sub(t1)
	}
	ratio := 100 * float64(classify) / float64(parse)
	b.ReportMetric(ratio, "classify/parse-%")
	b.ReportMetric(classifyTarget, "target-max-%")
	b.ReportMetric(float64(len(c.items)), "items")
	b.ReportMetric(float64(relevant), "relevant")
	if ratio > classifyTarget {
		b.Logf("OVER TARGET: classifying took %.1f%% of parsing, target at most %.0f%%", ratio, classifyTarget)
	} else {
		b.Logf("within target: classifying took %.1f%% of parsing, target at most %.0f%%", ratio, classifyTarget)
	}
}

// BenchmarkDefault: building the engine of the built-in pack, which a
// command that classifies pays once (decoding the embedded pack,
// compiling its rules and model).
func BenchmarkDefault(b *testing.B) {
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Stop()
}

// BenchmarkClassifyPass is what classification adds to a `once` pass
// over the corpus: the built-in engine built, then every item of every
// corpus feed (as feed.Parse gives them) classified, in CPU time
// (cpu-ns/op: garbage collection included).
func BenchmarkClassifyPass(b *testing.B) {
	var items []fetch.Item
	fetched := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, f := range corpustest.Feeds(b) {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			b.Fatal(err)
		}
		its, _, err := feed.Parse(data, f.ContentType(), "https://example.org/feeds/"+f.Name, fetch.Source{ID: f.Name, Name: f.Name}, fetched)
		if err != nil {
			continue // nothing can be read from it (see the corpus README)
		}
		items = append(items, its...)
	}
	if len(items) < 2500 {
		b.Fatalf("%d corpus items, want the whole corpus", len(items))
	}
	b.ReportAllocs()
	relevant := -1
	cpu := cputime.Start(b)
	for b.Loop() {
		e, err := Default()
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if e.Classify(it).Relevant {
				n++
			}
		}
		if relevant >= 0 && n != relevant {
			b.Fatalf("a pass found %d relevant items, the first %d", n, relevant)
		}
		relevant = n
	}
	cpu.Stop()
	b.ReportMetric(float64(len(items)), "items")
}
