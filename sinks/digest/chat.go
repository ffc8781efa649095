package digest

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Discord limits (execute webhook): content at most 2,000 characters;
// an embed's title 256 and description 4,096, at most 6,000 characters
// over all embeds of a message.
const (
	discordContentMax = 2000
	discordTitleMax   = 256
	discordDescMax    = 4096
)

type discordEmbed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

type discordMessage struct {
	Content string         `json:"content"`
	Embeds  []discordEmbed `json:"embeds"`
	// AllowedMentions keeps "@everyone" in a headline from pinging.
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

// discordBody puts the subject in the content and the plain-text digest
// in one embed, within Discord's character limits.
func discordBody(m Message) discordMessage {
	msg := discordMessage{
		Content: truncate(m.Subject, discordContentMax),
		Embeds: []discordEmbed{{
			Title:       truncate(m.Subject, discordTitleMax),
			Description: truncateMarked(strings.TrimSpace(m.Text), discordDescMax),
		}},
	}
	msg.AllowedMentions.Parse = []string{}
	return msg
}

// truncateMarked cuts s to at most n characters, ending in the marker
// sinks use for a cut field.
func truncateMarked(s string, n int) string {
	const marker = "… [truncated]"
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-utf8.RuneCountInString(marker)]) + marker
}

type teamsText struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Wrap   bool   `json:"wrap"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
}

type teamsCard struct {
	Schema  string      `json:"$schema"`
	Type    string      `json:"type"`
	Version string      `json:"version"`
	Body    []teamsText `json:"body"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	Content     teamsCard `json:"content"`
}

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

// teamsBody is an Adaptive Card message, the format Teams incoming
// webhooks and workflow webhooks both take: the subject as a heading and
// the plain-text digest below it.
func teamsBody(m Message) teamsMessage {
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: teamsCard{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body: []teamsText{
					{Type: "TextBlock", Text: m.Subject, Wrap: true, Weight: "Bolder", Size: "Medium"},
					{Type: "TextBlock", Text: strings.TrimSpace(m.Text), Wrap: true},
				},
			},
		}},
	}
}

// ntfyText is the body of an ntfy message: the plain-text digest.
func ntfyText(m Message) string {
	if t := strings.TrimSpace(m.Text); t != "" {
		return t
	}
	return m.Subject
}

// ntfyURL adds the subject as the message title (ntfy's "title" query
// parameter, which unlike a header carries any UTF-8).
func ntfyURL(raw string, m Message) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("title", m.Subject)
	q.Set("tags", "newspaper")
	u.RawQuery = q.Encode()
	return u.String()
}
