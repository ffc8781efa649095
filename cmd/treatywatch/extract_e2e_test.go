package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestThinItemsGetTheirArticleText: a feed that carries one line per item
// gets the article text of the items that may be relevant, and only of
// those; the labels then come from the full text.
func TestThinItemsGetTheirArticleText(t *testing.T) {
	var articleHits, otherHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/feed.rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Rights desk</title>
<item><title>Our statement on the cybercrime convention</title><link>/statements/1</link><description>Read our statement.</description></item>
<item><title>Annual report published</title><link>/reports/2026</link><description>Read the report.</description></item>
</channel></rss>`)
	})
	mux.HandleFunc("/statements/1", func(w http.ResponseWriter, r *http.Request) {
		articleHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var body strings.Builder
		for _, p := range []string{
			"The United Nations Convention against Cybercrime was opened for signature in Hanoi, and our organisation has studied its text closely since the Ad Hoc Committee first met.",
			"We urge all states not to ratify the convention until its human rights safeguards are strengthened, because its surveillance powers allow real-time collection of traffic data without judicial authorization.",
			"The treaty's broad scope would criminalise the work of journalists and security researchers, and its cross-border evidence sharing provisions lack dual criminality protections.",
			"As it stands the convention is a global surveillance pact that lacks adequate safeguards.",
			"Parliaments that consider ratification should demand independent oversight and effective remedies before any instrument of ratification is deposited.",
		} {
			body.WriteString("<p>" + p + "</p>\n")
		}
		fmt.Fprintf(w, `<!doctype html><html><head><title>Statement</title></head><body><nav><a href="/">Home</a> <a href="/about">About</a></nav><article><h1>Our statement on the cybercrime convention</h1>%s</article><footer>Contact us</footer></body></html>`, body.String())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("rights", srv.URL+"/feed.rss")}, "")
	// writeConfig turns extraction off; turn it back on.
	cfg = rewriteFile(t, cfg, "min_words: 0", "min_words: 80")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "error"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once: %d\n%s%s", code, out.String(), errOut.String())
	}
	if articleHits.Load() != 1 {
		t.Errorf("the thin, possibly relevant item's article was fetched %d times, want 1", articleHits.Load())
	}
	if otherHits.Load() != 0 {
		t.Errorf("%d other pages were fetched: the pre-check should skip the irrelevant item", otherHits.Load())
	}
	recs := readJSONL(t, filepath.Join(dir, "items.jsonl"))
	if len(recs) != 1 {
		t.Fatalf("%d records, want the statement only", len(recs))
	}
	r := recs[0]
	if !r.Provenance.Extracted || r.Labels.Stance != "critical" {
		t.Errorf("record = extracted %v, stance %q; want the full text extracted and labelled critical", r.Provenance.Extracted, r.Labels.Stance)
	}
	fromContent := false
	for _, ev := range r.Evidence {
		if ev.Field == "content" {
			fromContent = true
		}
	}
	if !fromContent {
		t.Errorf("no evidence from the extracted text: %+v", r.Evidence)
	}
}
