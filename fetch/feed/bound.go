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
// not modified; it is returned as is when nothing is cut.
func boundText(doc []byte, limit int) ([]byte, int) {
	var out []byte // allocated at the first cut
	cuts := 0
	last := 0 // doc[last:i] is not yet copied to out
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
			cut := start + limit
			for cut > start && !utf8.RuneStart(doc[cut]) {
				cut--
			}
			if amp := bytes.LastIndexByte(doc[start:cut], '&'); amp >= 0 && bytes.IndexByte(doc[start+amp:cut], ';') < 0 {
				cut = start + amp // do not leave half an entity
			}
			if out == nil {
				out = make([]byte, 0, len(doc)-(end-cut))
			}
			out = append(out, doc[last:cut]...)
			last = end
			cuts++
		}
		i = max(resume, i+1)
	}
	if out == nil {
		return doc, 0
	}
	return append(out, doc[last:]...), cuts
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
