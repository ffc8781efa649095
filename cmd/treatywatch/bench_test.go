package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/internal/cputime"
)

// passSummary is what a `once` pass printed about itself.
type passSummary struct {
	sources, failed, delivered int
	items, fresh               int // summed over the sources
}

var (
	summaryLine = regexp.MustCompile(`(?m)^(\d+) records delivered$`)
	reportLine  = regexp.MustCompile(`(?m)^(\S+)\s+(ok|not-modified|failed|waiting)\s+(\d+)\s+(\d+)\s`)
)

// corpusUnreadable is the corpus feed no parser can take an item from
// (cut off before its first one): the only failure a pass may report.
const corpusUnreadable = "reuters-mostread_invalid.rss"

// oncePass runs `treatywatch once` with cfg and returns its summary. A
// pass that fails, or fails any source but the corpus's unreadable feed,
// fails the benchmark: it must not time work that did not happen.
func oncePass(b *testing.B, cfg string) passSummary {
	b.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "error", "--workers", "4"},
		nil, &out, &errOut)
	m := summaryLine.FindStringSubmatch(out.String())
	if code > 1 || m == nil {
		b.Fatalf("once exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	var s passSummary
	s.delivered, _ = strconv.Atoi(m[1])
	for _, r := range reportLine.FindAllStringSubmatch(out.String(), -1) {
		s.sources++
		if r[2] == "failed" {
			s.failed++
			if r[1] != feedID(corpusUnreadable) {
				b.Fatalf("source %s failed:\n%s", r[1], out.String())
			}
		}
		n, _ := strconv.Atoi(r[3])
		f, _ := strconv.Atoi(r[4])
		s.items += n
		s.fresh += f
	}
	if s.failed > 1 || (code == 1 && s.failed == 0) {
		b.Fatalf("once exited %d with %d failed sources:\n%s\n%s", code, s.failed, out.String(), errOut.String())
	}
	return s
}

// corpusConfig serves the corpus feeds and writes a config with one
// source per feed into a new directory; it returns the config path and
// the total bytes of the feeds.
func corpusConfig(b *testing.B) (dir, cfg string, total int64) {
	fs := corpustest.NewFeedServer(b, corpustest.ServerOptions{})
	var srcs []string
	for _, f := range fs.Files {
		srcs = append(srcs, sourceYAML(feedID(f.Name), fs.FeedURL(f.Name)))
		total += f.Bytes
	}
	dir = b.TempDir()
	return dir, writeConfig(b, dir, srcs, ""), total
}

// BenchmarkOncePass measures one whole `once` pass over the corpus feeds
// served locally: conditional GET, charset handling, parsing, dedupe,
// classification, commits and delivery to a JSONL file, with a fresh
// store each time so every feed is new. Each pass must deliver the same
// records as the first.
func BenchmarkOncePass(b *testing.B) {
	dir, cfg, total := corpusConfig(b)
	b.SetBytes(total)
	b.ReportAllocs()
	var want passSummary
	cpu := cputime.Start(b)
	for b.Loop() {
		got := oncePass(b, cfg)
		if got.fresh < 1000 || (want != passSummary{} && got != want) {
			b.Fatalf("pass delivered %+v, the first pass %+v", got, want)
		}
		want = got
		b.StopTimer()
		cpu.Pause()
		for _, f := range []string{"treatywatch.db", "treatywatch.db-wal", "treatywatch.db-shm", "items.jsonl"} {
			os.Remove(filepath.Join(dir, f))
		}
		cpu.Resume()
		b.StartTimer()
	}
	cpu.Stop()
}

// BenchmarkOncePass304 measures a second `once` pass over the same feeds
// when the server answers every conditional GET with 304: it should cost
// next to nothing beside the first pass.
func BenchmarkOncePass304(b *testing.B) {
	dir, cfg, total := corpusConfig(b)
	b.SetBytes(total)
	b.ReportAllocs()
	first := oncePass(b, cfg)
	if first.fresh < 1000 {
		b.Fatalf("the first pass found only %d new items", first.fresh)
	}
	before := fileSize(b, filepath.Join(dir, "items.jsonl"))
	cpu := cputime.Start(b)
	for b.Loop() {
		got := oncePass(b, cfg)
		if got.sources != first.sources || got.fresh != 0 || got.delivered != 0 {
			b.Fatalf("a 304 pass ran %+v, want %d sources and nothing new", got, first.sources)
		}
	}
	cpu.Stop()
	if after := fileSize(b, filepath.Join(dir, "items.jsonl")); after != before {
		b.Fatalf("a 304 pass wrote %d bytes to the sink", after-before)
	}
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
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
	cpu := cputime.Start(b)
	for b.Loop() {
		parsed := 0
		for _, body := range bodies {
			if _, err := p.Parse(bytes.NewReader(body)); err == nil { // errors are part of the baseline too
				parsed++
			}
		}
		if parsed == 0 {
			b.Fatal("gofeed parsed none of the corpus feeds")
		}
	}
	cpu.Stop()
}
