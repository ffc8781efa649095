package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// goldenFile holds what the engine said of every labelled item of
// shared/eval/dev.jsonl and every item of every corpus feed, with the
// fitted built-in pack and with the same pack unfitted (rule weights as
// written). Write it again, when a change of the rules or of the model is
// meant to change results, with
//
//	go test ./classify -run '^TestGoldenResults$' -update-golden
//
// and review the diff of what changed (zcat the old and new file).
const goldenFile = "testdata/results.jsonl.gz"

var updateGolden = flag.Bool("update-golden", false, "write "+goldenFile+" from the engine's results")

// goldenLine is one item's results.
type goldenLine struct {
	Key      string          `json:"key"`
	Fitted   json.RawMessage `json:"fitted"`
	Unfitted json.RawMessage `json:"unfitted"`
}

// goldenItems is every item the golden file covers, by key.
func goldenItems(t *testing.T) ([]string, map[string]fetch.Item) {
	t.Helper()
	items := map[string]fetch.Item{}
	var keys []string
	add := func(k string, it fetch.Item) {
		if _, dup := items[k]; dup {
			t.Fatalf("golden key %q twice", k)
		}
		keys = append(keys, k)
		items[k] = it
	}
	for i, l := range loadDev(t) {
		add(fmt.Sprintf("dev/%03d/%s", i, l.ID), l.Item)
	}
	fetched := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	for _, f := range corpustest.Feeds(t) {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		src := fetch.Source{ID: f.Name, Name: f.Name}
		its, _, err := feed.Parse(data, f.ContentType(), "https://example.org/feeds/"+f.Name, src, fetched)
		if err != nil {
			continue // a feed nothing can be read from (see the corpus README)
		}
		n++
		for i, it := range its {
			add(fmt.Sprintf("feed/%s/%04d", f.Name, i), it)
		}
	}
	if n < 90 || len(keys) < 2500 {
		t.Fatalf("the corpus gave %d items from %d feeds: too few for the comparison", len(keys), n)
	}
	return keys, items
}

// TestGoldenResults: every result, in full (its JSON), is what the
// engine gave when the golden file was written (the fitted pack compiled
// by Default, which leaves most of the model for later, and by New). Speed work on the
// engine must not change a byte of what it says.
func TestGoldenResults(t *testing.T) {
	keys, items := goldenItems(t)
	fitted := engine(t)
	plain, err := unfitted(fitted.Pack())
	if err != nil {
		t.Fatal(err)
	}
	// the built-in pack as a pack from a file is compiled: whole, at once
	eager := eagerDefault(t)
	got := make([]goldenLine, 0, len(keys))
	for _, k := range keys {
		f, err := json.Marshal(fitted.Classify(items[k]))
		if err != nil {
			t.Fatal(err)
		}
		if g, err := json.Marshal(eager.Classify(items[k])); err != nil || !bytes.Equal(g, f) {
			t.Errorf("%s: New's engine gives %s, Default's %s (%v)", k, g, f, err)
		}
		u, err := json.Marshal(plain.Classify(items[k]))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, goldenLine{Key: k, Fitted: f, Unfitted: u})
	}
	if *updateGolden {
		writeGolden(t, got)
		return
	}
	want := readGolden(t)
	seen := map[string]bool{}
	bad := 0
	for _, g := range got {
		seen[g.Key] = true
		w, ok := want[g.Key]
		if !ok {
			t.Errorf("%s: not in %s (new item in the corpus? regenerate it)", g.Key, goldenFile)
			continue
		}
		for _, c := range []struct {
			what      string
			got, want json.RawMessage
		}{{"fitted", g.Fitted, w.Fitted}, {"unfitted", g.Unfitted, w.Unfitted}} {
			if !bytes.Equal(c.got, c.want) {
				bad++
				if bad <= 10 {
					t.Errorf("%s (%s):\n got %s\nwant %s", g.Key, c.what, c.got, c.want)
				}
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d results differ in all", bad)
	}
	var missing []string
	for k := range want {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d items of %s not classified (first %s): corpus changed? regenerate it", len(missing), goldenFile, missing[0])
	}
	t.Logf("%d items, each compared fitted and unfitted", len(got))
}

func writeGolden(t *testing.T, lines []goldenLine) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(zw)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d items, %d bytes", goldenFile, len(lines), b.Len())
}

func readGolden(t *testing.T) map[string]goldenLine {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v (write it with -update-golden)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	out := map[string]goldenLine{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var l goldenLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", goldenFile, err)
		}
		// compact the way json.Marshal writes, so the comparison is of
		// bytes as the engine gives them
		for _, r := range []*json.RawMessage{&l.Fitted, &l.Unfitted} {
			var c bytes.Buffer
			if err := json.Compact(&c, *r); err != nil {
				t.Fatalf("%s: %s: %v", goldenFile, l.Key, err)
			}
			*r = c.Bytes()
		}
		out[l.Key] = l
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	return out
}
