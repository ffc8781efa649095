package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/pipeline"
	"github.com/treatywatch/treatywatch/sinks"
)

// archivePost is an article of the test site.
type archivePost struct {
	path, title string
	date        string // YYYY-MM-DD
	text        string
}

var (
	// The feed's pages, newest first; ?paged=4 is a 404.
	archiveFeed = [][]archivePost{
		{
			{"/p/hanoi", "States sign the UN Convention against Cybercrime in Hanoi", "2025-10-25",
				"Sixty-five states signed the United Nations Convention against Cybercrime in Hanoi, the first day it was open for signature."},
			{"/p/market", "Farmers market moves to the square", "2025-09-20", "The weekly farmers market moves to the old square."},
		},
		{
			{"/p/ratify", "Parliament ratifies the UN Convention against Cybercrime", "2025-08-15",
				"Parliament voted to ratify the United Nations Convention against Cybercrime, counting toward the forty ratifications it needs."},
			{"/p/rain", "Heavy rain expected", "2025-06-02", "Forecasters expect heavy rain over the weekend."},
		},
		{
			{"/p/rights", "Rights groups criticise the UN cybercrime treaty", "2025-03-03",
				"Human Rights Watch said the UN Convention against Cybercrime lacks human rights safeguards and enables surveillance."},
			{"/p/adopted", "General Assembly adopts UN Convention against Cybercrime", "2024-12-24",
				"The UN General Assembly adopted the Convention against Cybercrime without a vote."},
		},
	}
	// Pages only the sitemap lists.
	archiveSitemapOnly = []archivePost{
		{"/a/senate", "Senate debates the UN Convention against Cybercrime", "2025-04-10",
			"The senate debated whether to ratify the United Nations Convention against Cybercrime signed in Hanoi. Senators asked how the treaty's safeguards protect journalists and security researchers. The foreign ministry said ratification would speed up cooperation on electronic evidence."},
		{"/a/old", "Negotiators near deal on UN Convention against Cybercrime", "2024-08-08",
			"Negotiators in New York neared a deal on the United Nations Convention against Cybercrime. The final session ran late into the night and delegates cheered the text."},
	}
)

func newArchiveServer(t *testing.T) *httptest.Server {
	t.Helper()
	pages := map[string]archivePost{}
	for _, pg := range archiveFeed {
		for _, p := range pg {
			pages[p.path] = p
		}
	}
	for _, p := range archiveSitemapOnly {
		pages[p.path] = p
	}
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if v := r.URL.Query().Get("paged"); v != "" {
			fmt.Sscan(v, &n)
		}
		if n < 1 || n > len(archiveFeed) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Desk</title><link>`+srv.URL+`/</link>`)
		for _, p := range archiveFeed[n-1] {
			d, _ := time.Parse(time.DateOnly, p.date)
			fmt.Fprintf(w, "<item><title>%s</title><link>%s%s</link><guid isPermaLink=\"false\">%s?p=%s</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
				html.EscapeString(p.title), srv.URL, p.path, srv.URL, p.path, d.Add(10*time.Hour).Format(time.RFC1123Z), html.EscapeString(p.text))
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, p := range archiveSitemapOnly {
			fmt.Fprintf(w, "<url><loc>%s%s</loc><lastmod>%sT08:00:00+00:00</lastmod></url>\n", srv.URL, p.path, p.date)
		}
		fmt.Fprint(w, `</urlset>`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>%[1]s</title></head><body><nav><a href="/">Home</a></nav>
<article><h1>%[1]s</h1>`, html.EscapeString(p.title))
		for _, s := range strings.SplitAfter(p.text, ". ") {
			fmt.Fprintf(w, "<p>%s</p>\n", html.EscapeString(s))
		}
		fmt.Fprint(w, `</article><footer>Desk</footer></body></html>`)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// writeBackfillConfig writes a config with the archive source, a broken
// source and a JSONL file sink.
func writeBackfillConfig(t *testing.T, dir, base string) (cfg, jsonl string) {
	t.Helper()
	jsonl = filepath.Join(dir, "items.jsonl")
	body := fmt.Sprintf(`data_dir: %[1]s
http:
  per_host: 4
  host_interval: 0s
  allow_private: [loopback]
sources:
  - id: desk
    name: Treaty Desk
    url: %[2]s/feed/
    archive:
      page_param: paged
      sitemap: %[2]s/sitemap.xml
  - id: broken
    url: %[2]s/missing/feed
sinks:
  - name: jsonl
    type: file
    path: %[3]s
`, dir, base, jsonl)
	cfg = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, jsonl
}

// jsonlPaths returns the URL paths of the items in a JSONL sink file.
func jsonlPaths(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e sinks.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("jsonl line %q: %v", sc.Text(), err)
		}
		u, _ := url.Parse(e.Item.URL)
		out = append(out, u.Path)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// summaryRow returns the fields of the summary table's row for id.
func summaryRow(table, id string) []string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == id {
			return f
		}
	}
	return nil
}

func TestBackfillCommand(t *testing.T) {
	srv := newArchiveServer(t)
	dir := t.TempDir()
	cfg, jsonl := writeBackfillConfig(t, dir, srv.URL)
	window := []string{"--config", cfg, "--source", "desk", "--since", "2025-01-01", "--until", "2025-09-30"}
	want := []string{"/a/senate", "/p/ratify", "/p/rights"}

	// Dry run: a table of what would go, nothing delivered.
	code, out, errOut := runCmd(t, append([]string{"backfill", "--dry-run"}, window...)...)
	if code != 0 {
		t.Fatalf("dry run exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// SOURCE PAGES ARTICLES ITEMS IN-WINDOW UNDATED NEW RELEVANT WOULD-DELIVER
	if row := summaryRow(out, "desk"); len(row) < 9 || row[1] != "4" || row[2] != "1" || row[4] != "5" || row[7] != "3" || row[8] != "3" {
		t.Errorf("dry-run row %q\n%s", row, out)
	}
	for _, s := range []string{"dry run", "nothing was stored or delivered", "TOPIC", "SUPPORTIVE", "ratification",
		"Parliament ratifies the UN Convention against Cybercrime", srv.URL + "/a/senate"} {
		if !strings.Contains(out, s) {
			t.Errorf("dry-run output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "/p/hanoi") || strings.Contains(out, "/a/old") {
		t.Errorf("dry run lists items outside the window:\n%s", out)
	}
	if !strings.Contains(errOut, "backfill desk: page "+srv.URL+"/feed/?paged=3") || !strings.Contains(errOut, "backfill desk: done") {
		t.Errorf("progress lines missing:\n%s", errOut)
	}
	if got := jsonlPaths(t, jsonl); len(got) != 0 {
		t.Fatalf("dry run delivered %v", got)
	}

	// The backfill delivers exactly the window's relevant items.
	code, out, errOut = runCmd(t, append([]string{"backfill"}, window...)...)
	if code != 0 {
		t.Fatalf("backfill exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := jsonlPaths(t, jsonl); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if row := summaryRow(out, "TOTAL"); len(row) < 9 || row[8] != "3" {
		t.Errorf("totals %q\n%s", row, out)
	}
	if !strings.Contains(out, "3 records queued, 3 delivered") {
		t.Errorf("summary:\n%s", out)
	}

	// Again: nothing new.
	code, out, _ = runCmd(t, append([]string{"backfill"}, window...)...)
	if code != 0 || !strings.Contains(out, "0 records queued, 0 delivered") {
		t.Errorf("second backfill exit %d:\n%s", code, out)
	}
	if got := jsonlPaths(t, jsonl); !slices.Equal(got, want) {
		t.Errorf("after the second backfill the file holds %v", got)
	}

	// --redeliver hands them to the sink again, with the same event ids;
	// the file sink keeps one line per event id.
	code, out, _ = runCmd(t, append([]string{"backfill", "--redeliver"}, window...)...)
	if code != 0 || !strings.Contains(out, "3 records queued, 3 delivered") {
		t.Errorf("redeliver exit %d:\n%s", code, out)
	}
	if got := jsonlPaths(t, jsonl); !slices.Equal(got, want) {
		t.Errorf("after redelivery the file holds %v", got)
	}

	// All sources: the broken one fails the command, the other goes on.
	code, out, _ = runCmd(t, "backfill", "--config", cfg, "--since", "2025-01-01", "--until", "2025-09-30")
	if code != 1 {
		t.Errorf("exit %d with a failing source, want 1:\n%s", code, out)
	}
	if row := summaryRow(out, "broken"); len(row) < 10 || !strings.Contains(strings.Join(row[9:], " "), "404") {
		t.Errorf("broken row %q:\n%s", row, out)
	}
	if !strings.Contains(out, "2 sources, 1 failed") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestBackfillCommandArguments(t *testing.T) {
	srv := newArchiveServer(t)
	cfg, _ := writeBackfillConfig(t, t.TempDir(), srv.URL)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"since required", []string{"--config", cfg}, 2, "--since is required"},
		{"bad date", []string{"--config", cfg, "--since", "01/02/2025"}, 2, "neither YYYY-MM-DD nor RFC 3339"},
		{"empty window", []string{"--config", cfg, "--since", "2025-05-01", "--until", "2025-04-30"}, 2, "is not before"},
		{"future", []string{"--config", cfg, "--since", "2999-01-01"}, 2, "is not before"},
		{"unknown source", []string{"--config", cfg, "--since", "2025-01-01", "--source", "nope"}, 1, `no enabled source "nope"`},
		{"negative pages", []string{"--config", cfg, "--since", "2025-01-01", "--max-pages", "-1"}, 2, "--max-pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, append([]string{"backfill"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, want %d; stderr %q (want %q); stdout %q", code, tt.code, errOut, tt.msg, out)
			}
		})
	}
}

func TestBackfillWindow(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		since, until         string
		wantSince, wantUntil string
		bad                  bool
	}{
		{"2025-01-01", "2025-01-31", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", false},
		{"2025-01-01", "", "2025-01-01T00:00:00Z", "2026-11-23T12:00:00Z", false},
		{"2025-01-01T10:00:00+02:00", "2025-01-01T12:00:00Z", "2025-01-01T10:00:00+02:00", "2025-01-01T12:00:00Z", false},
		{"2025-01-01", "2025-01-01", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", false}, // one whole day
		{"2025-01-02T00:00:00Z", "2025-01-02T00:00:00Z", "", "", true},
		{"", "2025-01-01", "", "", true},
		{"yesterday", "", "", "", true},
	}
	for _, tt := range tests {
		since, until, err := backfillWindow(tt.since, tt.until, now)
		if tt.bad {
			if err == nil {
				t.Errorf("%q–%q accepted", tt.since, tt.until)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q–%q: %v", tt.since, tt.until, err)
			continue
		}
		if since.Format(time.RFC3339) != tt.wantSince || until.Format(time.RFC3339) != tt.wantUntil {
			t.Errorf("%q–%q = %s–%s, want %s–%s", tt.since, tt.until, since.Format(time.RFC3339), until.Format(time.RFC3339), tt.wantSince, tt.wantUntil)
		}
	}
}

func TestBarLine(t *testing.T) {
	tests := []struct {
		p    pipeline.Progress
		want string
	}{
		{pipeline.Progress{Source: "s", Stage: pipeline.StageArticle, Articles: 10, ArticlesTotal: 40, Pages: 2, Items: 50, InWindow: 12, Relevant: 3},
			"s [######------------------] 10/40 articles · 2 pages, 50 items, 12 in window, 3 relevant"},
		{pipeline.Progress{Source: "s", Stage: pipeline.StagePage, Pages: 3, Items: 30},
			"s (page) 3 pages, 30 items, 0 in window, 0 relevant"},
	}
	for _, tt := range tests {
		if got := barLine(tt.p); got != tt.want {
			t.Errorf("barLine = %q, want %q", got, tt.want)
		}
	}
}
