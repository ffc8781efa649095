package feed

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/treatywatch/treatywatch/fetch/normalize"
)

// plainText turns an HTML fragment (or plain text with entities) into
// plain text: tags and comments dropped, script, style and template
// content skipped, entities decoded, blocks separated, white space
// collapsed. It reads s once; text without markup or entities is only
// collapsed, and returned as is when already collapsed.
func plainText(s string) string {
	var w normalize.Spacer
	return plainTextIn(&w, s)
}

// plainTextIn is plainText building the text in w's buffer, which it
// resets: one Spacer for all the fields of a feed allocates only the
// results. A result equal to s is s.
func plainTextIn(w *normalize.Spacer, s string) string {
	lt, amp := strings.IndexByte(s, '<'), strings.IndexByte(s, '&')
	if lt < 0 && amp < 0 {
		return w.Collapse(s)
	}
	w.Reset()
	if lt < 0 {
		text(w, s)
		return w.StringFrom(s)
	}
	skip := 0 // depth of skipped elements (template may nest)
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			j = len(s) - i
		}
		if skip == 0 {
			text(w, s[i:i+j])
		}
		i += j
		if i >= len(s) {
			break
		}
		tag, next := scanTag(s, i)
		if tag.kind == notTag {
			if skip == 0 {
				text(w, "<")
			}
			i++
			continue
		}
		i = next
		switch {
		case tag.kind == startTag && (tag.atom == atom.Script || tag.atom == atom.Style):
			// Raw text: everything up to the matching end tag.
			i = rawTextEnd(s, i, tag.name)
		case tag.atom == atom.Template && tag.kind == startTag:
			skip++
		case tag.atom == atom.Template && tag.kind == endTag:
			if skip > 0 {
				skip--
			}
		case skip == 0 && blockTag(tag.atom) && tag.kind != commentTag:
			w.Break()
		}
	}
	return w.StringFrom(s)
}

// text appends s to w, decoding its entities as html.UnescapeString
// does: the common ones here, without copying s, any other with
// html.UnescapeString on the span from its '&' to the next (an entity
// never runs past another '&').
func text(w *normalize.Spacer, s string) {
	for {
		amp := strings.IndexByte(s, '&')
		if amp < 0 {
			w.Words(s)
			return
		}
		w.Words(s[:amp])
		s = s[amp:]
		if r, n := commonEntity(s); n > 0 {
			w.Rune(r)
			s = s[n:]
			continue
		}
		end := strings.IndexByte(s[1:], '&') + 1
		if end == 0 {
			end = len(s)
		}
		w.Words(html.UnescapeString(s[:end]))
		s = s[end:]
	}
}

// commonEntity decodes the character reference at the start of s (which
// starts with '&') when it is a common one: &amp; &lt; &gt; &quot;
// &apos; &nbsp; or a decimal or hexadecimal reference to a character
// that needs no replacement, each closed by ';'. n is 0 for any other.
func commonEntity(s string) (r rune, n int) {
	if len(s) < 4 {
		return 0, 0
	}
	if s[1] != '#' {
		for _, e := range commonNamed {
			if strings.HasPrefix(s[1:], e.name) {
				return e.r, len(e.name) + 1
			}
		}
		return 0, 0
	}
	i, base := 2, rune(10)
	if s[2] == 'x' || s[2] == 'X' {
		i, base = 3, 16
	}
	start := i
	for ; i < len(s) && i-start < 7; i++ {
		d := digitValue(s[i], base)
		if d < 0 {
			break
		}
		r = r*base + d
	}
	if i == start || i >= len(s) || s[i] != ';' ||
		r == 0 || (r >= 0x80 && r <= 0x9F) || (r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF {
		return 0, 0
	}
	return r, i + 1
}

var commonNamed = [...]struct {
	name string
	r    rune
}{{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}, {"nbsp;", '\u00a0'}}

func digitValue(c byte, base rune) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case base == 16 && c|0x20 >= 'a' && c|0x20 <= 'f':
		return rune(c|0x20-'a') + 10
	}
	return -1
}

type tagKind uint8

const (
	notTag tagKind = iota
	startTag
	endTag
	commentTag // comments, doctypes, processing instructions
)

type tagInfo struct {
	kind tagKind
	name string // lower case, start and end tags only
	atom atom.Atom
}

// scanTag reads the markup that starts at s[i] == '<' the way an HTML
// tokenizer does: a tag only when a letter follows "<" or "</", a
// comment for "<!" and "<?", else a literal "<". It returns the index
// after the markup; a tag left open runs to the end of s.
func scanTag(s string, i int) (tagInfo, int) {
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "!--"):
		end := strings.Index(rest[3:], "-->")
		if end < 0 {
			return tagInfo{kind: commentTag}, len(s)
		}
		return tagInfo{kind: commentTag}, i + 1 + 3 + end + 3
	case len(rest) > 0 && (rest[0] == '!' || rest[0] == '?'):
		return tagInfo{kind: commentTag}, closeAngle(s, i+2)
	case len(rest) > 1 && rest[0] == '/' && isLetter(rest[1]):
		name, after := tagName(s, i+2)
		return tagInfo{kind: endTag, name: name, atom: atom.Lookup([]byte(name))}, endOfTag(s, after)
	case len(rest) > 1 && rest[0] == '/' && rest[1] == '>':
		return tagInfo{kind: commentTag}, i + 3 // "</>" is dropped
	case len(rest) > 0 && isLetter(rest[0]):
		name, after := tagName(s, i+1)
		return tagInfo{kind: startTag, name: name, atom: atom.Lookup([]byte(name))}, endOfTag(s, after)
	}
	return tagInfo{kind: notTag}, i + 1
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// tagName reads a tag name from s[i:], lower-cased.
func tagName(s string, i int) (string, int) {
	j := i
	for j < len(s) && s[j] != '>' && s[j] != '/' && !normalize.IsSpace(s[j]) {
		j++
	}
	return strings.ToLower(s[i:j]), j
}

// endOfTag returns the index after the '>' that closes a tag whose
// attributes start at s[i:], skipping quoted attribute values.
func endOfTag(s string, i int) int {
	var quote, last byte // last: the previous byte that is not a space
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '>':
			return i + 1
		case (c == '"' || c == '\'') && last == '=':
			quote = c
		}
		if !normalize.IsSpace(c) {
			last = c
		}
	}
	return len(s)
}

// closeAngle returns the index after the next '>' from s[i:].
func closeAngle(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	if j := strings.IndexByte(s[i:], '>'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// rawTextEnd returns the index after the end tag </name> that closes raw
// text starting at s[i:], or len(s).
func rawTextEnd(s string, i int, name string) int {
	for i < len(s) {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		i += j
		k := i + 2 + len(name)
		if k <= len(s) && strings.EqualFold(s[i+2:k], name) && (k == len(s) || s[k] == '>' || s[k] == '/' || normalize.IsSpace(s[k])) {
			return endOfTag(s, k)
		}
		i += 2
	}
	return len(s)
}

// blockTag reports whether an element separates words.
func blockTag(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Li, atom.Ul, atom.Ol,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Table, atom.Tr, atom.Td, atom.Th, atom.Blockquote,
		atom.Pre, atom.Hr, atom.Dd, atom.Dt, atom.Dl,
		atom.Section, atom.Article, atom.Header, atom.Footer,
		atom.Figure, atom.Figcaption, atom.Img, atom.Aside, atom.Nav:
		return true
	}
	return false
}
