package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
)

// benchItems is how many items the benchmark store holds.
const benchItems = 100_000

var (
	benchOnce  sync.Once
	benchStore *store.Store
	benchErr   error
	benchItem  int64
)

// benchFill writes benchItems items: the labelled records of
// shared/eval/dev.jsonl, each classified once, repeated over two years
// (one item in four is relevant, as the monitor sees it), with
// deliveries queued for two sinks. The store is kept for the whole run.
func benchFill(b *testing.B) *store.Store {
	b.Helper()
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "treatywatch-dashboard-bench-")
		if err != nil {
			benchErr = err
			return
		}
		ctx := context.Background()
		st, err := store.Open(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			benchErr = err
			return
		}
		benchStore = st
		f, err := os.Open(filepath.Join(corpustest.Shared(b, "eval"), "dev.jsonl"))
		if err != nil {
			benchErr = err
			return
		}
		defer f.Close()
		eng, err := classify.Default()
		if err != nil {
			benchErr = err
			return
		}
		type rec struct{ ID, URL, Source, Lang, Title, Text string }
		var base []store.Labeled
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var r rec
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				benchErr = err
				return
			}
			it := fetch.Item{Key: r.ID, URL: r.URL, SourceName: r.Source, Title: r.Title, Content: r.Text, Lang: r.Lang}
			base = append(base, store.Labeled{Item: it, Result: eng.Classify(it)})
		}
		start := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
		const batch = 2000
		for n := 0; n < benchItems; n += batch {
			src := fmt.Sprintf("src-%02d", (n/batch)%40)
			var items []store.Labeled
			for i := n; i < n+batch; i++ {
				l := base[i%len(base)]
				l.Item.SourceID = src
				l.Item.Key = fmt.Sprintf("%s-%d", l.Item.Key, i)
				l.Item.Published = start.Add(time.Duration(i) * (730 * 24 * time.Hour / benchItems))
				if i%4 != 0 { // three in four are not about the treaty
					l.Result = classify.Result{Topics: []rules.Topic{}, Rules: l.Result.Rules}
				}
				items = append(items, l)
			}
			at := start.Add(time.Duration(n) * (730 * 24 * time.Hour / benchItems))
			if _, err := st.Commit(ctx, store.Commit{SourceID: src, At: at, Items: items, Deliver: true, Sinks: []string{"jsonl", "hook"}}); err != nil {
				benchErr = err
				return
			}
		}
		var p dashboard.ItemPage
		if p, benchErr = st.SearchItems(ctx, dashboard.ItemQuery{Limit: 1}); benchErr == nil && len(p.Items) > 0 {
			benchItem = p.Items[0].ID
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

// BenchmarkDashboardPages renders each page (and its JSON) over a store
// of 100,000 items: the server time of one request.
func BenchmarkDashboardPages(b *testing.B) {
	st := benchFill(b)
	s, err := dashboard.New(dashboard.Options{Reader: st, OpenRead: true})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"overview-2y-topic", "/?from=2024-12-01&to=2026-11-30&topic=human-rights"},
		{"actors", "/actors"},
		{"actors-2y", "/actors?from=2024-12-01&to=2026-11-30"},
		{"treaty", "/treaty"},
		{"items", "/items"},
		{"items-filtered", "/items?stance=critical&topic=privacy-surveillance&page=3"},
		{"items-search", "/items?q=surveillance+rights"},
		{"item", fmt.Sprintf("/items/%d", benchItem)},
		{"sources", "/sources"},
		{"api-timeline-2y", "/api/v1/aggregates/timeline?from=2024-12-01&to=2026-11-30&bucket=day"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkReadAllItems is the baseline: reading every stored item once,
// as a dashboard without a read model would.
func BenchmarkReadAllItems(b *testing.B) {
	st := benchFill(b)
	for b.Loop() {
		n := 0
		if err := st.Items(context.Background(), store.ItemFilter{}, func(store.Labeled) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchItems {
			b.Fatalf("%d items", n)
		}
	}
}
