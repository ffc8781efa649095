package extract

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/internal/cputime"
)

func readGzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

type truthEntry struct {
	ArticleBody string `json:"articleBody"`
	URL         string `json:"url"`
}

// aebPage is one benchmark page: its id, original URL, HTML and truth.
type aebPage struct {
	id, url, truth string
	html           []byte
}

func loadTruth(t testing.TB, dir string) map[string]truthEntry {
	t.Helper()
	var gt map[string]truthEntry
	if err := json.Unmarshal(readGzip(t, filepath.Join(dir, "ground-truth.json.gz")), &gt); err != nil {
		t.Fatal(err)
	}
	return gt
}

func loadAEB(t testing.TB) []aebPage {
	t.Helper()
	dir := filepath.Join(corpustest.Dir(t), "extraction")
	gt := loadTruth(t, dir)
	pages := make([]aebPage, 0, len(gt))
	for id, e := range gt {
		pages = append(pages, aebPage{
			id: id, url: e.URL, truth: e.ArticleBody,
			html: readGzip(t, filepath.Join(dir, "html", id+".html.gz")),
		})
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].id < pages[j].id })
	return pages
}

// loadReference reads a published output of AEB: {id: {articleBody}},
// optionally wrapped as {"output": {...}}.
func loadReference(t testing.TB, name string) map[string]truthEntry {
	t.Helper()
	raw := readGzip(t, filepath.Join(corpustest.Dir(t), "extraction", "reference-outputs", name+".json.gz"))
	var wrapped struct {
		Output map[string]truthEntry `json:"output"`
	}
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Output != nil {
		return wrapped.Output
	}
	var out map[string]truthEntry
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// TestAEBMetricReproducesPublished checks the metric against the published
// outputs of AEB: rescored, they must give the README's numbers.
func TestAEBMetricReproducesPublished(t *testing.T) {
	gt := loadTruth(t, filepath.Join(corpustest.Dir(t), "extraction"))
	tests := []struct {
		system   string
		f1, p, r float64
		accuracy float64
	}{
		{"go_trafilatura", 0.960, 0.940, 0.980, 0.287},
		{"go_readability", 0.934, 0.900, 0.971, 0.188},
		{"go_domdistiller", 0.927, 0.901, 0.956, 0.061},
		{"AutoExtract", 0.970, 0.984, 0.956, 0.470},
		{"html-text", 0.665, 0.500, 0.994, 0.000},
	}
	for _, tt := range tests {
		t.Run(tt.system, func(t *testing.T) {
			ref := loadReference(t, tt.system)
			var s Scorer
			for id, e := range gt {
				s.Add(ref[id].ArticleBody, e.ArticleBody)
			}
			res := s.Result()
			t.Logf("%s: F1 %.4f P %.4f R %.4f acc %.4f over %d docs", tt.system, res.F1, res.Precision, res.Recall, res.Accuracy, res.Docs)
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"F1", res.F1, tt.f1}, {"P", res.Precision, tt.p}, {"R", res.Recall, tt.r}, {"accuracy", res.Accuracy, tt.accuracy}} {
				if d := c.got - c.want; d > 0.0005 || d < -0.0005 {
					t.Errorf("%s = %.4f, published %.3f", c.name, c.got, c.want)
				}
			}
		})
	}
}

// extractAll runs FromHTML over pages on a pool of workers.
func extractAll(pages []aebPage) (out []string, errs []error) {
	out = make([]string, len(pages))
	errs = make([]error, len(pages))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i], errs[i] = FromHTML(pages[i].html, pages[i].url)
			}
		}()
	}
	for i := range pages {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out, errs
}

// TestAEB scores FromHTML on the 181 pages of the Article Extraction
// Benchmark with the benchmark's own metric.
func TestAEB(t *testing.T) {
	pages := loadAEB(t)
	if len(pages) != 181 {
		t.Fatalf("loaded %d pages, want 181", len(pages))
	}
	start := time.Now()
	out, errs := extractAll(pages)
	elapsed := time.Since(start)

	var s Scorer
	type worst struct {
		id   string
		p, r float64
	}
	var low []worst
	for i, pg := range pages {
		if errs[i] != nil {
			t.Errorf("%s (%s): %v", pg.id, pg.url, errs[i])
		}
		if strings.TrimSpace(out[i]) == "" {
			t.Errorf("%s (%s): empty output", pg.id, pg.url)
		}
		s.Add(out[i], pg.truth)
		p, r, _ := Score(out[i], pg.truth)
		if p < 0.5 || r < 0.5 {
			low = append(low, worst{pg.id, p, r})
		}
	}
	res := s.Result()
	t.Logf("AEB: F1 %.4f P %.4f R %.4f accuracy %.4f over %d pages; %v for all, %v per page wall time on %d workers",
		res.F1, res.Precision, res.Recall, res.Accuracy, res.Docs, elapsed.Round(time.Millisecond),
		(elapsed / time.Duration(len(pages))).Round(time.Microsecond), runtime.GOMAXPROCS(0))
	for _, w := range low {
		t.Logf("weak page %s: P %.3f R %.3f", w.id, w.p, w.r)
	}

	var ref Scorer
	gt := loadReference(t, "go_trafilatura")
	for _, pg := range pages {
		ref.Add(gt[pg.id].ArticleBody, pg.truth)
	}
	rr := ref.Result()
	t.Logf("published go-trafilatura output rescored: F1 %.4f P %.4f R %.4f (README: 0.960 / 0.940 / 0.980)", rr.F1, rr.Precision, rr.Recall)

	if res.F1 < 0.963 {
		t.Errorf("AEB F1 = %.4f, want >= 0.963", res.F1)
	}
}

// BenchmarkExtractAEB times extracting all 181 benchmark pages, one after
// the other on one goroutine, per op, and reports the time per page and
// the AEB F1 of what came out: "default" is the extractor as it runs,
// "fallback" the former default (readability and DOM Distiller run on
// every page as well), measured in the same run. Every page must give
// text: a page that fails or comes out empty fails the benchmark instead
// of looking cheap.
func BenchmarkExtractAEB(b *testing.B) {
	pages := loadAEB(b)
	if len(pages) != 181 {
		b.Fatalf("loaded %d pages, want 181", len(pages))
	}
	var bytesTotal int64
	for _, p := range pages {
		bytesTotal += int64(len(p.html))
	}
	for _, bm := range []struct {
		name string
		opts Options
	}{{"default", Options{}}, {"fallback", Options{Fallback: true}}} {
		b.Run(bm.name, func(b *testing.B) {
			e := &Extractor{opts: bm.opts}
			b.SetBytes(bytesTotal)
			var s Scorer
			cpu := cputime.Start(b)
			for b.Loop() {
				s = Scorer{}
				for _, pg := range pages {
					text, _, err := e.extract(pg.html, "", "", pg.url)
					if err != nil {
						b.Fatalf("%s: %v", pg.id, err)
					}
					if strings.TrimSpace(text) == "" {
						b.Fatalf("%s: empty output", pg.id)
					}
					s.Add(text, pg.truth)
				}
			}
			cpu.Stop()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(pages)), "ms/page")
			b.ReportMetric(s.Result().F1, "F1")
		})
	}
}
