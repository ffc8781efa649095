package digest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/redact"
	"github.com/treatywatch/treatywatch/sinks"
)

// Webhook presets.
const (
	PresetGeneric  = "generic"
	PresetPostmark = "postmark"
	PresetSendGrid = "sendgrid"
	PresetSlack    = "slack"
	PresetDiscord  = "discord"
	PresetTeams    = "teams"
	PresetNtfy     = "ntfy"
)

// Default endpoints of the presets that have one.
const (
	PostmarkURL = "https://api.postmarkapp.com/email"
	SendGridURL = "https://api.sendgrid.com/v3/mail/send"
)

// Slack limits (Block Kit): a section's text at most 3000 characters, a
// header's 150, at most 50 blocks; a message's text is best kept under
// 4000 characters.
const (
	slackSectionMax = 3000
	slackHeaderMax  = 150
	slackBlocksMax  = 50
	slackTextMax    = 3000
	slackBlocksText = 12000 // total text over all blocks, with margin
)

// WebhookConfig configures a webhook transport.
type WebhookConfig struct {
	// Preset is PresetGeneric (default), PresetPostmark, PresetSendGrid
	// or PresetSlack.
	Preset string
	// URL is the endpoint; Postmark and SendGrid default to their API.
	URL string
	// Token is the Postmark server token (X-Postmark-Server-Token), the
	// SendGrid API key (Bearer), or for generic an optional Bearer token.
	Token string
	// From and To are mail addresses ("Name <a@b.org>" allowed); required
	// by Postmark and SendGrid, sent along by generic, unused by Slack.
	From string
	To   []string
	// MessageStream is Postmark's stream (default "outbound" on their side).
	MessageStream string
	// Headers are added to every request.
	Headers map[string]string
	// Client defaults to a client with a 30 s timeout.
	Client *http.Client
	// MaxBytes bounds the request body: the message's parts are cut, in
	// the order of the preset's fields (see fields), to fit. Zero means
	// no budget beyond the preset's own limits.
	MaxBytes int
}

// Webhook posts a digest as the JSON body of an email or chat API.
type Webhook struct {
	cfg    WebhookConfig
	from   *mail.Address
	to     []*mail.Address
	client *http.Client
}

var (
	_ Transport = (*Webhook)(nil)
	_ Addressed = (*Webhook)(nil)
)

// NewWebhook checks cfg and returns the transport.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if cfg.Preset == "" {
		cfg.Preset = PresetGeneric
	}
	w := &Webhook{cfg: cfg, client: cfg.Client}
	if w.client == nil {
		w.client = &http.Client{Timeout: 30 * time.Second}
	}
	switch cfg.Preset {
	case PresetPostmark:
		if w.cfg.URL == "" {
			w.cfg.URL = PostmarkURL
		}
	case PresetSendGrid:
		if w.cfg.URL == "" {
			w.cfg.URL = SendGridURL
		}
	case PresetGeneric, PresetSlack, PresetDiscord, PresetTeams, PresetNtfy:
	default:
		return nil, fmt.Errorf("digest webhook: unknown preset %q (want generic, postmark, sendgrid, slack, discord, teams or ntfy)", cfg.Preset)
	}
	u, err := url.Parse(w.cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("digest webhook %s: url %q must be an absolute http(s) URL", cfg.Preset, w.cfg.URL)
	}
	if (cfg.Preset == PresetPostmark || cfg.Preset == PresetSendGrid) && cfg.Token == "" {
		return nil, fmt.Errorf("digest webhook %s: token is required", cfg.Preset)
	}
	needAddr := cfg.Preset == PresetPostmark || cfg.Preset == PresetSendGrid
	if cfg.From != "" || needAddr {
		if w.from, err = mail.ParseAddress(cfg.From); err != nil {
			return nil, fmt.Errorf("digest webhook %s: from %q: %w", cfg.Preset, cfg.From, err)
		}
	}
	for _, t := range cfg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("digest webhook %s: to %q: %w", cfg.Preset, t, err)
		}
		w.to = append(w.to, a)
	}
	if needAddr && len(w.to) == 0 {
		return nil, fmt.Errorf("digest webhook %s: at least one recipient (to) is required", cfg.Preset)
	}
	if cfg.Preset == PresetPostmark && len(w.to) > 50 {
		return nil, fmt.Errorf("digest webhook postmark: at most 50 recipients, got %d", len(w.to))
	}
	return w, nil
}

// chat reports whether the preset posts to a channel URL.
func (w *Webhook) chat() bool {
	switch w.cfg.Preset {
	case PresetSlack, PresetDiscord, PresetTeams, PresetNtfy:
		return true
	}
	return false
}

// Recipients returns the To addresses, or the URL for the chat presets
// (the channel is the recipient there).
func (w *Webhook) Recipients() []string {
	if w.chat() || len(w.to) == 0 {
		return []string{w.cfg.URL}
	}
	out := make([]string, len(w.to))
	for i, a := range w.to {
		out[i] = a.Address
	}
	return out
}

// Body returns the body Send posts for m (JSON, or plain text for
// ntfy), cut to the budget: the preset's text parts are cut in a fixed
// order (HTML, then text, for email; the chat rendering for chat), never
// the subject's place, the id or the addresses.
func (w *Webhook) Body(m Message) ([]byte, error) {
	var body []byte
	size := func() (int, error) {
		var err error
		body, err = w.encode(m)
		return len(body), err
	}
	if w.cfg.MaxBytes <= 0 {
		_, err := size()
		return body, err
	}
	if err := sinks.Fit(w.cfg.MaxBytes, size, w.fields(&m)...); err != nil {
		return nil, fmt.Errorf("digest webhook %s: digest %s: %w", w.cfg.Preset, m.ID, err)
	}
	return body, nil
}

// fields lists the parts of m the preset's body carries, in the order
// they are cut.
func (w *Webhook) fields(m *Message) []sinks.Field {
	switch w.cfg.Preset {
	case PresetSlack:
		return []sinks.Field{{Text: &m.Mrkdwn}, {Text: &m.Text}}
	case PresetDiscord, PresetTeams, PresetNtfy:
		return []sinks.Field{{Text: &m.Text}}
	}
	return []sinks.Field{{Text: &m.HTML, HTML: true}, {Text: &m.Text}}
}

func (w *Webhook) encode(m Message) ([]byte, error) {
	var v any
	switch w.cfg.Preset {
	case PresetPostmark:
		v = w.postmark(m)
	case PresetSendGrid:
		v = w.sendgrid(m)
	case PresetSlack:
		v = slackBody(m)
	case PresetDiscord:
		v = discordBody(m)
	case PresetTeams:
		v = teamsBody(m)
	case PresetNtfy:
		return []byte(ntfyText(m)), nil
	default:
		v = w.generic(m)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("digest webhook %s: encode: %w", w.cfg.Preset, err)
	}
	return b, nil
}

type genericBody struct {
	ID      string   `json:"id"`
	Subject string   `json:"subject"`
	HTML    string   `json:"html"`
	Text    string   `json:"text"`
	To      []string `json:"to"`
	From    string   `json:"from,omitempty"`
	Date    string   `json:"date"`
	Items   int      `json:"items"`
}

func (w *Webhook) generic(m Message) genericBody {
	b := genericBody{ID: m.ID, Subject: m.Subject, HTML: m.HTML, Text: m.Text, To: []string{},
		Date: m.Date.UTC().Format(time.RFC3339), Items: m.Items}
	for _, a := range w.to {
		b.To = append(b.To, a.String())
	}
	if w.from != nil {
		b.From = w.from.String()
	}
	return b
}

type postmarkHeader struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type postmarkBody struct {
	From          string            `json:"From"`
	To            string            `json:"To"`
	Subject       string            `json:"Subject"`
	HTMLBody      string            `json:"HtmlBody"`
	TextBody      string            `json:"TextBody"`
	MessageStream string            `json:"MessageStream,omitempty"`
	Tag           string            `json:"Tag"`
	Headers       []postmarkHeader  `json:"Headers"`
	Metadata      map[string]string `json:"Metadata"`
}

func (w *Webhook) postmark(m Message) postmarkBody {
	to := make([]string, len(w.to))
	for i, a := range w.to {
		to[i] = a.String()
	}
	return postmarkBody{
		From: w.from.String(), To: strings.Join(to, ", "), Subject: m.Subject,
		HTMLBody: m.HTML, TextBody: m.Text, MessageStream: w.cfg.MessageStream,
		Tag:      "treatywatch-digest",
		Headers:  []postmarkHeader{{Name: "X-Treatywatch-Digest-ID", Value: m.ID}},
		Metadata: map[string]string{"digest_id": m.ID},
	}
}

type sgAddress struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type sgContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type sgPersonalization struct {
	To []sgAddress `json:"to"`
}

type sendgridBody struct {
	Personalizations []sgPersonalization `json:"personalizations"`
	From             sgAddress           `json:"from"`
	Subject          string              `json:"subject"`
	Content          []sgContent         `json:"content"`
	Headers          map[string]string   `json:"headers"`
	CustomArgs       map[string]string   `json:"custom_args"`
}

func (w *Webhook) sendgrid(m Message) sendgridBody {
	p := sgPersonalization{}
	for _, a := range w.to {
		p.To = append(p.To, sgAddress{Email: a.Address, Name: a.Name})
	}
	// SendGrid wants text/plain before text/html; content values must
	// not be empty.
	text, html := m.Text, m.HTML
	if strings.TrimSpace(text) == "" {
		text = m.Subject
	}
	if strings.TrimSpace(html) == "" {
		html = m.Subject
	}
	return sendgridBody{
		Personalizations: []sgPersonalization{p},
		From:             sgAddress{Email: w.from.Address, Name: w.from.Name},
		Subject:          m.Subject,
		Content:          []sgContent{{Type: "text/plain", Value: text}, {Type: "text/html", Value: html}},
		Headers:          map[string]string{"X-Treatywatch-Digest-ID": m.ID},
		CustomArgs:       map[string]string{"digest_id": m.ID},
	}
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackBody builds a Block Kit message from m.Mrkdwn within Slack's
// limits: text fields are truncated, the JSON never is.
func slackBody(m Message) slackMessage {
	msg := slackMessage{Text: truncate(m.Subject, slackTextMax)}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "header",
		Text: &slackText{Type: "plain_text", Text: truncate(m.Subject, slackHeaderMax)}})
	src := m.Mrkdwn
	if strings.TrimSpace(src) == "" {
		src = escapeMrkdwn(m.Text)
	}
	var chunks []string
	for _, part := range strings.Split(src, "\n\n") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		chunks = append(chunks, splitRunes(part, slackSectionMax)...)
	}
	total, omitted := 0, 0
	for i, c := range chunks {
		n := utf8.RuneCountInString(c)
		// Keep one block for the "omitted" note.
		if len(msg.Blocks) >= slackBlocksMax-1 || total+n > slackBlocksText {
			omitted = len(chunks) - i
			break
		}
		total += n
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: c}})
	}
	if omitted > 0 {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn",
			Text: fmt.Sprintf("_%d more sections left out to fit Slack's limits; the email digest has them all._", omitted)}}})
	}
	return msg
}

// splitRunes splits s into pieces of at most n runes, at line breaks
// where possible, truncating a single over-long line.
func splitRunes(s string, n int) []string {
	if utf8.RuneCountInString(s) <= n {
		return []string{s}
	}
	var out []string
	var cur strings.Builder
	curN := 0
	for _, line := range strings.Split(s, "\n") {
		line = truncate(line, n)
		ln := utf8.RuneCountInString(line)
		if curN > 0 && curN+1+ln > n {
			out = append(out, cur.String())
			cur.Reset()
			curN = 0
		}
		if curN > 0 {
			cur.WriteByte('\n')
			curN++
		}
		cur.WriteString(line)
		curN += ln
	}
	if curN > 0 {
		out = append(out, cur.String())
	}
	return out
}

func (w *Webhook) newRequest(ctx context.Context, method string, body []byte, m *Message) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	target := w.cfg.URL
	if w.cfg.Preset == PresetNtfy && m != nil {
		target = ntfyURL(target, *m)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return nil, fmt.Errorf("digest webhook %s: %w", w.cfg.Preset, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "treatywatch-digest")
	switch {
	case body == nil:
	case w.cfg.Preset == PresetNtfy:
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	default:
		req.Header.Set("Content-Type", "application/json")
	}
	switch w.cfg.Preset {
	case PresetPostmark:
		req.Header.Set("X-Postmark-Server-Token", w.cfg.Token)
	case PresetSendGrid:
		req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
	case PresetGeneric:
		if w.cfg.Token != "" {
			req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
		}
		if m != nil {
			req.Header.Set("Idempotency-Key", m.ID)
		}
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// Send posts m. Status 400 and above is an error; 429 and 503 with
// Retry-After become a *sinks.RetryError.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := w.Body(m)
	if err != nil {
		return err
	}
	req, err := w.newRequest(ctx, http.MethodPost, body, &m)
	if err != nil {
		return err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("digest webhook %s: post %s: %w", w.cfg.Preset, w.safeURL(), redact.URLError(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 400 {
		return nil
	}
	err = fmt.Errorf("digest webhook %s: post %s: status %d: %s", w.cfg.Preset, w.safeURL(), resp.StatusCode,
		strings.TrimSpace(oneLine(string(snippet))))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := fetch.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return &sinks.RetryError{After: d, Err: err}
		}
	}
	return err
}

// Check sends a HEAD request with the credentials: any answer but 401,
// 403 or a 5xx means reachable. Nothing is delivered.
func (w *Webhook) Check(ctx context.Context) error {
	req, err := w.newRequest(ctx, http.MethodHead, nil, nil)
	if err != nil {
		return err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("digest webhook %s: check %s: %w", w.cfg.Preset, w.safeURL(), redact.URLError(err))
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("digest webhook %s: check %s: credentials rejected (status %d)", w.cfg.Preset, w.safeURL(), resp.StatusCode)
	case resp.StatusCode >= 500:
		return fmt.Errorf("digest webhook %s: check %s: status %d", w.cfg.Preset, w.safeURL(), resp.StatusCode)
	}
	return nil
}

// safeURL is the endpoint for messages: without the path of a chat
// preset's URL (its secret) or any query.
func (w *Webhook) safeURL() string {
	if w.chat() {
		if u, err := url.Parse(w.cfg.URL); err == nil {
			return u.Scheme + "://" + u.Host + "/…"
		}
	}
	return redact.URL(w.cfg.URL)
}

var errNoRecipients = errors.New("no recipients")
