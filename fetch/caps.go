package fetch

import (
	"slices"
	"unicode/utf8"
)

// FieldCaps bound the fields of an item after cleaning, in bytes. A
// longer value is cut at a character boundary (text fields end in "…")
// and the field is named in Item.Truncated. Zero means no cap.
type FieldCaps struct {
	Title, Summary, Content, Author, URL int
}

// Default field caps: a headline is never a kilobyte, an article's text
// rarely 256 KiB; the rest is noise or an attack on memory.
const (
	DefaultCapTitle   = 1 << 10
	DefaultCapSummary = 16 << 10
	DefaultCapContent = 256 << 10
	DefaultCapAuthor  = 512
	DefaultCapURL     = 4 << 10
)

// DefaultFieldCaps returns the default caps.
func DefaultFieldCaps() FieldCaps {
	return FieldCaps{Title: DefaultCapTitle, Summary: DefaultCapSummary, Content: DefaultCapContent,
		Author: DefaultCapAuthor, URL: DefaultCapURL}
}

// CapItem cuts it's fields to caps and returns the names of the fields it
// cut this time ("title", "summary", "content", "author", "url"), which it
// also adds to it.Truncated.
func CapItem(it *Item, caps FieldCaps) []string {
	var cut []string
	for _, f := range []struct {
		name   string
		v      *string
		limit  int
		marker bool
	}{
		{"title", &it.Title, caps.Title, true},
		{"summary", &it.Summary, caps.Summary, true},
		{"content", &it.Content, caps.Content, true},
		{"author", &it.Author, caps.Author, true},
		{"url", &it.URL, caps.URL, false},
	} {
		if f.limit <= 0 || len(*f.v) <= f.limit {
			continue
		}
		*f.v = truncate(*f.v, f.limit, f.marker)
		cut = append(cut, f.name)
		if !slices.Contains(it.Truncated, f.name) {
			it.Truncated = append(it.Truncated, f.name)
		}
	}
	return cut
}

// truncate cuts s to at most limit bytes at a character boundary, ending
// in "…" when marker is set. The result does not share s's memory, so a
// huge original can be collected.
func truncate(s string, limit int, marker bool) string {
	const ellipsis = "…"
	keep := limit
	if marker && limit > len(ellipsis) {
		keep = limit - len(ellipsis)
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	b := make([]byte, 0, limit)
	b = append(b, s[:keep]...)
	if marker && limit > len(ellipsis) {
		b = append(b, ellipsis...)
	}
	return string(b)
}
