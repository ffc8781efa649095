package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// BenchmarkOncePass measures one whole `once` pass over the corpus feeds
// served locally: conditional GET, charset handling, parsing, dedupe,
// classification, one commit per source and delivery to a JSONL file,
// with a fresh store each time so every feed is new.
func BenchmarkOncePass(b *testing.B) {
	fs := corpustest.NewFeedServer(b, corpustest.ServerOptions{})
	var srcs []string
	for _, f := range fs.Files {
		srcs = append(srcs, sourceYAML(feedID(f.Name), fs.FeedURL(f.Name)))
	}
	var total int64
	for _, f := range fs.Files {
		total += f.Bytes
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		cfg := writeConfig(b, dir, srcs, "")
		b.StartTimer()
		run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "error", "--workers", "4"},
			nil, io.Discard, io.Discard)
		b.StopTimer()
		os.RemoveAll(filepath.Join(dir, "treatywatch.db"))
		b.StartTimer()
	}
}

// BenchmarkGofeedParseCorpus is the baseline: a bare gofeed.Parse loop
// over the same bytes.
func BenchmarkGofeedParseCorpus(b *testing.B) {
	files := corpustest.Feeds(b)
	var bodies [][]byte
	var total int64
	for _, f := range files {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
		total += int64(len(body))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	p := gofeed.NewParser()
	for b.Loop() {
		for _, body := range bodies {
			p.Parse(bytes.NewReader(body)) // errors are part of the baseline too
		}
	}
}
