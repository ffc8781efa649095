package feed

import (
	"bytes"
	"unicode/utf8"
)

// maxTextRun is the most bytes of character data (text, CDATA or a
// comment) one XML node keeps before parsing. The fields made of it are
// capped far lower after cleaning (fetch.DefaultFieldCaps); this bound
// only keeps the XML decoder from copying a huge node several times: a
// 9 MB title otherwise costs ten times that in memory.
const maxTextRun = 1 << 20

// boundText returns doc with every run of character data longer than limit
// bytes cut to its first limit bytes (at a character boundary, before any
// cut entity), and how many runs were cut. Markup is left alone. doc is
// not modified; it is returned as is when nothing is cut, without a look
// when it is no longer than limit.
func boundText(doc []byte, limit int) ([]byte, int) {
	if len(doc) <= limit {
		return doc, 0
	}
	c := cutter{doc: doc}
	i := 0
	for i < len(doc) {
		// Find the next run of character data: [start, end).
		var start, end, resume int
		switch {
		case bytes.HasPrefix(doc[i:], []byte("<![CDATA[")):
			start = i + len("<![CDATA[")
			end = indexFrom(doc, start, "]]>")
			resume = end
		case bytes.HasPrefix(doc[i:], []byte("<!--")):
			start = i + len("<!--")
			end = indexFrom(doc, start, "-->")
			resume = end
		case doc[i] == '<':
			// A tag: skip to its '>', minding quoted attribute values.
			i = tagEnd(doc, i+1)
			continue
		default:
			start = i
			end = indexFrom(doc, start, "<")
			resume = end
		}
		if end-start > limit {
			cut := runeStartAtOrBefore(doc, start, start+limit)
			if amp := bytes.LastIndexByte(doc[start:cut], '&'); amp >= 0 && bytes.IndexByte(doc[start+amp:cut], ';') < 0 {
				cut = start + amp // do not leave half an entity
			}
			c.drop(cut, end)
		}
		i = max(resume, i+1)
	}
	return c.result()
}

// cutter copies a document with spans dropped from it, allocating only at
// the first drop.
type cutter struct {
	doc  []byte
	out  []byte
	last int // doc[last:] is not yet copied to out
	cuts int
}

// drop leaves doc[from:to] out; spans come in document order.
func (c *cutter) drop(from, to int) {
	if c.out == nil {
		c.out = make([]byte, 0, len(c.doc)-(to-from))
	}
	c.out = append(c.out, c.doc[c.last:from]...)
	c.last = to
	c.cuts++
}

// result is the document without the dropped spans (doc itself when
// nothing was dropped) and how many spans were dropped.
func (c *cutter) result() ([]byte, int) {
	if c.out == nil {
		return c.doc, 0
	}
	return append(c.out, c.doc[c.last:]...), c.cuts
}

// runeStartAtOrBefore moves i back to the start of the UTF-8 character it
// falls in, but not before lo.
func runeStartAtOrBefore(doc []byte, lo, i int) int {
	for i > lo && !utf8.RuneStart(doc[i]) {
		i--
	}
	return i
}

// indexFrom is the index of sep in doc at or after from, or len(doc).
func indexFrom(doc []byte, from int, sep string) int {
	if j := bytes.Index(doc[from:], []byte(sep)); j >= 0 {
		return from + j
	}
	return len(doc)
}

// tagEnd is the index just after the '>' closing the tag whose name
// starts at i, or len(doc).
func tagEnd(doc []byte, i int) int {
	var quote byte
	for ; i < len(doc); i++ {
		c := doc[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(doc)
}

// boundJSONStrings is boundText for JSON: it returns doc with every string
// literal longer than limit bytes cut to its first limit bytes (at a
// character boundary, never inside an escape sequence), and how many were
// cut. encoding/json would otherwise hold a huge title several times over
// before the field caps apply. doc is returned as is when nothing is cut;
// a document that is not JSON passes through unchanged in its structure.
func boundJSONStrings(doc []byte, limit int) ([]byte, int) {
	if len(doc) <= limit {
		return doc, 0 // no string in it can be longer
	}
	c := cutter{doc: doc}
	for i := 0; i < len(doc); i++ {
		if doc[i] != '"' {
			continue
		}
		start := i + 1
		end := jsonStringEnd(doc, start) // index of the closing quote, or len(doc)
		if end-start > limit {
			cut := beforeEscape(doc, start, runeStartAtOrBefore(doc, start, start+limit))
			c.drop(cut, end) // the closing quote (or the end) stays
		}
		i = end
	}
	return c.result()
}

// jsonStringEnd is the index of the quote closing the JSON string whose
// contents start at i, or len(doc) when it never closes.
func jsonStringEnd(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case '\\':
			i += 2
		case '"':
			return i
		default:
			i++
		}
	}
	return len(doc)
}

// beforeEscape moves cut back to the start of an escape sequence that it
// would split (\" or \uXXXX), so the cut string stays valid JSON.
func beforeEscape(doc []byte, start, cut int) int {
	// An escape is at most 6 bytes (\uXXXX); look at the last 6.
	for j := cut - 1; j >= start && j >= cut-6; j-- {
		if doc[j] != '\\' {
			continue
		}
		// Count the run of backslashes ending at j: an odd run means
		// doc[j] starts an escape.
		k := j
		for k > start && doc[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 1 {
			continue // doc[j] is itself escaped: "\\"
		}
		width := 2
		if j+1 < len(doc) && doc[j+1] == 'u' {
			width = 6
		}
		if j+width > cut {
			return j
		}
		return cut
	}
	return cut
}
