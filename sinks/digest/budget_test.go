package digest

import (
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/sinks"
)

// bigMessage has every part at n bytes of text that JSON and MIME do not
// escape much: Latin, Cyrillic and 4-byte emoji, so that the chat presets'
// character limits alone do not keep the body under its byte budget.
func bigMessage(n int) Message {
	para := strings.Repeat("🛰🛰🛰🛰🛰🛰🛰🛰🛰 ", 290) + "\n\n"
	part := strings.Repeat(para, n/len(para)+1)
	return Message{ID: "0123456789abcdef0123456789abcdef", Subject: "treatywatch digest: 300 items",
		HTML: "<p>" + part + "</p>", Text: part, Mrkdwn: part, Items: 300}
}

// Each preset at the default budget config gives it (the receiving API's
// documented limit): a digest larger than that arrives within it, cut with
// the marker, the id and addresses whole; a digest just under it is not
// cut.
func TestPresetBudgets(t *testing.T) {
	for _, preset := range []string{PresetGeneric, PresetPostmark, PresetSendGrid, PresetSlack, PresetDiscord, PresetTeams, PresetNtfy} {
		t.Run(preset, func(t *testing.T) {
			tc := &config.Transport{Kind: config.TransportWebhook, Preset: preset}
			limit := int(config.DefaultMaxBytes(config.Sink{Type: config.SinkDigest, Transport: tc}))
			if limit <= 0 {
				t.Fatalf("no default budget for preset %s", preset)
			}
			cfg := WebhookConfig{Preset: preset, URL: "https://receiver.example.org/x", MaxBytes: limit,
				Token: "tok", From: "watch@example.org"}
			if preset == PresetGeneric || preset == PresetPostmark || preset == PresetSendGrid {
				cfg.To = []string{"analyst@example.org"}
			}
			w, err := NewWebhook(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := bigMessage(limit)
			body, err := w.Body(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > limit {
				t.Fatalf("body of %d bytes over the budget of %d", len(body), limit)
			}
			if len(body) < limit-closeEnoughForTest(preset) {
				t.Errorf("body of %d bytes: cut far below the budget of %d", len(body), limit)
			}
			text := string(body)
			if !utf8.ValidString(text) || !strings.Contains(text, strings.TrimPrefix(sinks.Marker, "… ")) {
				t.Errorf("body is not valid UTF-8 or lacks the marker")
			}
			if preset != PresetNtfy && !json.Valid(body) {
				t.Fatalf("body is not JSON")
			}
			if preset == PresetGeneric && !strings.Contains(text, m.ID) {
				t.Errorf("digest id lost")
			}
			if cfg.To != nil && !strings.Contains(text, "analyst@example.org") {
				t.Errorf("recipient lost")
			}

			// Under the budget: nothing is cut.
			small := Message{ID: m.ID, Subject: m.Subject, HTML: "<p>Two items.</p>", Text: "Two items.", Mrkdwn: "Two items."}
			body, err = w.Body(small)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), "[truncated]") {
				t.Errorf("a digest within the budget (%d of %d bytes) was cut", len(body), limit)
			}
		})
	}
}

// closeEnoughForTest is how far under the budget a body may end: the
// renderers of Slack and Discord keep their own character limits, so a
// cut there lands on a whole section or character.
func closeEnoughForTest(preset string) int {
	switch preset {
	case PresetSlack, PresetDiscord:
		return 3100
	}
	return 64
}

// The SMTP transport at its default budget: the whole MIME message fits.
func TestSMTPBudget(t *testing.T) {
	limit := int(config.DefaultMaxBytes(config.Sink{Type: config.SinkDigest,
		Transport: &config.Transport{Kind: config.TransportSMTP}}))
	tr, err := NewSMTP(SMTPConfig{Host: "mail.example.org", From: "digest@example.org", To: []string{"a@example.org"}, MaxBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	m := bigMessage(limit / 4) // quoted-printable triples emoji: HTML and text together are over the budget
	raw, err := tr.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > limit || len(raw) < limit-1024 {
		t.Fatalf("message of %d bytes for a budget of %d", len(raw), limit)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Message-Id") == "" || !strings.Contains(msg.Header.Get("Message-Id"), m.ID) {
		t.Errorf("Message-ID lost: %q", msg.Header.Get("Message-Id"))
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart(); err != nil {
		t.Errorf("MIME structure broken: %v", err)
	}
	p := parseMail(t, raw)
	if !strings.HasSuffix(p.html, sinks.Marker) || strings.HasSuffix(p.text, sinks.Marker) {
		t.Errorf("want the HTML part cut first (html cut %v, text cut %v)", strings.HasSuffix(p.html, sinks.Marker), strings.HasSuffix(p.text, sinks.Marker))
	}
}

// The chat presets post what their APIs take: Discord a content and an
// embed, Teams an Adaptive Card, ntfy plain text with the subject as the
// title parameter.
func TestChatPresetsSend(t *testing.T) {
	rc, m := sendDigest(t, WebhookConfig{Preset: PresetDiscord})
	var d discordMessage
	if err := json.Unmarshal(rc.bodies[0], &d); err != nil {
		t.Fatal(err)
	}
	if d.Content != m.Subject || len(d.Embeds) != 1 || !strings.Contains(d.Embeds[0].Description, "NGOs urge parliaments") ||
		utf8.RuneCountInString(d.Embeds[0].Description) > discordDescMax {
		t.Errorf("discord body = %s", rc.bodies[0])
	}

	rc, m = sendDigest(t, WebhookConfig{Preset: PresetTeams})
	var tm teamsMessage
	if err := json.Unmarshal(rc.bodies[0], &tm); err != nil {
		t.Fatal(err)
	}
	if tm.Type != "message" || len(tm.Attachments) != 1 || tm.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		tm.Attachments[0].Content.Body[0].Text != m.Subject || !strings.Contains(tm.Attachments[0].Content.Body[1].Text, "NGOs urge parliaments") {
		t.Errorf("teams body = %s", rc.bodies[0])
	}

	rc, m = sendDigest(t, WebhookConfig{Preset: PresetNtfy})
	r := rc.reqs[0]
	if r.URL.Query().Get("title") != m.Subject || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(rc.bodies[0]), "NGOs urge parliaments") {
		t.Errorf("ntfy request: title %q, type %q, body %.200s", r.URL.Query().Get("title"), r.Header.Get("Content-Type"), rc.bodies[0])
	}
	if _, err := NewWebhook(WebhookConfig{Preset: "pigeon", URL: "https://x.example.org"}); err == nil {
		t.Error("an unknown preset was accepted")
	}
}
