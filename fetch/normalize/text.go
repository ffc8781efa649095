package normalize

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Collapse trims s and folds every run of white space (Unicode spaces,
// no-break spaces included) into one ASCII space, in one pass; s comes
// back as is when there is nothing to fold.
func Collapse(s string) string {
	if collapsed(s) {
		return s
	}
	w := Spacer{buf: make([]byte, 0, len(s))}
	w.Words(s)
	return w.String()
}

// collapsed reports whether s has no white space but single ASCII
// spaces between words.
func collapsed(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prev := byte(0)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				return false
			}
			prev = 'x'
			i += n
			continue
		}
		if (c == ' ' && prev == ' ') || (c != ' ' && IsSpace(c)) {
			return false
		}
		prev = c
		i++
	}
	return true
}

// Spacer collects text with every run of white space folded into one
// space, and none at either end. The zero value is ready to use.
type Spacer struct {
	buf     []byte
	pending bool // a space is owed before the next word
}

// Words appends s, every run of white space in it folded as the Spacer
// folds it.
func (w *Spacer) Words(s string) {
	for i := 0; i < len(s); {
		switch spaceClass[s[i]] {
		case asciiSpaceByte:
			w.Break()
			i++
			continue
		case maybeSpaceStart:
			if r, n := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
				w.Break()
				i += n
				continue
			}
		}
		// Words up to the next space other than one ' ' between two words
		// (written as it is): one append for a run of plain text.
		j := i + 1
		for j < len(s) {
			switch spaceClass[s[j]] {
			case wordByte:
				j++
				continue
			case maybeSpaceStart:
				if r, _ := utf8.DecodeRuneInString(s[j:]); !unicode.IsSpace(r) {
					j++
					continue
				}
			case asciiSpaceByte:
				if s[j] == ' ' && j+1 < len(s) && spaceClass[s[j+1]] == wordByte {
					j += 2
					continue
				}
			}
			break
		}
		if w.pending {
			w.buf = append(w.buf, ' ')
			w.pending = false
		}
		w.buf = append(w.buf, s[i:j]...)
		i = j
	}
}

// Classes of bytes for Words.
const (
	wordByte        = iota // no white space starts with it
	asciiSpaceByte         // an ASCII space
	maybeSpaceStart        // starts the UTF-8 of a character that may be white space
)

// spaceClass classes every byte. The white space beyond ASCII (U+0085,
// U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000)
// starts with 0xC2, 0xE1, 0xE2 or 0xE3; no other byte, continuation
// bytes included, can start one, so a word is scanned a byte at a time
// and only those bytes are decoded.
var spaceClass = [256]uint8{
	'\t': asciiSpaceByte, '\n': asciiSpaceByte, '\v': asciiSpaceByte, '\f': asciiSpaceByte, '\r': asciiSpaceByte, ' ': asciiSpaceByte,
	0xC2: maybeSpaceStart, 0xE1: maybeSpaceStart, 0xE2: maybeSpaceStart, 0xE3: maybeSpaceStart,
}

// Rune appends r, or owes a space when r is white space.
func (w *Spacer) Rune(r rune) {
	if unicode.IsSpace(r) {
		w.Break()
		return
	}
	if w.pending {
		w.buf = append(w.buf, ' ')
		w.pending = false
	}
	w.buf = utf8.AppendRune(w.buf, r)
}

// Grow makes room for n more bytes.
func (w *Spacer) Grow(n int) { w.buf = slices.Grow(w.buf, n) }

// Break owes a space before the next word, if a word was written.
func (w *Spacer) Break() { w.pending = len(w.buf) > 0 }

// String returns the text collected so far.
func (w *Spacer) String() string { return string(w.buf) }

// Reset empties w and keeps its buffer, so one Spacer serves many texts
// without allocating a buffer for each.
func (w *Spacer) Reset() {
	w.buf = w.buf[:0]
	w.pending = false
}

// StringFrom returns the text collected so far, which was made from in:
// in itself when the two are equal (nothing to copy), else a copy.
func (w *Spacer) StringFrom(in string) string {
	if string(w.buf) == in {
		return in
	}
	return string(w.buf)
}

// Collapse is the package's Collapse writing into w's buffer (which it
// resets) instead of a new one.
func (w *Spacer) Collapse(s string) string {
	if collapsed(s) {
		return s
	}
	w.Reset()
	w.Words(s)
	return w.String()
}

// IsSpace reports whether the ASCII byte c is white space.
func IsSpace(c byte) bool { return spaceClass[c] == asciiSpaceByte }
