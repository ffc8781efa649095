package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
)

// monitorStore holds a month of news and the depositary's record, all
// counted by hand below:
//   - news: one neutral item a day from 1 to 14 March 2026 (topic
//     negotiation-process, no actor), then on 15 March four critical items
//     of EFF on human-rights and two supportive ones of Viet Nam on
//     ratification: 20 relevant items, 15 March a spike over a baseline of
//     one a day;
//   - untc: 45 states sign on 25 October 2025, the European Union approves
//     on 10 January 2026, states 01 to 40 ratify one a day from 1 February
//     2026 (the 40th on 12 March 2026: entry into force 90 days later, 10
//     June 2026; the Union is not counted toward the 40);
//   - gone: a source that failed twice.
func monitorStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, time.UTC) }
	item := func(key string, at time.Time, stance classify.Stance, topic, actor string) store.Labeled {
		return store.Labeled{
			Item: fetch.Item{SourceID: "news", Key: key, Title: "Story " + key, URL: "https://example.org/" + key, Published: at, Lang: "en"},
			Result: classify.Result{Relevant: true, Stance: stance, Topics: []rules.Topic{rules.Topic(topic)}, Actor: actor, Rules: "test-1",
				Evidence: []classify.Match{}},
		}
	}
	var news []store.Labeled
	for d := 1; d <= 14; d++ {
		news = append(news, item(fmt.Sprintf("n%02d", d), day(time.March, d), classify.StanceNeutral, "negotiation-process", ""))
	}
	for i := range 4 {
		news = append(news, item(fmt.Sprintf("eff%d", i), day(time.March, 15), classify.StanceCritical, "human-rights", "EFF"))
	}
	for i := range 2 {
		news = append(news, item(fmt.Sprintf("vn%d", i), day(time.March, 15), classify.StanceSupportive, "ratification", "Viet Nam"))
	}
	event := func(name, action, verb string, at time.Time) store.Labeled {
		return store.Labeled{Item: fetch.Item{SourceID: "untc", Key: "untc:" + strings.ToLower(name) + ":" + action,
			Title: name + " " + verb + " the United Nations Convention against Cybercrime", Published: at,
			URL: "https://treaties.un.org/x"}, Result: classify.Result{Rules: "test-1"}}
	}
	var untc []store.Labeled
	for i := 1; i <= 45; i++ {
		untc = append(untc, event(fmt.Sprintf("State %02d", i), "signature", "signed", time.Date(2025, 10, 25, 0, 0, 0, 0, time.UTC)))
	}
	untc = append(untc, event("European Union", "approval", "approved", day(time.January, 10)))
	for i := 1; i <= 40; i++ {
		untc = append(untc, event(fmt.Sprintf("State %02d", i), "ratification", "ratified", day(time.February, 1).AddDate(0, 0, i-1)))
	}
	seen := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	for _, c := range []store.Commit{{SourceID: "news", At: seen, Items: news}, {SourceID: "untc", At: seen, Items: untc}} {
		if _, err := st.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := st.RecordFailure(ctx, "gone", fetch.ErrHTTP, "404 Not Found", seen, seen.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

var monitorNow = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func monitorServer(t *testing.T, r dashboard.Reader, users ...dashboard.User) *dashboard.Server {
	t.Helper()
	next := time.Date(2026, 4, 1, 13, 0, 0, 0, time.UTC)
	s, err := dashboard.New(dashboard.Options{Reader: r, OpenRead: true, Users: users, Now: func() time.Time { return monitorNow },
		NextRun: func(id string, _, _ time.Time, _ bool, _ time.Time) (time.Time, bool) { return next, id != "untc" }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func getJSON(t *testing.T, s *dashboard.Server, path string, v any) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, rec.Body.String())
	}
}

func TestTimelineAPI(t *testing.T) {
	s := monitorServer(t, monitorStore(t))
	var tl dashboard.Timeline
	getJSON(t, s, "/api/v1/aggregates/timeline?from=2026-03-08&to=2026-03-15&bucket=day", &tl)
	// 7 neutral (8 to 14 March) + 6 on the 15th; the 8 days before hold 7
	// (1 to 7 March).
	if tl.Total != 13 || tl.Prev != 7 || tl.Change == nil || *tl.Change != 0.857 || tl.Mean != 1.63 {
		t.Errorf("total %d, previous %d, change %v, mean %v; want 13, 7, 0.857, 1.63", tl.Total, tl.Prev, tl.Change, tl.Mean)
	}
	if len(tl.Buckets) != 8 || tl.Buckets[7].Start != "2026-03-15" || tl.Buckets[7].Total != 6 || !tl.Buckets[7].Spike ||
		tl.Buckets[7].Counts["critical"] != 4 || tl.Buckets[7].Counts["supportive"] != 2 || tl.Buckets[6].Spike {
		t.Errorf("buckets %+v", tl.Buckets)
	}
	if fmt.Sprint(tl.Spikes) != "[{2026-03-15 6 1}]" {
		t.Errorf("spikes %+v, want 15 March: 6 against a baseline of 1", tl.Spikes)
	}
	if n := len(tl.Points); n != 9 { // 7 neutral days + critical and supportive on the 15th
		t.Errorf("%d points: %+v", n, tl.Points)
	}

	tl = dashboard.Timeline{} // a field the answer leaves out must not keep the last answer's value
	getJSON(t, s, "/api/v1/aggregates/timeline?from=2026-03-01&to=2026-03-31&bucket=month", &tl)
	if len(tl.Buckets) != 1 || tl.Buckets[0].Start != "2026-03-01" || tl.Buckets[0].End != "2026-03-31" || tl.Total != 20 || tl.Change != nil {
		t.Errorf("a month bucket: %+v (previous %d, change %v)", tl.Buckets, tl.Prev, tl.Change)
	}
	getJSON(t, s, "/api/v1/aggregates/timeline?from=2026-03-04&to=2026-03-15&bucket=week", &tl)
	sum := 0
	for _, b := range tl.Buckets {
		sum += b.Total
		if st, _ := time.Parse(time.DateOnly, b.Start); st.Weekday() != time.Monday {
			t.Errorf("week bucket starts on %s, a %s", b.Start, st.Weekday())
		}
	}
	if sum != tl.Total || tl.Total != 17 || tl.Buckets[0].Start > "2026-03-04" {
		t.Errorf("weeks: total %d (buckets sum %d), want 17 (4 to 14 March and the 15th); first %s", tl.Total, sum, tl.Buckets[0].Start)
	}
	getJSON(t, s, "/api/v1/aggregates/timeline?from=2026-03-01&to=2026-03-31&topic=human-rights", &tl)
	if tl.Total != 4 || tl.Topic != "human-rights" {
		t.Errorf("one topic: total %d, topic %q", tl.Total, tl.Topic)
	}
	// No range: the 90 days up to the last relevant item, in weeks.
	getJSON(t, s, "/api/v1/aggregates/timeline", &tl)
	if tl.To != "2026-03-15" || tl.From != "2025-12-16" || tl.Bucket != dashboard.BucketWeek || tl.Total != 20 {
		t.Errorf("default range %s to %s by %s, total %d", tl.From, tl.To, tl.Bucket, tl.Total)
	}
}

func TestAggregateAPIs(t *testing.T) {
	s := monitorServer(t, monitorStore(t))
	var topics dashboard.TopicTable
	getJSON(t, s, "/api/v1/aggregates/topics?from=2026-03-08&to=2026-03-15", &topics)
	rows := map[string]dashboard.TopicRow{}
	for _, r := range topics.Rows {
		rows[string(r.Topic)] = r
	}
	for _, w := range []struct {
		topic              string
		total, prev, delta int
	}{{"negotiation-process", 7, 7, 0}, {"human-rights", 4, 0, 4}, {"ratification", 2, 0, 2}, {"gender", 0, 0, 0}} {
		r := rows[w.topic]
		if r.Total != w.total || r.PrevTotal != w.prev || r.Delta != w.delta {
			t.Errorf("topic %s: %d (before %d, change %d), want %d (%d, %d)", w.topic, r.Total, r.PrevTotal, r.Delta, w.total, w.prev, w.delta)
		}
	}
	if len(topics.Rows) != 13 || topics.Previous.From != "2026-02-28" || topics.Previous.To != "2026-03-07" {
		t.Errorf("%d topic rows, previous period %+v", len(topics.Rows), topics.Previous)
	}

	var actors dashboard.ActorTables
	getJSON(t, s, "/api/v1/actors?from=2026-03-15&to=2026-03-15", &actors)
	if got := fmt.Sprint(actors.Stance.Cols, actors.Stance.Rows); got != "[supportive neutral mixed critical unlabelled] [{EFF [0 0 0 4 0] 4} {Viet Nam [2 0 0 0 0] 2}]" {
		t.Errorf("actor × stance: %s", got)
	}
	if len(actors.Topic.Rows) != 2 || actors.Topic.Rows[0].Name != "EFF" || actors.Topic.Rows[0].Counts[1] != 4 || actors.Topic.Rows[1].Counts[11] != 2 {
		t.Errorf("actor × topic: %+v", actors.Topic)
	}

	var tr dashboard.Treaty
	getJSON(t, s, "/api/v1/treaty", &tr)
	if tr.Signatories != 45 || tr.Parties != 41 || tr.Counted != 40 || tr.Needed != 40 {
		t.Errorf("signatories %d, parties %d, counted %d, needed %d; want 45, 41 (the Union too), 40, 40", tr.Signatories, tr.Parties, tr.Counted, tr.Needed)
	}
	if !tr.Fortieth.Equal(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)) || tr.EntryIntoForce.Format(time.DateOnly) != "2026-06-10" {
		t.Errorf("40th instrument %v, entry into force %v; want 12 March and 10 June 2026", tr.Fortieth, tr.EntryIntoForce)
	}
	if len(tr.States) != 46 || tr.States[0].Participant != "European Union" || tr.States[0].ConsentAction != "approval" || !tr.States[0].Signature.IsZero() {
		t.Errorf("%d states, first %+v", len(tr.States), tr.States[0])
	}
	if len(tr.Steps) != 42 || tr.Steps[0].Signatories != 45 || tr.Steps[0].Parties != 0 || tr.Steps[1].Parties != 1 || tr.Steps[41].Parties != 41 {
		t.Errorf("%d steps: first %+v, second %+v, last %+v", len(tr.Steps), tr.Steps[0], tr.Steps[1], tr.Steps[len(tr.Steps)-1])
	}

	var srcs []dashboard.SourceHealth
	getJSON(t, s, "/api/v1/sources", &srcs)
	var got []string
	for _, h := range srcs {
		got = append(got, fmt.Sprintf("%s %s failures=%d items=%d relevant=%d unconfigured=%v next=%s", h.ID, h.State, h.Failures,
			h.Items, h.Relevant, h.Unconfigured, h.NextRun.Format(time.TimeOnly)))
	}
	want := "[gone failing failures=2 items=0 relevant=0 unconfigured=false next=13:00:00 " +
		"news ok failures=0 items=20 relevant=20 unconfigured=false next=13:00:00 " +
		"untc ok failures=0 items=86 relevant=0 unconfigured=true next=00:00:00]"
	if fmt.Sprint(got) != want {
		t.Errorf("sources\n got %v\nwant %s", got, want)
	}

	var f dashboard.Facets
	getJSON(t, s, "/api/v1/facets", &f)
	if fmt.Sprintf("%v %v %v %s", f.Sources, f.Actors, f.Topics, f.LastDay) != "[news untc] [EFF Viet Nam] [human-rights negotiation-process ratification] 2026-03-15" {
		t.Errorf("facets %+v", f)
	}

	var page struct {
		Page  int `json:"page"`
		Total int `json:"total"`
		Items []dashboard.ItemSummary
	}
	getJSON(t, s, "/api/v1/items?actor=EFF&per_page=3&page=2", &page)
	if page.Total != 4 || page.Page != 2 || len(page.Items) != 1 || page.Items[0].Actor != "EFF" {
		t.Errorf("second page of EFF's items: %+v", page)
	}
	// The chart's "unlabelled" segments link here: relevant items without
	// a stance, of which this store has none.
	getJSON(t, s, "/api/v1/items?stance=unlabelled&relevance=all", &page)
	if page.Total != 0 {
		t.Errorf("unlabelled items: %d, want 0", page.Total)
	}
	getJSON(t, s, "/api/v1/items?stance=critical&from=2026-03-15&to=2026-03-15", &page)
	if page.Total != 4 {
		t.Errorf("critical items of 15 March: %d, want 4", page.Total)
	}
	var d dashboard.ItemDetail
	getJSON(t, s, fmt.Sprintf("/api/v1/items/%d", 1), &d)
	if d.ID != 1 || d.Item.Key != "n01" || d.Stance != "neutral" {
		t.Errorf("item 1: id %d key %q stance %q", d.ID, d.Item.Key, d.Stance)
	}
}

// TestPagesRender checks every page answers with what it is about.
func TestPagesRender(t *testing.T) {
	s := monitorServer(t, monitorStore(t))
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{`<dd id="stat-total">20</dd>`, "Sources needing attention", "gone</a>: failing, 2 failures in a row (404 Not Found)"}},
		{"/?from=2026-03-08&to=2026-03-15&bucket=day", []string{`<dd id="stat-total">13</dd>`, "2026-03-15</a>: 6 items, baseline 1"}},
		{"/?from=2026-03-01&to=2026-03-31&topic=ratification", []string{`<dd id="stat-total">2</dd>`, "on ratification"}},
		{"/actors?from=2026-03-15&to=2026-03-15", []string{"EFF", "Viet Nam"}},
		{"/actors/EFF", []string{"Statements of EFF over time, by stance", "/items/15"}},
		{"/treaty", []string{`<strong id="parties">40</strong>`, "41 in all", `<strong id="signatories">45</strong>`, "enters into force on <strong>2026-06-10</strong>"}},
		{"/items?per_page=5&page=2", []string{"/items?page=3&amp;per_page=5", "/items?per_page=5\""}},
		{"/items?q=story&relevance=all&per_page=200", []string{"Story n01", "Story vn1"}},
		{"/sources", []string{"not in the config", "404 Not Found"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			body := rec.Body.String()
			if rec.Code != 200 {
				t.Fatalf("%d\n%s", rec.Code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page does not contain %q", w)
				}
			}
		})
	}
}

func TestRangeErrors(t *testing.T) {
	s := monitorServer(t, monitorStore(t))
	tests := []struct{ path, want string }{
		{"/api/v1/aggregates/timeline?from=2026-03-10&to=2026-03-01", "is after"},
		{"/api/v1/aggregates/timeline?from=1900-01-01&to=2026-03-01", "at most 50 years"},
		{"/api/v1/aggregates/timeline?topic=weather", `topic="weather"`},
		{"/api/v1/aggregates/topics?to=yesterday", `to="yesterday"`},
		{"/api/v1/actors?bucket=hour", `bucket="hour"`},
		{"/api/v1/items?relevance=maybe", `relevance="maybe"`},
		{"/api/v1/items?stance=angry", `stance="angry"`},
		{"/api/v1/items?from=March", `from="March"`},
		{"/api/v1/items?per_page=500", `per_page="500"`},
		{"/api/v1/items/abc", `item id "abc"`},
		{"/api/v1/items/0", `item id "0"`},
		{"/actors?from=2026-13-01", "from="},
		{"/?topic=weather", "weather"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			msg := html.UnescapeString(rec.Body.String())
			if strings.HasPrefix(tc.path, "/api/") {
				var e struct{ Error string }
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
					t.Fatalf("API error not JSON: %v\n%s", err, rec.Body.String())
				}
				msg = e.Error
			}
			if rec.Code != 400 || !strings.Contains(msg, tc.want) {
				t.Errorf("%d, want 400 saying %q:\n%s", rec.Code, tc.want, msg)
			}
		})
	}
}

// TestFormCorrection posts the item page's form: a good correction
// redirects to the item and becomes its label; bad ones are refused with
// what is wrong.
func TestFormCorrection(t *testing.T) {
	st := monitorStore(t)
	hash, err := dashboard.HashPassword("s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	s := monitorServer(t, st, dashboard.User{Name: "ana", Hash: hash})
	post := func(id string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/items/"+id+"/corrections", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.SetBasicAuth("ana", "s3cret-password")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name     string
		id       string
		form     url.Values
		code     int
		want     string
		relevant bool
		stance   string
	}{
		{"relabel as critical", "1", url.Values{"relevant": {"1"}, "stance": {"critical"}, "topic": {"human-rights", " ", "human-rights"}, "reason": {"irony"}},
			303, "/items/1?corrected=", true, "critical"},
		{"not relevant drops stance and topics", "2", url.Values{"relevant": {"0"}, "stance": {"critical"}, "topic": {"gender"}, "reason": {"off-topic"}},
			303, "/items/2?corrected=", false, ""},
		{"relevant without a stance", "3", url.Values{"relevant": {"1"}}, 400, "a relevant item needs a stance", true, "neutral"},
		{"unknown topic", "3", url.Values{"relevant": {"1"}, "stance": {"neutral"}, "topic": {"weather"}}, 400, `topic &#34;weather&#34;`, true, "neutral"},
		{"unknown reason", "3", url.Values{"relevant": {"1"}, "stance": {"neutral"}, "reason": {"because"}}, 400, "reason &#34;because&#34;", true, "neutral"},
		{"note too long", "3", url.Values{"relevant": {"1"}, "stance": {"neutral"}, "note": {strings.Repeat("x", 2001)}}, 400, "at most 2000 characters", true, "neutral"},
		{"no such item", "999", url.Values{"relevant": {"1"}, "stance": {"neutral"}}, 404, "no such item", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(tc.id, tc.form)
			if rec.Code != tc.code {
				t.Fatalf("%d, want %d\n%s", rec.Code, tc.code, rec.Body.String())
			}
			if tc.code == 303 {
				if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, tc.want) || !strings.HasSuffix(loc, "#labels") {
					t.Errorf("redirect to %q, want %s…#labels", loc, tc.want)
				}
			} else if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("the answer does not say %q:\n%s", tc.want, rec.Body.String())
			}
			if tc.id == "999" {
				return
			}
			var id int64
			fmt.Sscan(tc.id, &id)
			d, err := st.ItemDetail(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Relevant != tc.relevant || d.Stance != tc.stance {
				t.Errorf("item %s now relevant %v stance %q, want %v %q", tc.id, d.Relevant, d.Stance, tc.relevant, tc.stance)
			}
			if tc.code == 303 && (len(d.Corrections) != 1 || d.Corrections[0].Who != "ana" || d.Corrections[0].Reason != tc.form.Get("reason")) {
				t.Errorf("corrections %+v", d.Corrections)
			}
		})
	}
	d, _ := st.ItemDetail(context.Background(), 1)
	if fmt.Sprint(d.Topics) != "[human-rights]" {
		t.Errorf("topics after the form %v, want the one topic once", d.Topics)
	}
}

// TestStoreFailureAnswers: when the store fails, every page and API call
// answers 500 with the store's error (JSON for the API, a page
// otherwise), never a half-drawn page.
func TestStoreFailureAnswers(t *testing.T) {
	st := monitorStore(t)
	s := monitorServer(t, st)
	st.Close()
	for _, path := range []string{
		"/", "/?from=2026-03-01&to=2026-03-31", "/actors", "/actors/EFF", "/treaty", "/items", "/items/1", "/sources",
		"/api/v1/items", "/api/v1/items/1", "/api/v1/aggregates/timeline?from=2026-03-01&to=2026-03-31",
		"/api/v1/aggregates/topics?from=2026-03-01&to=2026-03-31", "/api/v1/actors?from=2026-03-01&to=2026-03-31",
		"/api/v1/treaty", "/api/v1/sources", "/api/v1/facets",
	} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			body := rec.Body.String()
			if rec.Code != http.StatusInternalServerError || !strings.Contains(body, "closed") {
				t.Fatalf("%d, want 500 with the store's error:\n%s", rec.Code, body)
			}
			api := strings.HasPrefix(path, "/api/")
			if isJSON := strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json"); isJSON != api {
				t.Errorf("Content-Type %q for %s", rec.Header().Get("Content-Type"), path)
			}
		})
	}
}
