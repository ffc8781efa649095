package text

import (
	"reflect"
	"testing"
)

func TestScan(t *testing.T) {
	f := NewFolder()
	tests := []struct {
		in    string
		words []string
		sents []int32
		quote []bool
	}{
		{"The U.S. said “No.” Then", []string{"the", "u", "s", "said", "no", "then"}, []int32{0, 0, 0, 0, 0, 1}, []bool{false, false, false, false, true, false}},
		{"<p>Hanoï <em>Convention</em></p><p>ratifié", []string{"hanoi", "convention", "ratifie"}, []int32{1, 1, 3}, []bool{false, false, false}},
		{"Конвенция ООН\nё", []string{"конвенц", "оон", "е"}, []int32{0, 0, 1}, []bool{false, false, false}},
		{"Ｈａｎｏｉ ﬁne Æ", []string{"hanoi", "fine", "æ"}, []int32{0, 0, 0}, []bool{false, false, false}},
		{"a < b and c>d", []string{"a", "b", "and", "c", "d"}, []int32{0, 0, 0, 0, 0}, []bool{false, false, false, false, false}},
	}
	for _, tt := range tests {
		var words []string
		var sents []int32
		var quote []bool
		NewScanner(f).Scan(NFKC(tt.in), func(w []byte, tok Token) {
			words = append(words, string(w))
			sents = append(sents, tok.Sent)
			quote = append(quote, tok.Flags&InQuote != 0)
		})
		if !reflect.DeepEqual(words, tt.words) || !reflect.DeepEqual(sents, tt.sents) || !reflect.DeepEqual(quote, tt.quote) {
			t.Errorf("Scan(%q) = %q %v %v; want %q %v %v", tt.in, words, sents, quote, tt.words, tt.sents, tt.quote)
		}
	}
}

// TestASCIIRun8: the 8-bytes-at-once run length is the byte-at-a-time
// one, for every byte value at every position and for random words.
func TestASCIIRun8(t *testing.T) {
	run := func(b [8]byte) int {
		n := 0
		for n < 8 && asciiWord[b[n]] {
			n++
		}
		return n
	}
	check := func(b [8]byte) {
		s := string(b[:])
		x := load8(s)
		for k := 0; k < 8; k++ {
			if byte(x>>(8*k)) != b[k] {
				t.Fatalf("load8(%q) = %x", s, x)
			}
		}
		if got, want := asciiRun8(x), run(b); got != want {
			t.Fatalf("asciiRun8(%q) = %d, byte at a time %d", s, got, want)
		}
	}
	for _, fill := range []byte{'a', 'Z', '0', '9', ' ', 0x80, 0xff, 0} {
		for p := 0; p < 8; p++ {
			for c := 0; c < 256; c++ {
				b := [8]byte{fill, fill, fill, fill, fill, fill, fill, fill}
				b[p] = byte(c)
				check(b)
				for q := 0; q < p; q++ {
					b[q] = 'x'
				}
				check(b)
			}
		}
	}
	x := uint64(0x9E3779B97F4A7C15)
	for range 200000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var b [8]byte
		for k := range b {
			b[k] = byte(x >> (8 * k))
			if x>>(8*k)&3 != 0 {
				b[k] &= 0x7f // mostly ASCII
			}
		}
		check(b)
	}
}
