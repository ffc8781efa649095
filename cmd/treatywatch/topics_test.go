package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/digest"
)

// TestDigestAndDashboardTakeThePackTopics: with a rule pack of one's own
// in the config, one that renames human-rights and adds data-retention,
// the digest the command builds and the dashboard it serves both show
// the pack's topics; without one, the embedded pack's.
func TestDigestAndDashboardTakeThePackTopics(t *testing.T) {
	dir := t.TempDir()
	src := string(rules.DefaultYAML())
	old := "  - {id: human-rights, label: Human rights}\n"
	if !strings.Contains(src, old) {
		t.Fatalf("the embedded pack has no %q", old)
	}
	src = strings.Replace(src, old, "  - {id: human-rights, label: Rights and freedoms}\n  - {id: data-retention, label: Data retention}\n", 1)
	pack := filepath.Join(dir, "own.yaml")
	if err := os.WriteFile(pack, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	rec := sinks.Record{EventID: "e1", Item: fetch.Item{SourceID: "s", Key: "k1", Title: "Retention periods", URL: "https://example.org/k1", Published: at},
		Result: classify.Result{Relevant: true, Stance: classify.StanceCritical, Topics: []rules.Topic{"data-retention", "human-rights"}, Evidence: []classify.Match{}}}
	if _, err := st.Commit(ctx, store.Commit{SourceID: "s", At: at, Items: []store.Labeled{{Item: rec.Item, Result: rec.Result}}}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name, rules string
		text        []string
		row         string
	}{
		{"own pack", pack, []string{"== RIGHTS AND FREEDOMS (1", "== DATA RETENTION (1"}, ">Data retention</a>"},
		{"embedded pack", "", []string{"== HUMAN RIGHTS (1", "== DATA-RETENTION (1"}, ">Human rights</a>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{Classify: config.Classify{Rules: tc.rules}, Sinks: []config.Sink{{Name: "daily", Type: config.SinkDigest,
				Schedule: "@daily", Transport: &config.Transport{Kind: config.TransportWebhook, URL: "http://127.0.0.1:1/digest"}}}}
			built, err := buildSinks(cfg, st, log)
			if err != nil {
				t.Fatal(err)
			}
			d, ok := built[0].(*digest.Sink)
			if !ok {
				t.Fatalf("sink %T, want a digest", built[0])
			}
			m, err := d.Render(sinks.Window{Start: at.Add(-time.Hour), End: at.Add(time.Hour)}, []sinks.Record{rec}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.text {
				if !strings.Contains(m.Text, w) {
					t.Errorf("digest text lacks %q:\n%s", w, m.Text)
				}
			}
			mux := http.NewServeMux()
			if err := mountDashboard(mux, cfg, st, "127.0.0.1:0", false, log); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(mux)
			defer srv.Close()
			var page dashboard.ItemPage
			code := http.StatusOK
			if tc.rules == "" {
				code = http.StatusBadRequest // the embedded pack has no data-retention
			}
			resp, err := http.Get(srv.URL + "/api/v1/items?topic=data-retention")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != code {
				t.Errorf("items on data-retention: %s, want %d", resp.Status, code)
			}
			if code == http.StatusOK {
				getJSON(t, srv.URL, "/api/v1/items?topic=data-retention", &page)
				if page.Total != 1 {
					t.Errorf("items on data-retention: %d, want 1", page.Total)
				}
			}
			resp, err = http.Get(srv.URL + "/?from=2026-02-01&to=2026-02-01")
			if err != nil {
				t.Fatal(err)
			}
			body := new(strings.Builder)
			_, _ = io.Copy(body, resp.Body)
			resp.Body.Close()
			if !strings.Contains(body.String(), tc.row) {
				t.Errorf("overview lacks %q", tc.row)
			}
		})
	}
}
