package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/internal/dashboard"
)

// The dashboard tests run over a store the real pipeline filled (once
// --deliver-existing): every corpus feed, the labelled items of
// shared/eval/dev.jsonl served as one RSS feed per language, and a
// treaty status document.

const dashUser, dashPassword = "alice", "correct horse battery"

// evalRecord is one line of dev.jsonl.
type evalRecord struct {
	ID, URL, Source, Date, Lang, Title, Text string
	Relevant                                 bool
	Topics                                   []string
	Stance, Actor                            string
}

func readEval(t testing.TB) []evalRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(corpustest.Shared(t, "eval"), "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []evalRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r evalRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// evalDate is the record's date, or for undated records a day spread
// over the 120 days before 2026-02-01 by position, so the timeline has
// shape.
func evalDate(i int, r evalRecord) time.Time {
	if d, err := time.Parse("2006-01-02", r.Date); err == nil {
		return d.Add(12 * time.Hour)
	}
	return time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, -(i*7)%120)
}

// evalFeed is one served feed of labelled records: one per source and
// language, named after the source, so the classifier sees who speaks as
// it would for a configured source.
type evalFeed struct {
	id, name string
	body     []byte
}

// evalFeeds renders the records as RSS 2.0, keyed by URL path.
func evalFeeds(recs []evalRecord) map[string]*evalFeed {
	type open struct {
		f *evalFeed
		b strings.Builder
	}
	byKey := map[string]*open{}
	var order []string
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	for i, r := range recs {
		key := r.Lang + "-" + feedID(r.Source)
		if len(key) > 50 {
			key = key[:50]
		}
		o := byKey[key]
		if o == nil {
			o = &open{f: &evalFeed{id: "eval-" + key, name: r.Source}}
			fmt.Fprintf(&o.b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title><link>https://eval.example/</link><description>labelled items</description><language>%s</language>`, esc(r.Source), r.Lang)
			byKey[key] = o
			order = append(order, key)
		}
		fmt.Fprintf(&o.b, "\n<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid><pubDate>%s</pubDate><description>%s</description></item>",
			esc(r.Title), esc(r.URL), esc(r.ID), evalDate(i, r).Format(time.RFC1123Z), esc(r.Text))
	}
	out := map[string]*evalFeed{}
	for _, key := range order {
		o := byKey[key]
		o.b.WriteString("\n</channel></rss>\n")
		o.f.body = []byte(o.b.String())
		out["/eval/"+key+".rss"] = o.f
	}
	return out
}

// treatyRows are the participants of the served status document.
var treatyRows = [][3]string{
	{"Azerbaijan", "25 Oct 2025", "10 Feb 2026"},
	{"Mauritius", "19 Nov 2025", "2 Mar 2026"},
	{"Viet Nam", "25 Oct 2025", "15 Jan 2026"},
	{"Brazil", "25 Oct 2025", ""},
	{"China", "25 Oct 2025", ""},
	{"Russian Federation", "25 Oct 2025", ""},
	{"European Union", "25 Oct 2025", ""},
	{"Qatar", "27 Oct 2025", "20 Feb 2026"},
	{"South Africa", "3 Nov 2025", ""},
	{"Ghana", "25 Oct 2025", "30 Jan 2026"},
}

func treatyDoc() []byte {
	var rows strings.Builder
	for _, r := range treatyRows {
		fmt.Fprintf(&rows, "<Row><Entry>%s</Entry><Entry>%s</Entry><Entry>%s</Entry></Row>\n", r[0], r[1], r[2])
	}
	return []byte(`<?xml version="1.0" encoding="utf-8"?><TreatyCollection><Treaty><Header><Title>United Nations Convention against Cybercrime; Strengthening International Cooperation</Title></Header>
<Participants><Table><TGroup><Thead><Row><Entry>Participant</Entry><Entry>Signature</Entry><Entry>Ratification, Acceptance(A), Approval(AA), Accession(a)</Entry></Row></Thead>
<Tbody><Rows>` + rows.String() + `</Rows></Tbody></TGroup></Table></Participants></Treaty></TreatyCollection>`)
}

// dashFixture is a filled store and its config.
type dashFixture struct {
	dir, cfg, db string
	eval         []evalRecord
}

// fillDashboardStore fills the store named db (a PostgreSQL URL), or an
// SQLite file in the test's directory when db is empty.
func fillDashboardStore(t *testing.T, db string) dashFixture {
	t.Helper()
	fs := corpustest.NewFeedServer(t, corpustest.ServerOptions{})
	recs := readEval(t)
	feeds := evalFeeds(recs)
	treaty := treatyDoc()
	extra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/treaty/XVIII-16.en.xml" {
			w.Header().Set("Content-Type", "text/xml")
			w.Write(treaty)
			return
		}
		f, ok := feeds[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(f.body)
	}))
	t.Cleanup(extra.Close)

	dir := t.TempDir()
	var srcs []string
	for _, f := range fs.Files {
		srcs = append(srcs, sourceYAML(feedID(f.Name), fs.FeedURL(f.Name)))
	}
	for path, f := range feeds {
		srcs = append(srcs, fmt.Sprintf("  - id: %s\n    name: %q\n    url: %s\n", f.id, f.name, extra.URL+path))
	}
	srcs = append(srcs, fmt.Sprintf("  - id: untc\n    kind: treaty\n    url: %s/treaty/XVIII-16.en.xml\n", extra.URL))
	cfg := writeConfig(t, dir, srcs, "")
	hash, err := dashboard.HashPassword(dashPassword)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "dashboard:\n  users:\n    - name: %s\n      password_hash: %q\n", dashUser, hash)
	f.Close()
	var out strings.Builder
	if db == "" {
		db = filepath.Join(dir, "treatywatch.db")
	}
	var errOut strings.Builder
	code := run(context.Background(), []string{"once", "--config", cfg, "--db", db, "--deliver-existing", "--log-level", "error"}, nil, &out, &errOut)
	if code != 0 && !strings.Contains(out.String(), "failed") {
		t.Fatalf("once: %d\n%s%s", code, out.String(), errOut.String())
	}
	return dashFixture{dir: dir, cfg: cfg, db: db, eval: recs}
}
