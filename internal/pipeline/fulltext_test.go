package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/extract"
	"github.com/treatywatch/treatywatch/internal/store"
)

// recordingFullText returns a long text for every article and records
// which URLs were read.
type recordingFullText struct {
	mu   sync.Mutex
	urls []string
}

func (f *recordingFullText) Extract(_ context.Context, _ fetch.Source, u string) (extract.Article, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls = append(f.urls, u)
	return extract.Article{Text: "the text of the article", Provenance: fetch.Provenance{FinalURL: u}}, nil
}

// Thin items are read in full from their own link only: an item that has
// none points at the listing page it was found on, whose text is not its.
func TestFullTextOnlyFromAnItemsOwnLink(t *testing.T) {
	ctx := context.Background()
	const listing = "https://mofa.example.org/press/"
	tests := []struct {
		name string
		url  string
		read bool
	}{
		{"own link", "https://mofa.example.org/press/2024/one.html", true},
		{"the source page", listing, false},
		{"the page after a redirect", "https://www.mofa.example.org/press/", false},
		{"no URL", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := fetch.Item{Key: "k", Title: "treaty statement", URL: tc.url,
				Provenance: fetch.Provenance{FinalURL: "https://www.mofa.example.org/press/"}}
			f := &scriptFetcher{steps: []any{fetch.Batch{Items: []fetch.Item{it}}}}
			st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			ft := &recordingFullText{}
			clk := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
			r := New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindPage: f},
				Classifier: wordClassifier{}, Extractor: ft, MinWords: 80}})
			src := Source{Source: fetch.Source{ID: "mofa", Kind: fetch.KindPage, URL: listing}, Schedule: "@every 1h"}
			if rep := r.RunSource(ctx, src, RunOptions{DeliverExisting: true}); rep.Err != nil {
				t.Fatalf("run: %v", rep.Err)
			}
			read := slices.Contains(ft.urls, tc.url)
			if read != tc.read || len(ft.urls) > 1 {
				t.Errorf("full text read from %q, want read of %q = %v", ft.urls, tc.url, tc.read)
			}
		})
	}
}
