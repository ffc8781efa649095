package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://Example.ORG", "http://example.org/"},
		{"https://example.org:443/a#frag", "https://example.org/a"},
		{"http://example.org:8080/a", "http://example.org:8080/a"},
		{"https://example.org/a?utm_source=x&id=3&utm_medium=y&fbclid=z", "https://example.org/a?id=3"},
		{"https://example.org/a?utm_source=x", "https://example.org/a"},
		{"http://keating.house.gov/index.php?option=com_content&view=article&id=314:keating&catid=14", "http://keating.house.gov/index.php?option=com_content&view=article&id=314:keating&catid=14"},
		{"https://example.org/Case/Path?B=2&a=1", "https://example.org/Case/Path?B=2&a=1"},
		// Every click id, whichever fetcher met it first.
		{"https://example.org/a?gbraid=1&wbraid=2&yclid=3&id=4&UTM_Campaign=x&_hsenc=y", "https://example.org/a?id=4"},
		{"https://example.org/a?utm%5Fsource=x&b=1", "https://example.org/a?b=1"},
		{"https://www.google.com/url?rct=j&url=https://News.example.org/story%3Futm_source%3Dalert&ct=ga", "https://news.example.org/story"},
		{"  https://example.org/a\n/b  ", "https://example.org/a/b"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err == nil {
			if got := CanonicalURL(u); got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		}
		if got := Canonical(tt.in); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Canonical(Canonical(tt.in)); got != tt.want {
			t.Errorf("Canonical is not idempotent on %q: %q", tt.in, got)
		}
	}
}

func TestLink(t *testing.T) {
	base, _ := url.Parse("https://example.org/feeds/rss.xml")
	tests := []struct{ in, want string }{
		{"/news/one?utm_source=rss&id=7&fbclid=abc", "https://example.org/news/one?id=7"},
		{"https://Example.org/news/two#part", "https://example.org/news/two#part"},
		{"a/b", "https://example.org/feeds/a/b"},
		{"mailto:press@example.org", "mailto:press@example.org"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Link(tt.in, base); got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name                       string
		guid, link, title, summary string
		want                       string
	}{
		{"opaque guid", " tag:example.org,2025:1 ", "https://example.org/a", "T", "S", "tag:example.org,2025:1"},
		{"permalink guid", "https://Example.org/a?utm_source=rss#x", "https://example.org/b", "T", "S", "https://example.org/a"},
		{"link", "", "https://example.org:443/a?gclid=1#top", "T", "S", "https://example.org/a"},
		{"text", "", "", "T", "S", ContentKey("T", "S")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.guid, tt.link, tt.title, tt.summary); got != tt.want {
				t.Errorf("Key = %q, want %q", got, tt.want)
			}
		})
	}
	sum := sha256.Sum256([]byte("T\x00S"))
	if ContentKey("T", "S") != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("ContentKey = %q", ContentKey("T", "S"))
	}
	if a, b := Distinct("k", "https://example.org/a", "T", "S"), Distinct("k", "https://example.org/a", "T", "S2"); a == b || a[:2] != "k#" {
		t.Errorf("Distinct gives %q and %q", a, b)
	}
}

func TestCollapse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Hello world", "Hello world"},
		{"  Hello \t\n world  ", "Hello world"},
		{"no\u00a0break\u2003em", "no break em"},
		{"\u00a0", ""},
	}
	var w Spacer // shared: each Collapse starts from a used buffer
	w.Words("left over ")
	for _, tt := range tests {
		if got := Collapse(tt.in); got != tt.want {
			t.Errorf("Collapse(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := w.Collapse(tt.in); got != tt.want {
			t.Errorf("Spacer.Collapse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpacerStringFrom(t *testing.T) {
	var w Spacer
	w.Words("  a  b ")
	w.Break()
	if got := w.StringFrom("a b"); got != "a b" {
		t.Errorf("StringFrom = %q, want %q", got, "a b")
	}
	w.Reset()
	if got := w.StringFrom("x"); got != "" {
		t.Errorf("after Reset StringFrom = %q, want empty", got)
	}
	w.Words("c")
	if got := w.String(); got != "c" {
		t.Errorf("after Reset and Words = %q, want %q (no space owed from before)", got, "c")
	}
	// The result must not share the buffer: writing on must not change it.
	w.Reset()
	w.Words("one")
	one := w.StringFrom("two")
	w.Reset()
	w.Words("six")
	if one != "one" {
		t.Errorf("a result changed with the buffer: %q", one)
	}
}

// oldFeedHash is how earlier versions keyed a feed item with neither GUID
// nor link.
func oldFeedHash(title, summary string) string {
	sum := sha256.Sum256([]byte(title + "\n" + summary))
	return hex.EncodeToString(sum[:])
}

func TestRekey(t *testing.T) {
	it := Stored{URL: "https://example.org/news/two#part", Title: "T", Summary: "S"}
	dup := Distinct("https://example.org/news/two", it.URL, it.Title, it.Summary)
	oldDup := "https://example.org/news/two#part#" + dup[len(dup)-12:]
	tests := []struct {
		name string
		key  string
		it   Stored
		want string
	}{
		{"feed link with fragment", "https://example.org/news/two#part", it, "https://example.org/news/two"},
		{"permalink guid with a click id", "https://example.org/a?id=1&yclid=9", Stored{}, "https://example.org/a?id=1"},
		{"old feed hash", oldFeedHash("T", "S"), it, ContentKey("T", "S")},
		{"repeated guid told apart", oldDup, it, dup},
		{"current keys stay", "https://example.org/a", Stored{}, "https://example.org/a"},
		{"current hash stays", ContentKey("T", "S"), it, ContentKey("T", "S")},
		{"opaque guid stays", "guid-1", it, "guid-1"},
		{"treaty event stays", "treaty:france:ratification", it, "treaty:france:ratification"},
		{"hash of other text stays", oldFeedHash("T", "S"), Stored{Title: "T cut"}, oldFeedHash("T", "S")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := Rekey(tt.key, tt.it)
			if got != tt.want || changed != (tt.want != tt.key) {
				t.Errorf("Rekey(%q) = %q %v, want %q", tt.key, got, changed, tt.want)
			}
		})
	}
}

// FuzzCollapse checks Collapse and Spacer.Words against strings.Fields,
// which splits at the same white space (unicode.IsSpace).
func FuzzCollapse(f *testing.F) {
	for _, s := range []string{"", " a  b ", "a\u00a0b\u0085c\u1680d\u2000e\u200af\u2028g\u2029h\u202fi\u205fj\u3000k",
		"\xc2 \xe2\x80 \xe3\x80\x80x\xe2\x81\x9f", "Конвенция\tООН\n", "\xff\xfe a \xc2\xa0\xc2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.Join(strings.Fields(s), " ")
		if got := Collapse(s); got != want {
			t.Fatalf("Collapse(%q) = %q, want %q", s, got, want)
		}
		mid := len(s) / 2 // at a character's start: the halves hold the same characters
		for mid > 0 && !utf8.RuneStart(s[mid]) {
			mid--
		}
		var w Spacer
		w.Words(s[:mid])
		w.Words(s[mid:])
		if got := w.String(); got != want {
			t.Fatalf("Words in two halves of %q = %q, want %q", s, got, want)
		}
	})
}
