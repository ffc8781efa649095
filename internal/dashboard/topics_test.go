package dashboard_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
)

// TestTopicsFollowTheRulePack: the dashboard's topics are the rule
// pack's. A pack that adds data-retention and renames human-rights gets
// a filter, a row and a label for the new topic and the new name; the
// embedded pack's dashboard refuses the topic it does not know.
func TestTopicsFollowTheRulePack(t *testing.T) {
	ctx := context.Background()
	st := emptyStore(t)
	at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	item := func(key string, topics ...rules.Topic) store.Labeled {
		return store.Labeled{Item: fetch.Item{SourceID: "s", Key: key, Title: "Story " + key, Published: at},
			Result: classify.Result{Relevant: true, Stance: classify.StanceCritical, Topics: topics, Evidence: []classify.Match{}}}
	}
	if _, err := st.Commit(ctx, store.Commit{SourceID: "s", At: at, Items: []store.Labeled{
		item("k1", "data-retention"), item("k2", "data-retention", "human-rights"), item("k3", "gender")}}); err != nil {
		t.Fatal(err)
	}
	own, err := rules.ReadTaxonomy("own.yaml", []byte("version: x\ntaxonomy:\n"+
		"  - {id: human-rights, label: Rights and freedoms}\n"+
		"  - {id: data-retention, label: Data retention}\n"+
		"  - {id: gender, label: Gender}\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC) }
	ownSrv, err := dashboard.New(dashboard.Options{Reader: st, OpenRead: true, Now: now, Topics: own})
	if err != nil {
		t.Fatal(err)
	}
	var topics dashboard.TopicTable
	getJSON(t, ownSrv, "/api/v1/aggregates/topics?from=2026-02-01&to=2026-02-01", &topics)
	var rows []string
	for _, r := range topics.Rows {
		rows = append(rows, string(r.Topic)+"="+r.Label+":"+string(rune('0'+r.Total)))
	}
	if got := strings.Join(rows, " | "); got != "human-rights=Rights and freedoms:1 | data-retention=Data retention:2 | gender=Gender:1" {
		t.Errorf("topic rows %s", got)
	}
	var page struct {
		Total int `json:"total"`
	}
	getJSON(t, ownSrv, "/api/v1/items?topic=data-retention&from=2026-02-01&to=2026-02-01", &page)
	if page.Total != 2 {
		t.Errorf("items on data-retention: %d, want 2", page.Total)
	}
	for path, want := range map[string][]string{
		"/?from=2026-02-01&to=2026-02-01": {">Rights and freedoms</a>", ">Data retention</a>", `<option value="data-retention"`},
		"/items?topic=data-retention":     {`<option value="data-retention" selected>Data retention</option>`},
	} {
		rec := httptest.NewRecorder()
		ownSrv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		for _, w := range want {
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), w) {
				t.Errorf("GET %s: %d, the page lacks %q", path, rec.Code, w)
			}
		}
	}

	builtin, err := dashboard.New(dashboard.Options{Reader: st, OpenRead: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	builtin.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/items?topic=data-retention", nil))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "want one of criminalisation-scope, human-rights,") {
		t.Errorf("the embedded pack's dashboard on data-retention: %d %s", rec.Code, rec.Body.String())
	}
	getJSON(t, builtin, "/api/v1/aggregates/topics?from=2026-02-01&to=2026-02-01", &topics)
	if len(topics.Rows) != 13 || topics.Rows[1].Label != "Human rights" {
		t.Errorf("embedded pack: %d rows, second %+v", len(topics.Rows), topics.Rows[1])
	}
}

// TestCorrectionTopics: the item page checks the item's topics; a
// correction's topics, from the API or the form, must be the pack's and
// are stored as sent.
func TestCorrectionTopics(t *testing.T) {
	st := smallStore(t)
	hash, err := dashboard.HashPassword("s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	s, err := dashboard.New(dashboard.Options{Reader: st, Users: []dashboard.User{{Name: "ana", Hash: hash}}})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, ctype, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.SetBasicAuth("ana", "s3cret-password")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	page := do("GET", "/items/1", "", "").Body.String()
	for _, w := range []string{`value="human-rights" checked id="c-topic-human-rights"> Human rights`, `value="gender" id="c-topic-gender"> Gender`} {
		if !strings.Contains(page, w) {
			t.Errorf("item page lacks %q", w)
		}
	}
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, ctype, path, body string
		code                    int
		want                    string
	}{
		{"API, unknown topic", "application/json", "/api/v1/items/1/corrections", `{"relevant":true,"stance":"neutral","topics":["human-right"]}`, 400, `topic \"human-right\": want one of criminalisation-scope, human-rights,`},
		{"form, unknown topic", form, "/items/1/corrections", "relevant=1&stance=neutral&topic=gender&topic=human-right", 400, `topic &#34;human-right&#34;: want one of criminalisation-scope, human-rights,`},
		{"form, the pack's topics", form, "/items/1/corrections", "relevant=1&stance=neutral&topic=human-rights&topic=gender", 303, ""},
	} {
		rec := do("POST", tc.path, tc.ctype, tc.body)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, rec.Code, rec.Body.String(), tc.code, tc.want)
		}
	}
	d, err := st.ItemDetail(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Corrections) != 1 || !slices.Equal(d.Corrections[0].Label.Topics, []rules.Topic{"gender", "human-rights"}) || !slices.Equal(d.Topics, []rules.Topic{"gender", "human-rights"}) {
		t.Errorf("after the form's correction: %+v, topics %v", d.Corrections, d.Topics)
	}
}
