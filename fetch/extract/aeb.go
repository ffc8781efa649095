package extract

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// This file implements the scoring of the Article Extraction Benchmark
// (scrapinghub/article-extraction-benchmark, evaluate.py), written from its
// description: texts are split into \w+ tokens, every run of four tokens is
// a shingle, and precision and recall are computed per document over the
// multisets of shingles, then macro-averaged over documents.

// shingleSize is the number of consecutive tokens in one shingle.
const shingleSize = 4

// Tokens splits text the way Python's re.findall(r'\w+', text, re.UNICODE)
// does: maximal runs of letters, numbers and underscores. Case is kept.
func Tokens(text string) []string {
	var toks []string
	start := -1
	for i, r := range text {
		if isWord(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = append(toks, text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, text[start:])
	}
	return toks
}

// isWord reports whether r matches Python's Unicode \w: a letter (L*), a
// number (N*) or the underscore. Combining marks are not word characters.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// shingles counts the runs of shingleSize consecutive tokens of text. A
// text with fewer tokens gives one shingle of all of them; an empty text
// gives none.
func shingles(text string) map[string]int {
	toks := Tokens(text)
	out := make(map[string]int)
	if len(toks) == 0 {
		return out
	}
	if len(toks) < shingleSize {
		out[joinTokens(toks)]++
		return out
	}
	for i := 0; i+shingleSize <= len(toks); i++ {
		out[joinTokens(toks[i:i+shingleSize])]++
	}
	return out
}

// joinTokens joins tokens with a byte that can never be part of a token.
func joinTokens(toks []string) string {
	n := len(toks)
	for _, t := range toks {
		n += len(t)
	}
	b := make([]byte, 0, n)
	for i, t := range toks {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, t...)
	}
	return string(b)
}

// Counts are the shingle counts of one document: true positives, false
// positives and false negatives.
type Counts struct {
	TP, FP, FN int
}

// Compare counts the shingles the prediction shares with the truth (tp,
// the minimum of both counts per shingle), those only in the prediction
// (fp) and those only in the truth (fn).
func Compare(pred, truth string) Counts {
	ps, ts := shingles(pred), shingles(truth)
	var c Counts
	for s, n := range ps {
		m := ts[s]
		c.TP += min(n, m)
		c.FP += max(0, n-m)
	}
	for s, m := range ts {
		c.FN += max(0, m-ps[s])
	}
	return c
}

// Score returns the AEB precision and recall of one prediction against its
// ground truth. ok is false when the prediction has no shingles: such a
// document counts in the recall average (as 0) but not in the precision
// average. Both are 1 when there is neither a false positive nor a false
// negative.
func Score(pred, truth string) (p, r float64, ok bool) {
	c := Compare(pred, truth)
	if c.FP == 0 && c.FN == 0 {
		return 1, 1, c.TP > 0
	}
	if c.TP+c.FP > 0 {
		p, ok = float64(c.TP)/float64(c.TP+c.FP), true
	}
	if c.TP+c.FN > 0 {
		r = float64(c.TP) / float64(c.TP+c.FN)
	}
	return p, r, ok
}

// Scorer accumulates per-document scores into the corpus scores of AEB.
// The zero value is ready to use.
type Scorer struct {
	sumP, sumR float64
	nP, n      int
	exact      int
}

// Add scores one document.
func (s *Scorer) Add(pred, truth string) {
	p, r, ok := Score(pred, truth)
	if ok {
		s.sumP += p
		s.nP++
	}
	s.sumR += r
	s.n++
	if slices.Equal(Tokens(pred), Tokens(truth)) {
		s.exact++
	}
}

// Result is the corpus score: macro-averaged precision (over documents with
// a non-empty prediction) and recall (over all documents), F1 computed from
// them, and accuracy, the share of documents whose tokens equal the truth's.
type Result struct {
	Docs      int
	Precision float64
	Recall    float64
	F1        float64
	Accuracy  float64
}

// Result returns the corpus score of the documents added so far.
func (s *Scorer) Result() Result {
	res := Result{Docs: s.n}
	if s.nP > 0 {
		res.Precision = s.sumP / float64(s.nP)
	}
	if s.n > 0 {
		res.Recall = s.sumR / float64(s.n)
		res.Accuracy = float64(s.exact) / float64(s.n)
	}
	if res.Precision+res.Recall > 0 {
		res.F1 = 2 * res.Precision * res.Recall / (res.Precision + res.Recall)
	}
	return res
}
