package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// emptyStore is a new SQLite store, closed when the test ends.
func emptyStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func smallStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := emptyStore(t)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	items := []store.Labeled{{
		Item: fetch.Item{SourceID: "s", Key: "k1", Title: `<script>alert("x")</script> treaty`, Content: "The <b>treaty</b> is critical.", Published: at},
		Result: classify.Result{Relevant: true, Stance: classify.StanceCritical, Topics: []rules.Topic{"human-rights"},
			Evidence: []classify.Match{{Rule: "cue", Kind: "stance", Label: "critical", Words: []string{"critical"}, Sentence: "The <b>treaty</b> is critical", Field: "content"}}},
	}}
	if _, err := st.Commit(ctx, store.Commit{SourceID: "s", At: at, Items: items}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAuthAndWrites(t *testing.T) {
	st := smallStore(t)
	hash, err := dashboard.HashPassword("s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	closed, err := dashboard.New(dashboard.Options{Reader: st, Users: []dashboard.User{{Name: "ana", Hash: hash}}})
	if err != nil {
		t.Fatal(err)
	}
	noUsers, err := dashboard.New(dashboard.Options{Reader: st, OpenRead: true})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"relevant":true,"stance":"neutral","topics":["gender"]}`
	tests := []struct {
		name        string
		srv         *dashboard.Server
		method, url string
		body        string
		auth        func(*http.Request)
		origin      string
		want        int
		challenge   bool
	}{
		{"page needs a login off loopback", closed, "GET", "/", "", nil, "", 401, true},
		{"API needs credentials, without a challenge", closed, "GET", "/api/v1/items", "", nil, "", 401, false},
		{"basic auth reads", closed, "GET", "/items/1", "", func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "", 200, false},
		{"bearer token reads", closed, "GET", "/api/v1/items", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret-password") }, "", 200, false},
		{"wrong password", closed, "GET", "/api/v1/items", "", func(r *http.Request) { r.SetBasicAuth("ana", "nope") }, "", 401, false},
		{"unknown user", closed, "GET", "/api/v1/items", "", func(r *http.Request) { r.SetBasicAuth("bob", "s3cret-password") }, "", 401, false},
		{"write without credentials", closed, "POST", "/api/v1/items/1/corrections", body, nil, "", 401, false},
		{"cross-site write", closed, "POST", "/api/v1/items/1/corrections", body, func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "cross-site", 403, false},
		{"bad stance", closed, "POST", "/api/v1/items/1/corrections", `{"relevant":true,"stance":"angry"}`, func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "", 400, false},
		{"irrelevant with a stance", closed, "POST", "/api/v1/items/1/corrections", `{"relevant":false,"stance":"critical"}`, func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "", 400, false},
		{"unknown field", closed, "POST", "/api/v1/items/1/corrections", `{"relevant":true,"stance":"neutral","who":"x"}`, func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "", 400, false},
		{"missing item", closed, "POST", "/api/v1/items/99/corrections", body, func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "", 404, false},
		{"a good write", closed, "POST", "/api/v1/items/1/corrections", body, func(r *http.Request) { r.SetBasicAuth("ana", "s3cret-password") }, "same-origin", 201, false},
		{"no users: writes are off", noUsers, "POST", "/api/v1/items/1/corrections", body, nil, "", 403, false},
		{"open read", noUsers, "GET", "/", "", nil, "", 200, false},
		{"bad range", noUsers, "GET", "/api/v1/aggregates/timeline?from=2026-13-01", "", nil, "", 400, false},
		{"bad bucket", noUsers, "GET", "/?bucket=year", "", nil, "", 400, false},
		{"bad topic", noUsers, "GET", "/api/v1/items?topic=weather", "", nil, "", 400, false},
		{"bad page", noUsers, "GET", "/items?page=0", "", nil, "", 400, false},
		{"no such item", noUsers, "GET", "/items/42", "", nil, "", 404, false},
		{"no such actor", noUsers, "GET", "/actors/Nobody", "", nil, "", 404, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if tc.auth != nil {
				tc.auth(req)
			}
			if tc.origin != "" {
				req.Header.Set("Sec-Fetch-Site", tc.origin)
			}
			rec := httptest.NewRecorder()
			tc.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("%s %s: %d, want %d\n%s", tc.method, tc.url, rec.Code, tc.want, rec.Body.String())
			}
			if got := rec.Header().Get("WWW-Authenticate") != ""; got != tc.challenge {
				t.Errorf("challenge = %v, want %v", got, tc.challenge)
			}
		})
	}
	d, err := st.ItemDetail(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Corrections) != 1 || d.Corrections[0].Who != "ana" || d.Stance != "neutral" {
		t.Errorf("after one good write: %+v, stance %q", d.Corrections, d.Stance)
	}
}

func TestItemPageEscapesAndMarks(t *testing.T) {
	s, err := dashboard.New(dashboard.Options{Reader: smallStore(t), OpenRead: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/items/1", nil))
	page := rec.Body.String()
	if rec.Code != 200 || strings.Contains(page, "<script>alert") || strings.Contains(page, "<b>treaty") {
		t.Fatalf("item page does not escape the item's text:\n%s", page)
	}
	if !strings.Contains(page, "is <mark>critical</mark>.") {
		t.Errorf("evidence word not marked in the text:\n%s", page)
	}
	if !strings.Contains(page, "Content-Security-Policy") && rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
}

func TestPasswordHashes(t *testing.T) {
	if _, err := dashboard.HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	for _, bad := range []string{"", "plain-password", "pbkdf2-sha256$10$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "bcrypt$x$y$z"} {
		if _, err := dashboard.New(dashboard.Options{Reader: smallStore(t), Users: []dashboard.User{{Name: "a", Hash: bad}}}); err == nil {
			t.Errorf("hash %q accepted", bad)
		}
	}
	h1, _ := dashboard.HashPassword("same password")
	h2, _ := dashboard.HashPassword("same password")
	if h1 == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
}
