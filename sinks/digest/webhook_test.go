package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// receiver records the requests an httptest server got.
type receiver struct {
	mu      sync.Mutex
	reqs    []*http.Request
	bodies  [][]byte
	status  int
	headers map[string]string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, r)
	rc.bodies = append(rc.bodies, b)
	status := rc.status
	for k, v := range rc.headers {
		w.Header().Set(k, v)
	}
	rc.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func sendDigest(t *testing.T, cfg WebhookConfig) (*receiver, Message) {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL + "/send"
	w, err := NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSink(t, w, &fileState{dir: t.TempDir()}, nil)
	if err := s.WriteWindow(context.Background(), window, windowRecords()); err != nil {
		t.Fatal(err)
	}
	if len(rc.bodies) != 1 {
		t.Fatalf("receiver got %d requests", len(rc.bodies))
	}
	m, err := s.Render(window, windowRecords(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rc, m
}

// str fetches a non-empty string at a path of a decoded JSON value.
func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q", path, k)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("required field %v missing", path)
			}
		case int:
			a, ok := v.([]any)
			if !ok || len(a) <= k {
				t.Fatalf("%v: no element %d", path, k)
			}
			v = a[k]
		}
	}
	s, ok := v.(string)
	if !ok || s == "" {
		t.Fatalf("field %v = %v, want a non-empty string", path, v)
	}
	return s
}

func TestWebhookPresetGeneric(t *testing.T) {
	rc, m := sendDigest(t, WebhookConfig{Preset: PresetGeneric, Token: "tok", From: "Watch <watch@example.org>",
		To: []string{"analyst@example.org", "Desk <desk@example.org>"}})
	var body map[string]any
	if err := json.Unmarshal(rc.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if str(t, body, "id") != m.ID || str(t, body, "subject") != m.Subject || str(t, body, "html") != m.HTML || str(t, body, "text") != m.Text {
		t.Error("generic body does not carry the digest")
	}
	if str(t, body, "to", 0) != "<analyst@example.org>" || str(t, body, "to", 1) != `"Desk" <desk@example.org>` {
		t.Errorf("to = %v", body["to"])
	}
	str(t, body, "from")
	r := rc.reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/send" || r.Header.Get("Idempotency-Key") != m.ID ||
		r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s headers %v", r.Method, r.URL.Path, r.Header)
	}
}

// Postmark's /email documents From, To and Subject as required, and one
// of HtmlBody or TextBody; auth is X-Postmark-Server-Token.
func TestWebhookPresetPostmark(t *testing.T) {
	rc, m := sendDigest(t, WebhookConfig{Preset: PresetPostmark, Token: "server-token", From: "Treatywatch <digest@example.org>",
		To: []string{"a@example.org", "b@example.org"}, MessageStream: "outbound"})
	var body map[string]any
	if err := json.Unmarshal(rc.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if str(t, body, "From") != `"Treatywatch" <digest@example.org>` || str(t, body, "To") != "<a@example.org>, <b@example.org>" ||
		str(t, body, "Subject") != m.Subject || str(t, body, "HtmlBody") != m.HTML || str(t, body, "TextBody") != m.Text ||
		str(t, body, "MessageStream") != "outbound" {
		t.Errorf("postmark body = %s", rc.bodies[0][:min(400, len(rc.bodies[0]))])
	}
	r := rc.reqs[0]
	if r.Header.Get("X-Postmark-Server-Token") != "server-token" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	if _, err := NewWebhook(WebhookConfig{Preset: PresetPostmark, From: "a@example.org", To: []string{"b@example.org"}}); err == nil {
		t.Error("postmark without a token accepted")
	}
}

// SendGrid v3 /v3/mail/send documents personalizations (each with a to
// array of {email}), from.email, subject and content ({type, value},
// text/plain first) as required; auth is a Bearer API key.
func TestWebhookPresetSendGrid(t *testing.T) {
	rc, m := sendDigest(t, WebhookConfig{Preset: PresetSendGrid, Token: "SG.key", From: "Treatywatch <digest@example.org>",
		To: []string{"Analyst <a@example.org>"}})
	var body map[string]any
	if err := json.Unmarshal(rc.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if str(t, body, "personalizations", 0, "to", 0, "email") != "a@example.org" ||
		str(t, body, "from", "email") != "digest@example.org" || str(t, body, "subject") != m.Subject ||
		str(t, body, "content", 0, "type") != "text/plain" || str(t, body, "content", 0, "value") != m.Text ||
		str(t, body, "content", 1, "type") != "text/html" || str(t, body, "content", 1, "value") != m.HTML {
		t.Errorf("sendgrid body = %s", rc.bodies[0][:min(400, len(rc.bodies[0]))])
	}
	if rc.reqs[0].Header.Get("Authorization") != "Bearer SG.key" {
		t.Errorf("auth header %q", rc.reqs[0].Header.Get("Authorization"))
	}
	for _, bad := range []WebhookConfig{
		{Preset: PresetSendGrid, Token: "k", To: []string{"a@example.org"}},
		{Preset: PresetSendGrid, Token: "k", From: "a@example.org"},
		{Preset: "mailchimp", URL: "http://x"},
		{Preset: PresetGeneric, URL: "ftp://x"},
	} {
		if _, err := NewWebhook(bad); err == nil {
			t.Errorf("NewWebhook(%+v) accepted", bad)
		}
	}
}

type slackPayload struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type, Text string
		} `json:"text"`
		Elements []struct{ Type, Text string } `json:"elements"`
	} `json:"blocks"`
}

// Slack incoming webhooks require text (or blocks); a section's text is
// at most 3000 characters, a header's 150, a message at most 50 blocks.
func TestWebhookPresetSlack(t *testing.T) {
	rc, m := sendDigest(t, WebhookConfig{Preset: PresetSlack})
	var p slackPayload
	if err := json.Unmarshal(rc.bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.Text != m.Subject || len(p.Blocks) < 3 || p.Blocks[0].Type != "header" || p.Blocks[0].Text.Type != "plain_text" {
		t.Fatalf("slack payload = %s", rc.bodies[0])
	}
	var joined strings.Builder
	for _, b := range p.Blocks {
		if b.Text != nil {
			joined.WriteString(b.Text.Text + "\n")
		}
	}
	for _, want := range []string{"*Human rights*", "<https://example.org/a1|NGOs urge parliaments to reject the treaty>", ":red_circle:"} {
		if !strings.Contains(joined.String(), want) {
			t.Errorf("slack payload lacks %q", want)
		}
	}
}

// A huge digest must still produce valid JSON within Slack's limits:
// text fields are truncated, the envelope never is.
func TestSlackLimitsTruncateTextNotJSON(t *testing.T) {
	var recs []sinks.Record
	long := strings.Repeat("Überlange Überschrift & <Tags> | ", 150) // ~4800 chars
	for i := range 300 {
		topic := rules.DefaultTaxonomy().IDs()[i%13]
		// distinct headlines: identical ones would be one story
		recs = append(recs, rec(string(rune('A'+i%26))+strings.Repeat("x", i), fmt.Sprintf("%d %s", i, long), "critical", float64(i), winEnd.Add(-time.Minute), topic))
	}
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, func(o *Options) { o.PerTopic = 25 })
	m, err := s.Render(window, recs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Subject = strings.Repeat("S", 400)
	w, err := NewWebhook(WebhookConfig{Preset: PresetSlack, URL: "https://hooks.example.org/services/T/B/X"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.Body(m)
	if err != nil {
		t.Fatal(err)
	}
	var p slackPayload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	if len(p.Blocks) > 50 {
		t.Errorf("%d blocks", len(p.Blocks))
	}
	total := 0
	for i, bl := range p.Blocks {
		if bl.Text == nil {
			continue
		}
		n := utf8.RuneCountInString(bl.Text.Text)
		total += n
		if (bl.Type == "header" && n > 150) || n > 3000 {
			t.Errorf("block %d (%s) has %d characters", i, bl.Type, n)
		}
		if !utf8.ValidString(bl.Text.Text) {
			t.Errorf("block %d: invalid UTF-8 after truncation", i)
		}
	}
	if total > slackBlocksText || utf8.RuneCountInString(p.Text) > 3000 {
		t.Errorf("total block text %d, text %d", total, utf8.RuneCountInString(p.Text))
	}
	last := p.Blocks[len(p.Blocks)-1]
	if last.Type != "context" || !strings.Contains(last.Elements[0].Text, "left out") {
		t.Errorf("no note about left-out sections: %+v", last)
	}
}

func TestWebhookErrorsAndRetryAfter(t *testing.T) {
	tests := []struct {
		status    int
		retry     string
		wantErr   bool
		wantAfter time.Duration
	}{
		{http.StatusAccepted, "", false, 0},
		{http.StatusNotFound, "", true, 0},
		{http.StatusUnprocessableEntity, "", true, 0},
		{http.StatusTooManyRequests, "30", true, 30 * time.Second},
		{http.StatusServiceUnavailable, "7", true, 7 * time.Second},
		{http.StatusTooManyRequests, "", true, 0},
		{http.StatusInternalServerError, "30", true, 0},
	}
	for _, tt := range tests {
		rc := &receiver{status: tt.status, headers: map[string]string{}}
		if tt.retry != "" {
			rc.headers["Retry-After"] = tt.retry
		}
		srv := httptest.NewServer(rc)
		w, err := NewWebhook(WebhookConfig{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Send(context.Background(), Message{ID: "x", Subject: "s", HTML: "h", Text: "t"})
		srv.Close()
		if (err != nil) != tt.wantErr {
			t.Errorf("status %d: err = %v", tt.status, err)
		}
		if got := sinks.RetryAfter(err); got != tt.wantAfter {
			t.Errorf("status %d: retry after %s, want %s", tt.status, got, tt.wantAfter)
		}
		var re *sinks.RetryError
		if tt.wantAfter > 0 && !errors.As(err, &re) {
			t.Errorf("status %d: not a RetryError", tt.status)
		}
	}
	if d, ok := fetch.ParseRetryAfter(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC).Format(http.TimeFormat), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); !ok || d != time.Minute {
		t.Errorf("http-date Retry-After = %s, %v", d, ok)
	}
}

func TestWebhookCheck(t *testing.T) {
	for _, tt := range []struct {
		status  int
		wantErr bool
	}{{200, false}, {405, false}, {401, true}, {403, true}, {502, true}} {
		rc := &receiver{status: tt.status}
		srv := httptest.NewServer(rc)
		w, err := NewWebhook(WebhookConfig{Preset: PresetPostmark, URL: srv.URL, Token: "t", From: "a@example.org", To: []string{"b@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Check(context.Background())
		srv.Close()
		if (err != nil) != tt.wantErr {
			t.Errorf("status %d: Check = %v", tt.status, err)
		}
		if len(rc.reqs) != 1 || rc.reqs[0].Method != http.MethodHead {
			t.Errorf("status %d: Check sent %d requests", tt.status, len(rc.reqs))
		}
	}
	w, _ := NewWebhook(WebhookConfig{URL: "http://127.0.0.1:1/x"})
	if err := w.Check(context.Background()); err == nil {
		t.Error("Check of a closed port succeeded")
	}
}
