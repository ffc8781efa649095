package config

import (
	"strings"
	"testing"
)

// A huge bad value is quoted in part: the message names the line and the
// field and says how long the value was, but is not the value itself.
func TestLongValuesAreNotEchoedWhole(t *testing.T) {
	huge := strings.Repeat("x", 5<<20)
	tests := []struct {
		name, yaml, want string
	}{
		{"bad url", "sources:\n  - id: a\n    url: \"ftp://" + huge + "\"\n", "config.yaml:3: sources[0].url"},
		{"bad schedule", "sources:\n  - id: a\n    url: https://example.org/feed\n    schedule: \"" + huge + "\"\n", "config.yaml:4: sources[0].schedule"},
		{"wrong type", "sources:\n  - id: a\n    url: https://example.org/feed\n    min_words: " + huge + "\n", "config.yaml:4"},
		{"bad id", "sources:\n  - id: \"" + huge + "\"\n    url: https://example.org/feed\n", "config.yaml:2"},
		{"unknown sink type", "sources:\n  - id: a\n    url: https://example.org/feed\nsinks:\n  - name: s\n    type: \"" + huge + "\"\n", "config.yaml:6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("config.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("Parse accepted the config")
			}
			msg := err.Error()
			if len(msg) > 4096 {
				t.Errorf("message is %d bytes, want at most 4096: %.300s", len(msg), msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %.400q does not name %q", msg, tc.want)
			}
		})
	}
}
