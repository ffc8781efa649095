package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/sinks"
)

// labelledFixture is testdata/e2e/labelled_feeds.json: feeds made of
// labelled items, with what a correct run must deliver written by hand.
type labelledFixture struct {
	Feeds []labelledFeed `json:"feeds"`
}

type labelledFeed struct {
	ID     string         `json:"id"`
	Format string         `json:"format"` // rss, atom, json
	Items  []labelledItem `json:"items"`
}

type labelledItem struct {
	Eval string `json:"eval"`
	GUID string `json:"guid"`
	Link string `json:"link"`
	Want struct {
		Relevant bool     `json:"relevant"`
		URL      string   `json:"url"`
		Stance   string   `json:"stance"`
		Topics   []string `json:"topics"`
	} `json:"want"`
}

// evalItem is one line of shared/eval/dev.jsonl, as far as a feed needs.
type evalItem struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

func loadLabelledFixture(t *testing.T) (labelledFixture, map[string]evalItem) {
	t.Helper()
	var fx labelledFixture
	b, err := os.ReadFile(filepath.Join("testdata", "e2e", "labelled_feeds.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	f, err := os.Open(filepath.Join(corpustest.Shared(t, "eval"), "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evals := map[string]evalItem{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e evalItem
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("dev.jsonl: %v", err)
		}
		evals[e.ID] = e
	}
	for _, fd := range fx.Feeds {
		for _, it := range fd.Items {
			if _, ok := evals[it.Eval]; !ok {
				t.Fatalf("fixture names %s, not in dev.jsonl", it.Eval)
			}
		}
	}
	return fx, evals
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// body is the item's text without its first line (the title).
func (e evalItem) body() string {
	if _, rest, ok := strings.Cut(e.Text, "\n"); ok {
		return strings.TrimSpace(rest)
	}
	return e.Text
}

// TestLabelledFeedsDeliverWhatTheLabelsSay serves feeds (RSS, Atom, JSON
// Feed) made of labelled items and runs once: the table counts every item
// of every feed, the JSONL file and the webhook get exactly the items the
// fixture says are relevant, each once, at the canonical link written in
// the fixture, with the hand-written stance and at least the hand-written
// topics. Nothing here asks our parser or classifier what to expect.
func TestLabelledFeedsDeliverWhatTheLabelsSay(t *testing.T) {
	fx, evals := loadLabelledFixture(t)
	pub := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	feeds := map[string][]byte{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, fd := range fx.Feeds {
			if r.URL.Path != "/feeds/"+fd.ID {
				continue
			}
			ctype := map[string]string{"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}[fd.Format]
			w.Header().Set("Content-Type", ctype+"; charset=utf-8")
			http.ServeContent(w, r, fd.ID, pub, bytes.NewReader(feeds[fd.ID]))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)

	for _, fd := range fx.Feeds {
		var b bytes.Buffer
		switch fd.Format {
		case "rss":
			fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>%s/</link><description>test</description>`, fd.ID, srv.URL)
			for i, it := range fd.Items {
				e := evals[it.Eval]
				fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link>", xmlText(e.Title), xmlText(it.Link))
				if it.GUID != "" {
					fmt.Fprintf(&b, `<guid isPermaLink="false">%s</guid>`, xmlText(it.GUID))
				}
				fmt.Fprintf(&b, "<pubDate>%s</pubDate><description>%s</description></item>", pub.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), xmlText(e.body()))
			}
			b.WriteString("</channel></rss>")
		case "atom":
			fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>%s</title><id>urn:test:%s</id><updated>%s</updated>`, fd.ID, fd.ID, pub.Format(time.RFC3339))
			for i, it := range fd.Items {
				e := evals[it.Eval]
				fmt.Fprintf(&b, `<entry><title>%s</title><link rel="alternate" href="%s"/><id>%s</id><updated>%s</updated><content type="text">%s</content></entry>`,
					xmlText(e.Title), xmlText(it.Link), xmlText(it.GUID), pub.Add(-time.Duration(i)*time.Hour).Format(time.RFC3339), xmlText(e.body()))
			}
			b.WriteString("</feed>")
		case "json":
			type jsonItem struct {
				ID        string `json:"id"`
				URL       string `json:"url"`
				Title     string `json:"title"`
				Content   string `json:"content_text"`
				Published string `json:"date_published"`
			}
			doc := struct {
				Version string     `json:"version"`
				Title   string     `json:"title"`
				Items   []jsonItem `json:"items"`
			}{Version: "https://jsonfeed.org/version/1.1", Title: fd.ID}
			for i, it := range fd.Items {
				e := evals[it.Eval]
				id := it.GUID
				if id == "" {
					id = it.Link
				}
				doc.Items = append(doc.Items, jsonItem{ID: id, URL: it.Link, Title: e.Title, Content: e.body(), Published: pub.Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)})
			}
			if err := json.NewEncoder(&b).Encode(doc); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("feed %s: unknown format %q", fd.ID, fd.Format)
		}
		feeds[fd.ID] = b.Bytes()
	}

	rc, hook := newReceiver(t)
	dir := t.TempDir()
	var srcs []string
	for _, fd := range fx.Feeds {
		srcs = append(srcs, sourceYAML(fd.ID, srv.URL+"/feeds/"+fd.ID))
	}
	cfg := writeConfig(t, dir, srcs, hook.URL)

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "warn"}, nil, &out, &errOut)
	t.Logf("once: exit %d\n%s%s", code, out.String(), errOut.String())
	if code != 0 {
		t.Fatalf("once exited %d", code)
	}

	want := map[string][]string{} // source -> sorted canonical URLs
	wantByURL := map[string]map[string]int{}
	for _, fd := range fx.Feeds {
		relevant := 0
		wantByURL[fd.ID] = map[string]int{}
		for i, it := range fd.Items {
			if it.Want.Relevant {
				relevant++
				u := strings.ReplaceAll(it.Want.URL, "{server}", srv.URL)
				want[fd.ID] = append(want[fd.ID], u)
				wantByURL[fd.ID][u] = i
			}
		}
		slices.Sort(want[fd.ID])
		// SOURCE OUTCOME ITEMS NEW RELEVANT QUEUED
		cols := strings.Fields(lineFor(out.String(), fd.ID))
		if len(cols) < 6 {
			t.Errorf("%s: no summary line", fd.ID)
			continue
		}
		if n, _ := strconv.Atoi(cols[2]); n != len(fd.Items) {
			t.Errorf("%s: %d items read, the feed has %d", fd.ID, n, len(fd.Items))
		}
		if n, _ := strconv.Atoi(cols[4]); n != relevant {
			t.Errorf("%s: %d items relevant, want %d", fd.ID, n, relevant)
		}
	}

	check := func(sink string, envs []sinks.Envelope) {
		t.Helper()
		got := map[string][]string{}
		ids := map[string]int{}
		for _, e := range envs {
			ids[e.EventID]++
			got[e.Source.ID] = append(got[e.Source.ID], e.Item.URL)
			fd := slices.IndexFunc(fx.Feeds, func(f labelledFeed) bool { return f.ID == e.Source.ID })
			i, ok := wantByURL[e.Source.ID][e.Item.URL]
			if fd < 0 || !ok {
				t.Errorf("%s: unexpected delivery %s %s (%q)", sink, e.Source.ID, e.Item.URL, e.Item.Title)
				continue
			}
			it := fx.Feeds[fd].Items[i]
			if e.Item.Title != evals[it.Eval].Title {
				t.Errorf("%s: %s delivered with title %q, want %q", sink, it.Eval, e.Item.Title, evals[it.Eval].Title)
			}
			if it.Want.Stance != "" && e.Labels.Stance != it.Want.Stance {
				t.Errorf("%s: %s stance %q, want %q", sink, it.Eval, e.Labels.Stance, it.Want.Stance)
			}
			for _, tp := range it.Want.Topics {
				if !slices.Contains(e.Labels.Topics, rules.Topic(tp)) {
					t.Errorf("%s: %s topics %v lack %q", sink, it.Eval, e.Labels.Topics, tp)
				}
			}
		}
		for id, n := range ids {
			if n > 1 {
				t.Errorf("%s: event %s delivered %d times", sink, id, n)
			}
		}
		for _, fd := range fx.Feeds {
			g := got[fd.ID]
			slices.Sort(g)
			if !slices.Equal(g, want[fd.ID]) {
				t.Errorf("%s: %s delivered\n  %v\nwant\n  %v", sink, fd.ID, g, want[fd.ID])
			}
		}
	}
	jsonl := readJSONL(t, filepath.Join(dir, "items.jsonl"))
	check("jsonl", jsonl)
	rc.mu.Lock()
	var hooked []sinks.Envelope
	for _, e := range rc.byID {
		hooked = append(hooked, e)
	}
	rc.mu.Unlock()
	check("webhook", hooked)
	total, dups := rc.accepted()
	calls, bad, _ := rc.counts()
	wantN := 0
	for _, u := range want {
		wantN += len(u)
	}
	t.Logf("webhook: %d calls, %d accepted, %d duplicates, %d bad signatures; want %d records", calls, total, dups, bad, wantN)
	if total != wantN || dups != 0 || bad != 0 || calls != wantN {
		t.Errorf("webhook: %d calls, %d accepted, %d duplicates, %d bad signatures; want %d calls and records, no duplicate", calls, total, dups, bad, wantN)
	}

	// A second run finds nothing new and delivers nothing.
	out.Reset()
	if code := run(context.Background(), []string{"once", "--config", cfg, "--log-level", "warn"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("second once exited %d\n%s", code, out.String())
	}
	if calls2, _, _ := rc.counts(); calls2 != calls {
		t.Errorf("second run made %d webhook calls", calls2-calls)
	}
	if n := len(readJSONL(t, filepath.Join(dir, "items.jsonl"))); n != len(jsonl) {
		t.Errorf("second run appended %d JSONL records", n-len(jsonl))
	}
}
