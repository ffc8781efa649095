package fetch

import (
	"fmt"
	"strings"
	"testing"
)

func TestCapItem(t *testing.T) {
	caps := FieldCaps{Title: 10, Summary: 8, Content: 0, Author: 6, URL: 12}
	tests := []struct {
		name string
		in   Item
		want Item
		cut  []string
	}{
		{"under the caps", Item{Title: "short", URL: "https://a.b"}, Item{Title: "short", URL: "https://a.b"}, nil},
		{"title cut with a marker", Item{Title: "abcdefghijkl"}, Item{Title: "abcdefg…", Truncated: []string{"title"}}, []string{"title"}},
		{"no half character", Item{Summary: "ééééé"}, Item{Summary: "éé…", Truncated: []string{"summary"}}, []string{"summary"}},
		{"zero means no cap", Item{Content: strings.Repeat("x", 100)}, Item{Content: strings.Repeat("x", 100)}, nil},
		{"url cut without a marker", Item{URL: "https://example.org/long"}, Item{URL: "https://exam", Truncated: []string{"url"}}, []string{"url"}},
		{"noted once", Item{Author: "Someone Long", Truncated: []string{"author"}}, Item{Author: "Som…", Truncated: []string{"author"}}, []string{"author"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := tc.in
			cut := CapItem(&it, caps)
			if fmt.Sprintf("%+v", it) != fmt.Sprintf("%+v", tc.want) || fmt.Sprint(cut) != fmt.Sprint(tc.cut) {
				t.Errorf("CapItem = %+v, cut %v; want %+v, cut %v", it, cut, tc.want, tc.cut)
			}
		})
	}
}
