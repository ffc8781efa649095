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
