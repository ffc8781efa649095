package classify

import (
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify/internal/text"
)

// Word features: beside the curated vocabulary, the topic and stance
// heads may read the plain words of an item, each cut to its first
// wordStemLen letters (after folding and the light Russian stemmer), so
// that "ratifier", "ratificar", "ratified" and "ratifying" meet at
// "ratifi" and inflected forms of one word share a feature. A word
// feature is named "w." + its stem. Which stems exist is decided by the
// fit (stems seen in enough relevant items of enough sources); the model
// lists them, so a refit on other labels brings its own.
//
// The value of a word feature is log(1+count)/sqrt(words in the item,
// at least wordMinTotal):
// long items do not outweigh short ones, and the value does not depend on
// which other stems the model knows.

const (
	wordStemLen  = 6
	wordMinRunes = 3
	wordPrefix   = "w."
	// wordMinTotal: an item shorter than this many words is scaled as if
	// it had them, so that the few words of a one-line item do not weigh
	// more than the same words in an article
	wordMinTotal = 100
)

// wordStem cuts a folded word to its stem, or returns nil for a word too
// short or made of digits.
func wordStem(w []byte) []byte {
	n, digits := 0, true
	cut := len(w)
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRune(w[i:])
		if r < '0' || r > '9' {
			digits = false
		}
		n++
		i += size
		if n == wordStemLen {
			cut = i
		}
	}
	if n < wordMinRunes || digits {
		return nil
	}
	return w[:cut]
}

// addWords adds word features (names: wordPrefix and a stem) to the
// topic and stance heads. Their sign is free.
func (s *featSpace) addWords(names []string) {
	if s.word == nil {
		s.word, s.wordSet = map[string]int32{}, map[int32]struct{}{}
	}
	for _, st := range names {
		if _, ok := s.word[st]; ok {
			continue
		}
		f := s.add(st)
		s.word[st] = f
		s.wordFeats = append(s.wordFeats, f)
		s.wordSet[f] = struct{}{}
		for t := range s.topicBlock {
			s.topicBlock[t] = append(s.topicBlock[t], f)
		}
		s.stBlock = append(s.stBlock, f)
	}
	n := len(s.names)
	grow := func(a []int8) []int8 {
		for len(a) < n {
			a = append(a, 0)
		}
		return a
	}
	s.relSign, s.topicSign = grow(s.relSign), grow(s.topicSign)
	for c := range s.stSign {
		s.stSign[c] = grow(s.stSign[c])
	}
	for len(s.relPrior) < n {
		s.relPrior = append(s.relPrior, 0)
	}
}

// modelWords lists the word stems a model's heads weigh, sorted.
func modelWords(names ...map[string]float64) []string {
	set := map[string]bool{}
	for _, m := range names {
		for k := range m {
			if strings.HasPrefix(k, wordPrefix) {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// extractWords sets the word features of an item.
func (e *Engine) extractWords(z *scratch, fs []field, v *fvec) {
	s := e.fs
	if len(s.wordFeats) == 0 {
		return
	}
	total := 0
	buf := z.word[:0]
	for fi := range fs {
		f := &fs[fi]
		z.sc.Scan(f.s, func(w []byte, t text.Token) {
			total++
			st := wordStem(w)
			if st == nil {
				return
			}
			at := ref{int32(fi), -1, t.Sent, t.Start, t.End}
			buf = append(append(buf[:0], wordPrefix...), st...)
			if id, ok := s.word[string(buf)]; ok {
				v.inc(id, at)
			}
		})
	}
	z.word = buf
	if total == 0 {
		return
	}
	norm := 1 / math.Sqrt(float64(max(total, wordMinTotal)))
	for _, f := range s.wordFeats {
		if c := v.x[f]; c > 0 {
			v.x[f] = math.Log1p(c) * norm
		}
	}
}

// itemStems is the set of stems of an item (for choosing the vocabulary
// of a fit).
func (e *Engine) itemStems(z *scratch, fs []field) map[string]bool {
	out := map[string]bool{}
	for fi := range fs {
		z.sc.Scan(fs[fi].s, func(w []byte, _ text.Token) {
			if st := wordStem(w); st != nil {
				out[wordPrefix+string(st)] = true
			}
		})
	}
	return out
}

func (s *featSpace) isWord(f int32) bool { _, ok := s.wordSet[f]; return ok }
