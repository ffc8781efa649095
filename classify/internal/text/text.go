// Package text normalises and tokenises text for the classifier: Unicode
// NFKC, case folding, Latin diacritics removed, words split on anything
// that is not a letter or a digit, with sentence, clause and quote marks
// kept so the rules can reason about where a word stands.
package text

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Token flags.
const (
	// InQuote: the token is inside quotation marks.
	InQuote uint8 = 1 << iota
	// ClauseStart: a clause boundary (comma, semicolon, colon, dash,
	// bracket) comes right before the token.
	ClauseStart
)

// Token is one word of a text: its byte span in the (normalised) text,
// the index of its sentence and clause, and flags.
type Token struct {
	Start, End int32
	Sent       int32
	Clause     int32
	Flags      uint8
}

// Folder maps runes to their folded form. It is built once and is safe
// for concurrent use.
type Folder struct {
	latin [0x250]rune
}

// NewFolder builds the folding table: lower case, and Latin letters with
// diacritics mapped to their base letter (é→e, ñ→n, ï→i); Cyrillic ё→е.
func NewFolder() *Folder {
	f := &Folder{}
	for r := rune(0); r < 0x250; r++ {
		l := unicode.ToLower(r)
		f.latin[r] = l
		if l >= 0x80 && l < 0x250 {
			d := norm.NFD.String(string(l))
			if b, _ := utf8.DecodeRuneInString(d); b < 0x80 && unicode.IsLetter(b) {
				f.latin[r] = b
			}
		}
	}
	return f
}

// Fold returns the folded form of r.
func (f *Folder) Fold(r rune) rune {
	if r < 0x250 {
		return f.latin[r]
	}
	r = unicode.ToLower(r)
	if r == 'ё' {
		return 'е'
	}
	return r
}

// NFKC returns s in normalisation form KC; ASCII and already normal text
// is returned as is, without allocating.
func NFKC(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			if norm.NFKC.IsNormalString(s[i:]) {
				return s
			}
			return norm.NFKC.String(s)
		}
	}
	return s
}

// asciiWord: the byte is an ASCII letter or digit.
var asciiWord = func() (t [256]bool) {
	for c := 0; c < 128; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	return t
}()

// Scanner splits a text into tokens. The zero value is not usable; make
// one with NewScanner. A Scanner is not safe for concurrent use (it keeps
// a buffer); make one per goroutine, they are cheap.
type Scanner struct {
	f      *Folder
	buf    []byte
	nbuf   []byte
	noStem bool
}

// NewScanner returns a scanner that folds with f and stems Russian words
// lightly (see stemRU).
func NewScanner(f *Folder) *Scanner { return &Scanner{f: f, buf: make([]byte, 0, 64)} }

// Scan calls fn for every word of s with the folded word (NFKC, lower
// case, Latin diacritics removed) and its token; the word slice is only
// valid during the call. Token offsets are offsets into s.
func (z *Scanner) Scan(s string, fn func(word []byte, t Token)) {
	var (
		sent, clause int32
		inQuote      bool
		clauseNext   = true
		prevLen      int // folded length of the previous word, for "U.S."
		start        = -1
	)
	buf := z.buf[:0]
	nonASCII := false
	flush := func(end int) {
		if start < 0 {
			return
		}
		if nonASCII {
			// compatibility forms inside a word (full-width letters,
			// ligatures): NFKC per word, so plain text pays nothing
			if !norm.NFKC.IsNormal(buf) {
				z.nbuf = norm.NFKC.Append(z.nbuf[:0], buf...)
				buf = buf[:0]
				for _, r := range string(z.nbuf) {
					buf = utf8.AppendRune(buf, z.f.Fold(r))
				}
			}
			if !z.noStem {
				buf = stemRU(buf)
			}
			nonASCII = false
		}
		fn(buf, Token{Start: int32(start), End: int32(end), Sent: sent, Clause: clause, Flags: tokenFlags(inQuote, &clauseNext)})
		prevLen = len(buf)
		buf = buf[:0]
		start = -1
	}
	newClause := func() {
		clause++
		clauseNext = true
	}
	newSentence := func() {
		sent++
		newClause()
	}
	i := 0
	for i < len(s) {
		c := s[i]
		if c < 0x80 {
			if asciiWord[c] {
				if start < 0 {
					start = i
				}
				// the whole run of ASCII letters and digits at once; the
				// lower case of an ASCII letter or digit is c | 0x20
				if i+8 <= len(s) {
					// most words fit in 8 bytes: find where the run
					// ends and copy it without a branch per byte
					x := load8(s[i : i+8])
					n := asciiRun8(x)
					if cap(buf)-len(buf) < 8 {
						buf = append(buf, make([]byte, 8)...)[:len(buf)]
					}
					binary.LittleEndian.PutUint64(buf[len(buf):len(buf)+8], x|0x2020202020202020)
					buf = buf[:len(buf)+n]
					i += n
				} else {
					buf = append(buf, c|0x20)
					i++
				}
				for ; i < len(s) && asciiWord[s[i]]; i++ {
					buf = append(buf, s[i]|0x20)
				}
				if !nonASCII && (i == len(s) || s[i] < 0x80) {
					// an ASCII word that ends here: what flush does,
					// without its call
					fn(buf, Token{Start: int32(start), End: int32(i), Sent: sent, Clause: clause, Flags: tokenFlags(inQuote, &clauseNext)})
					prevLen = len(buf)
					buf = buf[:0]
					start = -1
				}
				continue
			}
			if start >= 0 {
				flush(i)
			}
			if c == ' ' {
				i++
				continue
			}
			if c == '<' {
				// HTML markup in feed content: skip the tag; block tags
				// end a sentence, inline tags only separate words
				if n, block := htmlTag(s[i:]); n > 0 {
					if block {
						newSentence()
						inQuote = false
					}
					i += n
					continue
				}
			}
			switch c {
			case '.', '!', '?':
				// End of sentence when followed by a space or the end,
				// unless the word before is a single letter ("U.S.").
				if i+1 >= len(s) || endsSentence(s[i+1:]) {
					if c != '.' || prevLen != 1 {
						newSentence()
					}
				}
			case '\n':
				newSentence()
				inQuote = false
			case ',', ';', ':', '(', ')', '[', ']':
				newClause()
			case '"':
				inQuote = !inQuote
				newClause()
			case '-':
				if i+1 < len(s) && s[i+1] == ' ' && i > 0 && s[i-1] == ' ' {
					newClause()
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
			nonASCII = true
			buf = utf8.AppendRune(buf, z.f.Fold(r))
		case unicode.Is(unicode.Mn, r):
			// combining mark inside a word: dropped (diacritic)
			if start < 0 {
				flush(i)
			}
		default:
			flush(i)
			switch r {
			case '“', '«', '„':
				inQuote = true
				newClause()
			case '”', '»':
				inQuote = false
				newClause()
			case '–', '—', '…':
				newClause()
			case '。', '！', '？':
				newSentence()
			case '\u2028', '\u2029':
				newSentence()
				inQuote = false
			}
		}
		i += size
	}
	flush(len(s))
	z.buf = buf
}

// load8 reads the 8 bytes of s little endian (one load).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// asciiRun8 is how many of the 8 bytes of x (little endian: the first
// byte lowest) from the first on are ASCII letters or digits (0 to 8).
func asciiRun8(x uint64) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// on 7-bit bytes, v+(0x80-lo) has its top bit set when v >= lo and
	// v+(0x7f-hi) when v > hi; no sum carries into the next byte
	low := x &^ highs
	l := low | 0x2020202020202020 // letters in lower case, digits as they are
	alpha := (l + (0x80-'a')*ones) &^ (l + (0x7f-'z')*ones)
	digit := (low + (0x80-'0')*ones) &^ (low + (0x7f-'9')*ones)
	word := (alpha | digit) &^ x & highs // and not a byte >= 0x80
	return bits.TrailingZeros64(^word&highs) / 8
}

// tokenFlags are the flags of a word that ends now; the first word of a
// clause takes its ClauseStart.
func tokenFlags(inQuote bool, clauseNext *bool) uint8 {
	var fl uint8
	if inQuote {
		fl |= InQuote
	}
	if *clauseNext {
		fl |= ClauseStart
		*clauseNext = false
	}
	return fl
}

// Words returns the words of s as the scanner gives them (NFKC, folded,
// Russian stemmed). It allocates; it is meant for rule terms, not for
// item text.
func Words(f *Folder, s string) []string { return NewScanner(f).AppendWords(nil, s) }

// RawWords is Words without stemming: for the last word of a prefix term
// ("ратифик*"), which is already a stem of the writer's choosing.
func RawWords(f *Folder, s string) []string { return NewRawScanner(f).AppendWords(nil, s) }

// NewRawScanner returns a scanner that does not stem (see RawWords).
func NewRawScanner(f *Folder) *Scanner {
	z := NewScanner(f)
	z.noStem = true
	return z
}

// AppendWords appends the words of s to dst as Words (or, from a raw
// scanner, RawWords) gives them, with the scanner's buffer: many terms
// cost one scanner.
func (z *Scanner) AppendWords(dst []string, s string) []string {
	z.Scan(NFKC(s), func(w []byte, _ Token) { dst = append(dst, string(w)) })
	return dst
}

// htmlTag returns the length of the HTML tag (or comment) at the start of
// s, 0 when s does not start with one, and whether it is a block element.
func htmlTag(s string) (n int, block bool) {
	if len(s) < 3 {
		return 0, false
	}
	c := s[1]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!') {
		return 0, false
	}
	const maxTag = 4096
	end := -1
	for j := 1; j < len(s) && j < maxTag; j++ {
		if s[j] == '>' {
			end = j
			break
		}
		if s[j] == '<' {
			return 0, false
		}
	}
	if end < 0 {
		return 0, false
	}
	name := s[1:end]
	if name != "" && name[0] == '/' {
		name = name[1:]
	}
	k := 0
	for k < len(name) && (name[k] >= 'a' && name[k] <= 'z' || name[k] >= 'A' && name[k] <= 'Z' || name[k] >= '0' && name[k] <= '9') {
		k++
	}
	switch lowerASCII(name[:k]) {
	case "p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table",
		"blockquote", "section", "article", "header", "footer", "figure", "figcaption", "pre", "hr", "dd", "dt":
		block = true
	}
	return end + 1, block
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// endsSentence says whether what follows a full stop ends the sentence:
// a space, or a closing quote or bracket and then a space.
func endsSentence(s string) bool {
	switch s[0] {
	case ' ', '\n', '\t', '\r':
		return true
	case '"', ')':
		return len(s) == 1 || s[1] == ' ' || s[1] == '\n'
	}
	for _, q := range []string{"”", "»", "’"} {
		if len(s) >= len(q) && s[:len(q)] == q {
			r := s[len(q):]
			return r == "" || r[0] == ' ' || r[0] == '\n'
		}
	}
	return false
}
