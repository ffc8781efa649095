package extract

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// inline are the elements that do not break a line when rendered.
var inline = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true,
	"code": true, "data": true, "del": true, "dfn": true, "em": true, "font": true,
	"i": true, "ins": true, "kbd": true, "label": true, "mark": true, "q": true,
	"s": true, "samp": true, "small": true, "span": true, "strike": true,
	"strong": true, "sub": true, "sup": true, "time": true, "tt": true, "u": true,
	"var": true, "wbr": true,
}

// renderText turns the extracted content tree into plain text: block
// elements become paragraphs separated by a blank line, <br> a line break,
// table cells are separated by spaces. Runs of white space within a line
// collapse to one space.
func renderText(n *html.Node) string {
	var r textRenderer
	r.walk(n)
	return r.String()
}

type textRenderer struct {
	b strings.Builder
	// pending is the separator owed before the next text: 0 none, 1 space,
	// 2 line break, 3 paragraph break.
	pending int
}

func (r *textRenderer) need(sep int) {
	r.pending = max(r.pending, sep)
}

func (r *textRenderer) text(s string) {
	if first, _ := utf8.DecodeRuneInString(s); isSpace(first) {
		r.need(1)
	}
	for i, f := range strings.FieldsFunc(s, isSpace) {
		if i > 0 {
			r.need(1)
		}
		if r.b.Len() > 0 {
			switch r.pending {
			case 1:
				r.b.WriteByte(' ')
			case 2:
				r.b.WriteByte('\n')
			case 3:
				r.b.WriteString("\n\n")
			}
		}
		r.pending = 0
		r.b.WriteString(f)
	}
	if last, _ := utf8.DecodeLastRuneInString(s); isSpace(last) {
		r.need(1)
	}
}

func (r *textRenderer) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.ElementNode:
		switch n.Data {
		case "script", "style", "noscript", "template":
			return
		case "br":
			r.need(2)
			return
		case "hr":
			r.need(3)
			return
		case "img", "input":
			r.need(1)
			return
		}
	}
	sep := 0
	if n.Type == html.ElementNode {
		switch {
		case inline[n.Data]:
			// The extractor trims the text around inline elements, so
			// the space that separated them is gone: put one back.
			sep = 1
		case n.Data == "td" || n.Data == "th":
			sep = 1
		case n.Data == "tr" || n.Data == "li" || n.Data == "dt" || n.Data == "dd":
			sep = 2
		default:
			sep = 3
		}
	}
	r.need(sep)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.walk(c)
	}
	r.need(sep)
}

func (r *textRenderer) String() string { return r.b.String() }

func isSpace(c rune) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\u00a0':
		return true
	}
	return false
}

// dropLeadingTitle removes the first paragraph of text when it is the
// page's title (or most of it: titles often carry the site's name too).
// The title is returned separately; repeated in the body it only adds
// noise.
func dropLeadingTitle(text, title string) string {
	first, rest, ok := strings.Cut(text, "\n\n")
	if !ok || title == "" {
		return text
	}
	f, t := normalizeSpace(first), normalizeSpace(title)
	if f != "" && strings.Contains(t, f) && 2*len(f) >= len(t) {
		return rest
	}
	return text
}

// normalizeSpace lowercases s and collapses its white space.
func normalizeSpace(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(s, isSpace), " "))
}
