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

// boundJSONStrings is boundText for JSON: it returns doc with every string
// literal longer than limit bytes cut to its first limit bytes (at a
// character boundary, never inside an escape sequence), and how many were
// cut. encoding/json would otherwise hold a huge title several times over
// before the field caps apply. doc is returned as is when nothing is cut;
// a document that is not JSON passes through unchanged in its structure.
func boundJSONStrings(doc []byte, limit int) ([]byte, int) {
	var out []byte // allocated at the first cut
	cuts := 0
	last := 0 // doc[last:i] is not yet copied to out
	for i := 0; i < len(doc); i++ {
		if doc[i] != '"' {
			continue
		}
		start := i + 1
		end := jsonStringEnd(doc, start) // index of the closing quote, or len(doc)
		if end-start > limit {
			cut := start + limit
			for cut > start && !utf8.RuneStart(doc[cut]) {
				cut--
			}
			cut = beforeEscape(doc, start, cut)
			if out == nil {
				out = make([]byte, 0, len(doc)-(end-cut))
			}
			out = append(out, doc[last:cut]...)
			last = end // the closing quote (or the end) is copied later
			cuts++
		}
		i = end
	}
	if out == nil {
		return doc, 0
	}
	return append(out, doc[last:]...), cuts
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
