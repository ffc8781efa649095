package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/pgtest"
	"github.com/treatywatch/treatywatch/internal/store"
)

// startDashboard serves the dashboard over the fixture's store the way
// `serve --listen 127.0.0.1:0` does.
func startDashboard(t *testing.T, fx dashFixture) (*httptest.Server, *store.Store) {
	t.Helper()
	cfg, err := config.Load(fx.cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), fx.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mux := http.NewServeMux()
	if err := mountDashboard(mux, cfg, st, "127.0.0.1:0", false, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, st
}

func getJSON(t *testing.T, base, path string, v any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// stored is one stored record as the test reads it back, independently
// of the dashboard's read model.
type stored struct {
	store.Labeled
	day string
}

func storedRecords(t *testing.T, st *store.Store) []stored {
	t.Helper()
	var out []stored
	err := st.Items(context.Background(), store.ItemFilter{}, func(l store.Labeled) error {
		day := ""
		if !l.Item.Published.IsZero() {
			day = l.Item.Published.UTC().Format("2006-01-02")
		}
		out = append(out, stored{l, day})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type cellKey struct{ row, col string }

func cellMap(cells []dashboard.Cell) map[cellKey]int {
	m := map[cellKey]int{}
	for _, c := range cells {
		m[cellKey{c.Row, c.Col}] += c.Count
	}
	return m
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		m[w] = true
	}
	return m
}

// TestDashboardAPIMatchesStore checks the API's aggregates and item
// counts against counts made here from the stored records, over SQLite
// and over PostgreSQL.
func TestDashboardAPIMatchesStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDashboardAPI(t, "") })
	t.Run("postgres", func(t *testing.T) {
		pgtest.ServerURL(t)
		testDashboardAPI(t, pgtest.NewDatabase(t))
	})
}

func testDashboardAPI(t *testing.T, db string) {
	fx := fillDashboardStore(t, db)
	srv, st := startDashboard(t, fx)
	recs := storedRecords(t, st)

	var relevant []stored
	minDay, maxDay := "9999", ""
	for _, r := range recs {
		if !r.Result.Relevant {
			continue
		}
		if r.day == "" {
			t.Fatalf("relevant item %s/%s has no date", r.Item.SourceID, r.Item.Key)
		}
		relevant = append(relevant, r)
		minDay, maxDay = min(minDay, r.day), max(maxDay, r.day)
	}
	if len(relevant) < 50 {
		t.Fatalf("only %d relevant items stored", len(relevant))
	}
	rng := "from=" + minDay + "&to=" + maxDay

	// Day × stance.
	wantDay := map[cellKey]int{}
	wantTopic := map[cellKey]int{}
	wantActor := map[cellKey]int{}
	wantActorTopic := map[cellKey]int{}
	for _, r := range relevant {
		st := string(r.Result.Stance)
		if st == "" {
			st = "unlabelled"
		}
		wantDay[cellKey{r.day, st}]++
		for _, tp := range r.Result.Topics {
			wantTopic[cellKey{string(tp), string(r.Result.Stance)}]++
			if r.Result.Actor != "" {
				wantActorTopic[cellKey{r.Result.Actor, string(tp)}]++
			}
		}
		if r.Result.Actor != "" {
			wantActor[cellKey{r.Result.Actor, string(r.Result.Stance)}]++
		}
	}
	var tl dashboard.Timeline
	getJSON(t, srv.URL, "/api/v1/aggregates/timeline?bucket=day&"+rng, &tl)
	gotDay := map[cellKey]int{}
	for _, p := range tl.Points {
		gotDay[cellKey{p.Bucket, p.Stance}] += p.Count
	}
	if !maps.Equal(gotDay, wantDay) {
		t.Errorf("timeline points differ from the stored records:\n got %v\nwant %v", gotDay, wantDay)
	}
	if tl.Total != len(relevant) {
		t.Errorf("timeline total = %d, want %d", tl.Total, len(relevant))
	}
	var tt dashboard.TopicTable
	getJSON(t, srv.URL, "/api/v1/aggregates/topics?"+rng, &tt)
	if got := cellMap(tt.Current); !maps.Equal(got, wantTopic) {
		t.Errorf("topic × stance:\n got %v\nwant %v", got, wantTopic)
	}
	var at dashboard.ActorTables
	getJSON(t, srv.URL, "/api/v1/actors?"+rng, &at)
	if got := cellMap(at.Raw); !maps.Equal(got, wantActor) {
		t.Errorf("actor × stance:\n got %v\nwant %v", got, wantActor)
	}
	if got := cellMap(at.RawTopics); !maps.Equal(got, wantActorTopic) {
		t.Errorf("actor × topic:\n got %v\nwant %v", got, wantActorTopic)
	}
	if len(wantActor) == 0 {
		t.Error("no relevant item with an actor: the actor tables are untested")
	}

	// Item counts under filters.
	type filter struct {
		query string
		keep  func(stored) bool
	}
	rel := func(r stored) bool { return r.Result.Relevant }
	filters := []filter{
		{"", rel},
		{"relevance=all", func(stored) bool { return true }},
		{"relevance=irrelevant", func(r stored) bool { return !r.Result.Relevant }},
		{"topic=human-rights", func(r stored) bool { return rel(r) && slices.Contains(r.Result.Topics, "human-rights") }},
		{"stance=critical", func(r stored) bool { return rel(r) && r.Result.Stance == "critical" }},
		{"lang=fr", func(r stored) bool { return rel(r) && r.Item.Lang == "fr" }},
		{"stance=supportive&topic=ratification", func(r stored) bool {
			return rel(r) && r.Result.Stance == "supportive" && slices.Contains(r.Result.Topics, "ratification")
		}},
		{"q=surveillance", func(r stored) bool {
			return rel(r) && words(r.Item.Title + " " + r.Item.Summary + " " + r.Item.Content)["surveillance"]
		}},
		{"q=surveillance+rights&relevance=all", func(r stored) bool {
			w := words(r.Item.Title + " " + r.Item.Summary + " " + r.Item.Content)
			return w["surveillance"] && w["rights"]
		}},
		{"from=2025-01-01&to=2025-06-30", func(r stored) bool { return rel(r) && r.day >= "2025-01-01" && r.day <= "2025-06-30" }},
	}
	if srcID := relevant[len(relevant)/2].Item.SourceID; srcID != "" {
		filters = append(filters, filter{"source=" + srcID, func(r stored) bool { return rel(r) && r.Item.SourceID == srcID }})
	}
	if a := at.Stance.Rows; len(a) > 0 {
		name := a[0].Name
		filters = append(filters, filter{"actor=" + url.QueryEscape(name), func(r stored) bool { return rel(r) && r.Result.Actor == name }})
	}
	for _, f := range filters {
		want := 0
		for _, r := range recs {
			if f.keep(r) {
				want++
			}
		}
		var page dashboard.ItemPage
		getJSON(t, srv.URL, "/api/v1/items?per_page=5&"+f.query, &page)
		if page.Total != want {
			// Say which items differ.
			var all dashboard.ItemPage
			getJSON(t, srv.URL, "/api/v1/items?per_page=200&"+f.query, &all)
			got := map[string]bool{}
			for _, it := range all.Items {
				got[it.SourceID+"/"+it.Key] = true
			}
			var diff []string
			for _, r := range recs {
				k := r.Item.SourceID + "/" + r.Item.Key
				if f.keep(r) != got[k] {
					diff = append(diff, fmt.Sprintf("%s (want %v): %.300q", k, f.keep(r), r.Item.Title+" | "+r.Item.Summary+" | "+r.Item.Content))
				}
			}
			t.Errorf("items?%s: total %d, want %d; differ: %s", f.query, page.Total, want, strings.Join(diff, "\n"))
		}
		if len(page.Items) != min(5, want) {
			t.Errorf("items?%s: %d items on the page", f.query, len(page.Items))
		}
	}

	// The treaty count is the depositary's.
	var tr dashboard.Treaty
	getJSON(t, srv.URL, "/api/v1/treaty", &tr)
	sig, parties := 0, 0
	for _, r := range treatyRows {
		if r[1] != "" {
			sig++
		}
		if r[2] != "" {
			parties++
		}
	}
	if tr.Signatories != sig || tr.Parties != parties || len(tr.States) != len(treatyRows) {
		t.Errorf("treaty: %d signatories, %d parties, %d states; want %d, %d, %d", tr.Signatories, tr.Parties, len(tr.States), sig, parties, len(treatyRows))
	}

	// Sources: every configured source, the broken feeds failing.
	var hs []dashboard.SourceHealth
	getJSON(t, srv.URL, "/api/v1/sources", &hs)
	failing := 0
	items := 0
	for _, h := range hs {
		if h.State == "failing" {
			failing++
		}
		items += h.Items
		// The next run comes from the schedule (every 30 minutes by
		// default): after the last fetch, at most 30 minutes later
		// unless the source asked to wait longer.
		state, err := st.Source(context.Background(), h.ID)
		if err != nil {
			t.Fatal(err)
		}
		latest := h.LastFetch.Add(30 * time.Minute)
		if state.NextRun.After(latest) {
			latest = state.NextRun
		}
		if h.Unconfigured || !h.NextRun.After(h.LastFetch) || h.NextRun.After(latest) {
			t.Errorf("source %s: next run %v after a fetch at %v, asked to wait until %v (unconfigured %v)", h.ID, h.NextRun, h.LastFetch, state.NextRun, h.Unconfigured)
		}
	}
	if items != len(recs) {
		t.Errorf("sources count %d items, the store has %d", items, len(recs))
	}
	if failing == 0 {
		t.Error("no failing source, though the corpus has feeds that do not parse")
	}

	// Every page answers.
	var ip dashboard.ItemPage
	getJSON(t, srv.URL, "/api/v1/items?per_page=1", &ip)
	for _, p := range []string{"/", "/?topic=ratification&bucket=day", "/actors", "/treaty", "/items", "/items?q=surveillance", "/sources",
		fmt.Sprintf("/items/%d", ip.Items[0].ID)} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "</html>") {
			t.Errorf("GET %s: %s\n%.2000s", p, resp.Status, body)
		}
	}
}
