package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
// (cut off before its first one). The benchmarks leave it out, so that
// every source of a timed pass must succeed and the pass must exit 0.
const corpusUnreadable = "reuters-mostread_invalid.rss"

// oncePass runs `treatywatch once` with cfg and returns its summary. A
// pass that exits non-zero or reports a failed source fails the
// benchmark: it must not time work that did not happen.
//
// The pass runs under the memory settings the command has outside tests
// (TestMain turns the soft limit off for the test process): the default
// soft limit and the batch commands' collector target. The process's own
// settings are restored afterwards, so a baseline measured in the same
// process runs under Go's defaults.
func oncePass(b *testing.B, cfg string) passSummary {
	b.Helper()
	b.Setenv("GOMEMLIMIT", "")
	limit, percent := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "error", "--workers", "4"},
		nil, &out, &errOut)
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(percent)
	s, err := checkPass(code, out.String())
	if err != nil {
		b.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	return s
}

// checkPass reads the summary of a `once` pass from its exit code and
// standard output; a non-zero exit, a failed source or a missing summary
// is an error.
func checkPass(code int, stdout string) (passSummary, error) {
	var s passSummary
	if code != 0 {
		return s, fmt.Errorf("once exited %d, want 0", code)
	}
	m := summaryLine.FindStringSubmatch(stdout)
	if m == nil {
		return s, errors.New("once printed no \"N records delivered\" line")
	}
	s.delivered, _ = strconv.Atoi(m[1])
	for _, r := range reportLine.FindAllStringSubmatch(stdout, -1) {
		s.sources++
		if r[2] == "failed" {
			s.failed++
		}
		n, _ := strconv.Atoi(r[3])
		f, _ := strconv.Atoi(r[4])
		s.items += n
		s.fresh += f
	}
	if s.sources == 0 {
		return s, errors.New("once reported no source")
	}
	if s.failed > 0 {
		return s, fmt.Errorf("once exited 0 but reported %d failed sources", s.failed)
	}
	return s, nil
}

// corpusConfig serves the corpus feeds (all but the unreadable one) and
// writes a config with one source per feed into a new directory; it
// returns the config path and the total bytes of the feeds. The server
// runs in a process of its own: the CPU time of a pass is the command's,
// not the server's, as against a real remote server.
func corpusConfig(b *testing.B) (dir, cfg string, total int64) {
	fs := corpustest.NewFeedServerProcess(b)
	var srcs []string
	for _, f := range fs.Files {
		if f.Name == corpusUnreadable {
			continue
		}
		srcs = append(srcs, sourceYAML(feedID(f.Name), fs.FeedURL(f.Name)))
		total += f.Bytes
	}
	if len(srcs) == len(fs.Files) {
		b.Fatalf("the corpus has no %s any more: revisit corpusUnreadable", corpusUnreadable)
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
		forgetPass(dir)
		runtime.GC() // the next pass starts on a collected heap, as a process of its own does
		cpu.Resume()
		b.StartTimer()
	}
	cpu.Stop()
}

// forgetPass removes what a pass in dir wrote (its store and its
// sink's file), so that the next pass is a first one again.
func forgetPass(dir string) {
	for _, f := range []string{"treatywatch.db", "treatywatch.db-wal", "treatywatch.db-shm", "items.jsonl"} {
		os.Remove(filepath.Join(dir, f))
	}
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
	bodies, total := corpusBodies(b)
	b.SetBytes(total)
	b.ReportAllocs()
	p := gofeed.NewParser()
	cpu := cputime.Start(b)
	for b.Loop() {
		gofeedLoop(b, p, bodies)
	}
	cpu.Stop()
}

// corpusBodies reads the corpus feeds the once pass reads, and their
// total size.
func corpusBodies(b *testing.B) (bodies [][]byte, total int64) {
	for _, f := range corpustest.Feeds(b) {
		if f.Name == corpusUnreadable {
			continue // left out of the once pass too
		}
		body, err := os.ReadFile(f.Path)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
		total += int64(len(body))
	}
	return bodies, total
}

// gofeedLoop parses every body with p, the baseline's work.
func gofeedLoop(b *testing.B, p *gofeed.Parser, bodies [][]byte) {
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

// onceVsGofeedTarget is the most a once pass may cost, in CPU time, as a
// multiple of the bare gofeed loop over the same bytes.
const onceVsGofeedTarget = 1.5

// BenchmarkOnceVsGofeed measures a once pass and its baseline in pairs:
// each iteration runs the bare gofeed loop and then a once pass (a fresh
// store each time, as BenchmarkOncePass), and takes the ratio of the
// two. The machine's speed drifts over seconds on a shared host, and the
// pass and its baseline measured next to each other drift together; the
// separate benchmarks above run seconds apart. Each part starts on a
// collected heap, as a process of its own would: the baseline's bodies
// are read before it and dropped after it, so that they neither weigh on
// the pass's heap nor leave it their garbage to sweep. It reports the
// median of the pairs' ratios, CPU and wall, beside the target.
func BenchmarkOnceVsGofeed(b *testing.B) {
	dir, cfg, total := corpusConfig(b)
	b.SetBytes(total)
	p := gofeed.NewParser()
	var cpuRatios, wallRatios []float64
	var onceCPU, baseCPU time.Duration
	for b.Loop() {
		b.StopTimer()
		bodies, _ := corpusBodies(b)
		runtime.GC()
		b.StartTimer()
		c0, w0 := cputime.Used(), time.Now()
		gofeedLoop(b, p, bodies)
		c1, w1 := cputime.Used(), time.Now()
		b.StopTimer()
		bodies = nil
		runtime.GC()
		b.StartTimer()
		c2, w2 := cputime.Used(), time.Now()
		if got := oncePass(b, cfg); got.fresh < 1000 {
			b.Fatalf("pass found only %d new items", got.fresh)
		}
		c3, w3 := cputime.Used(), time.Now()
		baseCPU, onceCPU = baseCPU+c1-c0, onceCPU+c3-c2
		cpuRatios = append(cpuRatios, float64(c3-c2)/float64(c1-c0))
		wallRatios = append(wallRatios, float64(w3.Sub(w2))/float64(w1.Sub(w0)))
		b.StopTimer()
		forgetPass(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(onceCPU.Nanoseconds())/float64(b.N), "once-cpu-ns/op")
	b.ReportMetric(float64(baseCPU.Nanoseconds())/float64(b.N), "gofeed-cpu-ns/op")
	b.ReportMetric(median(cpuRatios), "cpu-ratio")
	b.ReportMetric(median(wallRatios), "wall-ratio")
	b.ReportMetric(onceVsGofeedTarget, "target-max-ratio")
}

// median is the middle of xs (the mean of the two middle ones).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// TestCheckPassRefusesAFailedPass checks what the once-pass benchmarks
// rely on: a real pass with a source that fails exits non-zero and is
// refused, a clean pass is read back with its counts, and a summary that
// reports a failure or lacks its totals is refused too.
func TestCheckPassRefusesAFailedPass(t *testing.T) {
	fs := corpustest.NewFeedServer(t, corpustest.ServerOptions{})
	var good string
	for _, f := range fs.Files {
		if f.Name != corpusUnreadable && strings.HasSuffix(f.Name, ".rss") && f.Items > 0 {
			good = f.Name
			break
		}
	}
	if good == "" {
		t.Fatal("no readable RSS feed with items in the corpus manifest")
	}
	realPass := func(names ...string) (int, string) {
		var srcs []string
		for _, n := range names {
			srcs = append(srcs, sourceYAML(feedID(n), fs.FeedURL(n)))
		}
		dir := t.TempDir()
		cfg := writeConfig(t, dir, srcs, "")
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "error"},
			nil, &out, &errOut)
		return code, out.String()
	}
	okCode, okOut := realPass(good)
	badCode, badOut := realPass(good, corpusUnreadable)
	tests := []struct {
		name    string
		code    int
		stdout  string
		wantErr string // empty: accepted
	}{
		{"clean pass", okCode, okOut, ""},
		{"a source failed", badCode, badOut, "exited 1"},
		{"failed source with exit 0", 0, okOut + "\n" + feedID(corpusUnreadable) + "  failed  0  0  cut off\n", "1 failed sources"},
		{"no totals", 0, "nothing here\n", "no \"N records delivered\""},
		{"totals without sources", 0, "3 records delivered\n", "no source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := checkPass(tc.code, tc.stdout)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused a clean pass: %v\n%s", err, tc.stdout)
				}
				if s.sources != 1 || s.fresh == 0 || s.items != s.fresh {
					t.Errorf("summary %+v of\n%s\nwant 1 source with every item new", s, tc.stdout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q\n%s", err, tc.wantErr, tc.stdout)
			}
		})
	}
}
