package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// settingsFeed is an RSS feed of n thin, relevant items whose links point
// at articles on base; pad makes it at least that many bytes.
func settingsFeed(base, name string, n, pad int, title string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>` + name + `</title><link>` + base + `/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s %d: UN Convention against Cybercrime ratification</title><link>%s/article/%s/%d</link><guid>%s-%d</guid><description>States ratify the UN cybercrime convention.</description></item>`,
			title, i, base, name, i, name, i)
	}
	if pad > b.Len() {
		b.WriteString("<!--" + strings.Repeat("x", pad-b.Len()) + "-->")
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

// TestEverySourceSettingApplies sets each per-source setting to a value
// unlike the defaults and observes its effect on the requests the
// sources make and on what is delivered.
func TestEverySourceSettingApplies(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	probe := ""
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		if r.URL.Path == "/hdr.rss" {
			probe = r.Header.Get("X-Probe")
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		switch {
		case r.URL.Path == "/small.rss":
			w.Write(settingsFeed(base, "small", 1, 64<<10, "Small"))
		case r.URL.Path == "/big.rss":
			w.Write(settingsFeed(base, "big", 1, 2<<20, "Big"))
		case r.URL.Path == "/slow.rss":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case r.URL.Path == "/cs.rss":
			// Windows-1252 bytes under a header that says UTF-8.
			w.Write([]byte("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>cs</title><item><title>Caf\xe9 talks on the UN Convention against Cybercrime ratification</title><link>" +
				base + "/article/cs/0</link><guid>cs-0</guid><description>States ratify the UN cybercrime convention.</description></item></channel></rss>"))
		case strings.HasPrefix(r.URL.Path, "/article/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><body><article><h1>Article</h1><p>%s</p></article></body></html>",
				strings.Repeat("The convention on cybercrime awaits ratification by states. ", 40))
		default:
			name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".rss")
			w.Write(settingsFeed(base, name, 2, 0, "Item"))
		}
	}))
	defer srv.Close()
	base = srv.URL
	// A forward proxy: it serves the feed itself, so the source only
	// works when its request goes through the proxy.
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.String())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(settingsFeed(base, "viaproxy", 1, 0, "Proxied"))
	}))
	defer proxy.Close()

	dir := t.TempDir()
	jsonl := filepath.Join(dir, "items.jsonl")
	cfg := fmt.Sprintf(`data_dir: %[1]s
http:
  per_host: 8
  host_interval: 0s
  allow_private: [loopback]
defaults:
  timeout: 10s
  max_body: 1MiB
  min_words: 0
  deliver_existing: false
sources:
  - id: small
    url: %[2]s/small.rss
    max_body: 16KiB
  - id: big
    url: %[2]s/big.rss
    max_body: 8MiB
    deliver_existing: true
  - id: hdr
    url: %[2]s/hdr.rss
    headers:
      X-Probe: from-the-config
  - id: slow
    url: %[2]s/slow.rss
    timeout: 300ms
  - id: thin
    url: %[2]s/thin.rss
    min_words: 500
    deliver_existing: true
  - id: plain
    url: %[2]s/plain.rss
    deliver_existing: true
  - id: existing
    url: %[2]s/existing.rss
    deliver_existing: true
    name: Existing Desk
    actor: Desk Org
    lang: fr
  - id: off
    url: %[2]s/off.rss
    disabled: true
  - id: viaproxy
    url: http://127.0.0.1:1/viaproxy.rss
    proxy: %[3]s
    deliver_existing: true
  - id: cs
    url: %[2]s/cs.rss
    charset: windows-1252
    deliver_existing: true
sinks:
  - name: jsonl
    type: file
    path: %[4]s
`, dir, srv.URL, proxy.URL, jsonl)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"once", "--config", cfgPath, "--log-level", "error"}, nil, &out, &errOut)
	summary := out.String()

	bySource := map[string][]string{}
	actors, langs, names := map[string]string{}, map[string]string{}, map[string]string{}
	for _, e := range readJSONL(t, jsonl) {
		bySource[e.Source.ID] = append(bySource[e.Source.ID], e.Item.Title)
		actors[e.Source.ID], langs[e.Source.ID], names[e.Source.ID] = e.Source.Actor, e.Item.Lang, e.Source.Name
	}
	mu.Lock()
	defer mu.Unlock()
	tests := []struct {
		setting string
		ok      bool
		got     string
	}{
		{"max_body 16KiB refuses a 64 KiB feed", strings.Contains(lineFor(summary, "small"), "16 KiB cap"), lineFor(summary, "small")},
		{"max_body 8MiB admits a 2 MiB feed over the 1 MiB default", len(bySource["big"]) == 1, lineFor(summary, "big")},
		{"headers are sent", probe == "from-the-config", probe},
		{"timeout 300ms cuts a slow server", strings.Contains(lineFor(summary, "slow"), "timeout"), lineFor(summary, "slow")},
		{"min_words 500 fetches the article", hits["/article/thin/0"] == 1 && hits["/article/thin/1"] == 1, fmt.Sprint(hits)},
		{"min_words 0 (default) fetches no article", hits["/article/plain/0"] == 0 && len(bySource["plain"]) == 2, fmt.Sprint(hits)},
		{"deliver_existing delivers the first fetch", len(bySource["existing"]) == 2, fmt.Sprint(bySource)},
		{"deliver_existing false (default) marks seen only", len(bySource["hdr"]) == 0, fmt.Sprint(bySource)},
		{"name, actor and lang reach the record", names["existing"] == "Existing Desk" && actors["existing"] == "Desk Org" && langs["existing"] == "fr",
			fmt.Sprint(names["existing"], "|", actors["existing"], "|", langs["existing"])},
		{"disabled is not fetched", hits["/off.rss"] == 0 && !strings.Contains(summary, "off "), summary},
		{"proxy carries the request", len(proxied) == 1 && len(bySource["viaproxy"]) == 1, fmt.Sprint(proxied)},
		{"charset overrides the declared one", len(bySource["cs"]) == 1 && strings.HasPrefix(bySource["cs"][0], "Café"), fmt.Sprint(bySource["cs"])},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: not observed (%s)", tc.setting, tc.got)
		}
	}
	if t.Failed() {
		t.Logf("summary:\n%s\nstderr:\n%s", summary, errOut.String())
	}
}
