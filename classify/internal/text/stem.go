package text

import (
	"bytes"
	"unicode/utf8"
)

// ruEndings are the inflectional endings a light Russian stemmer strips,
// longest first: case endings of nouns and adjectives (in the singular
// and plural), so that "международное сотрудничество" and "международного
// сотрудничества" meet at "международн сотрудничеств".
var ruEndings = func() [][]byte {
	list := []string{
		"иями", "ями", "ами", "ыми", "ими",
		"ого", "его", "ому", "ему", "иям", "иях", "ией",
		"ая", "яя", "ое", "ее", "ые", "ие", "ый", "ий", "ой", "ей", "ую", "юю",
		"ых", "их", "ым", "им", "ом", "ем", "ия", "ию", "ии", "ье", "ья", "ью", "ьи",
		"ов", "ев", "ам", "ям", "ах", "ях",
		"а", "я", "о", "е", "ы", "и", "у", "ю", "ь", "й",
	}
	out := make([][]byte, len(list))
	for i, e := range list {
		out[i] = []byte(e)
	}
	return out
}()

// minStem is the fewest letters a Russian word keeps after stemming;
// shorter words are left as they are ("ООН", "не", "силу").
const minStem = 4

// stemRU strips one inflectional ending from a folded Cyrillic word of at
// least minStem+1 letters, keeping at least minStem letters. Other words
// are returned unchanged. It works in place.
func stemRU(w []byte) []byte {
	r, _ := utf8.DecodeRune(w)
	if r < 0x0400 || r > 0x04FF {
		return w
	}
	n := utf8.RuneCount(w)
	if n <= minStem {
		return w
	}
	for _, e := range ruEndings {
		if bytes.HasSuffix(w, e) && n-utf8.RuneCount(e) >= minStem {
			return w[:len(w)-len(e)]
		}
	}
	return w
}
