package opml

import (
	"strings"
	"testing"
)

func TestSourceID(t *testing.T) {
	taken := map[string]bool{"eff": true}
	tests := []struct{ in, want string }{
		{"EFF Deeplinks", "eff-deeplinks"},
		{"  Le Monde — Cybercriminalité ", "le-monde-cybercriminalite"},
		{"UN News: Law & Crime Prevention", "un-news-law-crime-prevention"},
		{"...hidden", "hidden"},
		{"site.example_feed", "site.example_feed"},
		{"ТАСС", ""},
		{strings.Repeat("long title ", 10), "long-title-long-title-long-title-long-title-long-title-long-titl"},
	}
	for _, tt := range tests {
		if got := SourceID(tt.in); got != tt.want {
			t.Errorf("SourceID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := UniqueID("eff", taken); got != "eff-2" {
		t.Errorf("UniqueID = %q", got)
	}
	long := strings.Repeat("a", 64)
	taken[long] = true
	if got := UniqueID(long, taken); len(got) > 64 || got != strings.Repeat("a", 62)+"-2" {
		t.Errorf("UniqueID(long) = %q", got)
	}
}
