package classify

import (
	"math/rand/v2"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/fetch"
)

// candidateByRune is the prefilter as first written, a byte or a rune at
// a time: the reference the faster candidate must agree with.
func candidateByRune(e *Engine, it fetch.Item) bool {
	if !e.hasAnchors {
		return true
	}
	cls := &e.byteClass
	for _, s := range []string{it.Title, it.Summary, it.Content} {
		prevAlnum := false
		for i := 0; i < len(s); {
			c := s[i]
			if c < 0x80 {
				cl := cls[c&0x7f]
				if cl&clAnchor != 0 && !prevAlnum {
					for _, a := range e.anchors[c|0x20] {
						if hasPrefixFold(s[i:], a) {
							return true
						}
					}
				}
				prevAlnum = cl&clAlnum != 0
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r < 0x250 {
				f := e.m.fold.Fold(r)
				if f < 0x80 && cls[f]&clAlnum != 0 {
					if !prevAlnum && cls[f]&clAnchor != 0 {
						for _, a := range e.anchors[f] {
							if hasPrefixRunes(e.m.fold, s[i:], a) {
								return true
							}
						}
					}
					prevAlnum = true
				} else {
					prevAlnum = unicode.IsLetter(r)
				}
				i += n
				continue
			}
			switch {
			case r >= 0x2000 && r < 0x2070:
				prevAlnum = false
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				if !prevAlnum {
					f := e.m.fold.Fold(r)
					var as []string
					if f < 0x80 {
						as = e.anchors[f]
					} else {
						as = e.wideAnchors[f]
					}
					for _, a := range as {
						if hasPrefixRunes(e.m.fold, s[i:], a) {
							return true
						}
					}
				}
				prevAlnum = true
			case unicode.Is(unicode.Mn, r):
			default:
				prevAlnum = false
			}
			i += n
		}
	}
	return false
}

// TestCandidateAgreesWithReference: the prefilter says of every golden
// item, and of many cuts and splices of their texts (words cut at any
// byte, pieces joined to other text), what the rune-at-a-time reference
// says.
func TestCandidateAgreesWithReference(t *testing.T) {
	keys, items := goldenItems(t)
	e := engine(t)
	rng := rand.New(rand.NewPCG(1, 2))
	cut := func(s string) string {
		if len(s) == 0 {
			return s
		}
		a := rng.IntN(len(s))
		b := a + rng.IntN(min(len(s)-a, 64)+1)
		return s[a:b]
	}
	pieces := []string{"cyber", "CYBER", "Cyber", "ciber", "Hanoi", "ICT", "ict", "UNCC", "291", "2910", "x291", "é", "É", "É", "ç",
		"киберпреступн", "Конвенц", "ханойск", "—", "“", "\u0301", "a", "_", "-", " ", "\n", "<p>", "ℂyber", "cy\u0301ber", "ÇIBER", "Informatic"}
	n, cands := 0, 0
	check := func(it fetch.Item) {
		n++
		got, want := e.candidate(it), candidateByRune(e, it)
		if got {
			cands++
		}
		if got != want {
			t.Errorf("candidate(%q, %q, %q) = %v, reference %v", it.Title, it.Summary, it.Content, got, want)
		}
	}
	for _, k := range keys {
		it := items[k]
		check(it)
		for range 8 {
			var x fetch.Item
			x.Title = cut(it.Title) + pieces[rng.IntN(len(pieces))] + cut(it.Content)
			x.Summary = pieces[rng.IntN(len(pieces))] + cut(it.Summary) + pieces[rng.IntN(len(pieces))]
			x.Content = cut(it.Content) + cut(it.Title)
			check(x)
		}
	}
	if cands == 0 || cands == n {
		t.Fatalf("%d candidates of %d: the comparison saw one answer only", cands, n)
	}
	t.Logf("%d texts, %d candidates", n, cands)
}
