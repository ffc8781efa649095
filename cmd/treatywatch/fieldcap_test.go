package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap runs f while sampling the bytes of live heap objects and
// returns the highest sample. GC runs at 10% growth meanwhile, so the
// samples follow what is live rather than garbage waiting for a cycle.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// TestHugeTitleIsCappedInBoundedMemory: a feed whose item has a 9 MB
// title (under the default 10 MiB body cap) is fetched, classified,
// stored and delivered with its title cut to the cap, noted on the
// record, and costs less than 50 MB of peak heap more than the same run
// over a feed with a normal title.
func TestHugeTitleIsCappedInBoundedMemory(t *testing.T) {
	feedWith := func(title string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>desk</title><item><title>` + title +
			`</title><link>https://desk.example.org/n/1</link><guid>n-1</guid><description>States ratify the UN Convention against Cybercrime.</description></item></channel></rss>`)
	}
	normal := "UN Convention against Cybercrime: ratification"
	huge := strings.Repeat("UN Convention against Cybercrime ratification ", 9<<20/46)
	runOnce := func(body []byte) (peak uint64, jsonl string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			w.Write(body)
		}))
		defer srv.Close()
		dir := t.TempDir()
		jsonl = filepath.Join(dir, "items.jsonl")
		cfg := filepath.Join(dir, "config.yaml")
		doc := fmt.Sprintf("data_dir: %s\nhttp: {allow_private: [loopback]}\ndefaults: {min_words: 0, deliver_existing: true}\nsources:\n  - {id: desk, url: %s}\nsinks:\n  - {name: jsonl, type: file, path: %s}\n",
			dir, srv.URL, jsonl)
		if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		peak = peakHeap(func() {
			if code := run(context.Background(), []string{"once", "--config", cfg}, nil, &out, &errOut); code != 0 {
				t.Fatalf("once: exit %d\n%s\n%s", code, out.String(), errOut.String())
			}
		})
		return peak, jsonl
	}
	// The first run loads what every run shares (rules, templates).
	runOnce(feedWith(normal))
	base, _ := runOnce(feedWith(normal))
	peak, jsonl := runOnce(feedWith(huge))
	cost := int64(peak) - int64(base)
	t.Logf("peak heap: %d MB with a 9 MB title, %d MB with a normal one: the title costs %d MB", peak>>20, base>>20, cost>>20)
	if cost > 50<<20 {
		t.Errorf("a 9 MB title costs %d MB of peak heap, want under 50 MB", cost>>20)
	}
	es := readJSONL(t, jsonl)
	if len(es) != 1 {
		t.Fatalf("%d records delivered, want 1", len(es))
	}
	title := es[0].Item.Title
	if len(title) > 1<<10 || !strings.HasSuffix(title, "…") || !strings.HasPrefix(title, "UN Convention") {
		t.Errorf("title not cut to the 1 KiB default cap: %d bytes, ends %q", len(title), title[max(0, len(title)-10):])
	}
	if fmt.Sprint(es[0].Item.Truncated) != "[title]" {
		t.Errorf("record does not note the cut: truncated = %v", es[0].Item.Truncated)
	}
}
