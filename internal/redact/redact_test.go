package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://a.example/feed?author=5&keywords=x", "https://a.example/feed?author=5&keywords=x"},
		{"http://user:pw@proxy.example:3128", "http://user:***@proxy.example:3128"},
		{"https://a.example/x?token=abc&q=1", "https://a.example/x?q=1&token=***"},
		{"https://user:pass@host/hook?api_key=k1", "https://user:***@host/hook?api_key=***"},
		{"https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/services/***"},
		{"https://discord.com/api/webhooks/123/tok", "https://discord.com/api/webhooks/***"},
		{"https://example.org/hooks", "https://example.org/hooks"},
		{"://not a url", "://not a url"},
	}
	for _, tc := range tests {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	got := Secrets("https://u:p4ss@h/services/T/B/X?sig=abcd&q=1")
	for _, want := range []string{"p4ss", "dTpwNHNz", "abcd", "T/B/X"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("Secrets misses %q: %q", want, got)
		}
	}
}

func TestScrubber(t *testing.T) {
	s := NewScrubber("hunter22", "a<b>&c d", "ab")
	tests := []struct{ in, want string }{
		{"password hunter22!", "password ***!"},
		{"escaped " + url.QueryEscape("a<b>&c d"), "escaped ***"},
		{"short ab stays", "short ab stays"},
	}
	for _, tc := range tests {
		if got := s.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var nilS *Scrubber
	if nilS.String("hunter22") != "hunter22" {
		t.Error("a nil Scrubber changed text")
	}

	// Log handlers see the clean values before they quote or escape
	// them (JSON would write "<" as \u003c, past a writer's reach).
	for _, mk := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(s.Handler(mk(&buf))).With("url", "x?k=a<b>&c d")
		log.Info("failed hunter22", "err", errors.New("dial a<b>&c d"), slog.Group("g", "v", "hunter22"))
		if out := buf.String(); strings.Contains(out, "hunter22") || strings.Contains(out, "c d") || strings.Contains(out, `\u003cb`) {
			t.Errorf("log shows a secret: %s", out)
		}
	}

	var buf bytes.Buffer
	w := s.Writer(&buf)
	if Of(w) != s || Of(&buf) != nil {
		t.Error("Of does not find the writer's scrubber")
	}
	w.Write([]byte("token hunter22\n"))
	if buf.String() != "token ***\n" {
		t.Errorf("writer wrote %q", buf.String())
	}
}
