package feed_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

var (
	updateGolden = flag.Bool("update", false, "rewrite testdata/corpus-items.sum from what Parse gives now")
	dumpItems    = flag.String("dump-items", "", "write each corpus feed's items as JSON into this directory (to diff two versions)")
)

const goldenPath = "testdata/corpus-items.sum"

// TestCorpusItemsGolden parses every corpus feed and compares a digest of
// its items (every field, as JSON), its ttl and its error with the digest
// recorded in testdata: a change to decoding, parsing or normalising
// that alters any item of any feed fails here. After a deliberate change
// (or a gofeed upgrade), check the items (-dump-items DIR, before and
// after) and rewrite the digests with -update.
func TestCorpusItemsGolden(t *testing.T) {
	fetched := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	got := map[string]string{}
	var names []string
	for _, f := range corpustest.Feeds(t) {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		src := fetch.Source{ID: f.Name, Name: f.Name, Kind: fetch.KindFeed, Lang: "xx"}
		items, ttl, err := feed.Parse(body, f.ContentType(), "https://example.org/feeds/"+f.Name, src, fetched)
		rec := struct {
			Items []fetch.Item  `json:"items"`
			TTL   time.Duration `json:"ttl"`
			Err   string        `json:"err,omitempty"`
		}{Items: items, TTL: ttl}
		if err != nil {
			rec.Err = err.Error()
		}
		data, err := json.MarshalIndent(rec, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if *dumpItems != "" {
			if err := os.WriteFile(filepath.Join(*dumpItems, f.Name+".json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		sum := sha256.Sum256(data)
		got[f.Name] = fmt.Sprintf("%d %s", len(items), hex.EncodeToString(sum[:]))
		names = append(names, f.Name)
	}
	if len(names) < 100 {
		t.Fatalf("only %d corpus feeds", len(names))
	}
	if *updateGolden {
		var b strings.Builder
		b.WriteString("# feed, item count, SHA-256 of its items as JSON (TestCorpusItemsGolden; go test -run TestCorpusItemsGolden -update)\n")
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s\n", n, got[n])
		}
		if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readGolden(t)
	for _, n := range names {
		w, ok := want[n]
		switch {
		case !ok:
			t.Errorf("%s: not in %s (run with -update after checking its items)", n, goldenPath)
		case w != got[n]:
			t.Errorf("%s: items changed: %s, recorded %s", n, got[n], w)
		}
		delete(want, n)
	}
	for n := range want {
		t.Errorf("%s: recorded in %s but not in the corpus", n, goldenPath)
	}
}

func readGolden(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s: bad line %q", goldenPath, line)
		}
		out[name] = rest
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
