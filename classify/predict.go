package classify

import (
	"math"
	"sort"
	"strings"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// classifyFitted labels an item with the pack's fitted model.
func (e *Engine) classifyFitted(z *scratch, fs []field, it fetch.Item) Result {
	v := &z.v
	res := Result{Rules: e.pack.Version, Topics: []rules.Topic{}, Evidence: []Match{}}
	// Most items are turned down by the relevance head, which reads
	// none of the stance or word features: compute those only for the
	// others (extract again from the start, so a relevant item gets
	// exactly what extract gives).
	if e.relFS.relApart {
		e.extractRelevance(e.relFS, fs, it, v, false)
		logCounts(v)
		if p := sigmoid(headScore(e.relHead, v.x)); p < e.relHead.threshold {
			res.Score = round3(p)
			res.Evidence = e.explain(e.relFS, fs, v, e.relHead, "relevance", 4, res.Evidence)
			return res
		}
	}
	e.extract(fs, it, v)
	m := e.model
	p := sigmoid(headScore(&m.rel, v.x))
	res.Score = round3(p)
	res.Relevant = p >= m.rel.threshold
	res.Evidence = e.explain(e.fs, fs, v, &m.rel, "relevance", 4, res.Evidence)
	if !res.Relevant {
		return res
	}
	// the language of what is delivered (detection costs more than the
	// rest of the classification: only for relevant items)
	res.Lang = e.lang.detect(it)
	e.extractWords(z, fs, v)
	for i := range m.topics {
		h := &m.topics[i]
		if sigmoid(headScore(h, v.x)) >= h.threshold {
			res.Topics = append(res.Topics, e.topics[i])
			res.Evidence = e.explain(e.fs, fs, v, h, string(e.topics[i]), 3, res.Evidence)
		}
	}
	// a passing mention (the taxonomy: not relevant): the treaty named
	// in one sentence of the body only, and no term of any topic
	if e.set.SingleMentionTopics > 0 && v.named.n == 1 && fs[v.named.fi].name != FieldTitle && v.x[e.fs.relTopics] == 0 {
		res.Relevant = false
		res.Topics = []rules.Topic{}
		res.Lang = ""
		m := Match{Rule: "relevance.single-mention", Kind: "guard", Label: "passing mention: the treaty is named in one sentence and no topic term", Field: FieldSource, Words: []string{}}
		if r := v.refs[e.fs.relNamed]; len(r) > 0 {
			f := &fs[r[0].fi]
			m.Field, m.Sentence = f.name, sentence(f, r[0].sent)
			if r[0].hi >= 0 {
				h := &f.hits[r[0].hi]
				m.Words = append(m.Words, f.s[h.bstart:h.bend])
			}
		}
		res.Evidence = append(res.Evidence, m)
		return res
	}
	best, bestZ := 0, math.Inf(-1)
	for i := range m.stance {
		if z := headScore(&m.stance[i], v.x); z > bestZ {
			best, bestZ = i, z
		}
	}
	res.Stance = Stance(stanceLabels[best])
	n0 := len(res.Evidence)
	res.Evidence = e.explain(e.fs, fs, v, &m.stance[best], "stance "+stanceLabels[best], 5, res.Evidence)
	res.Evidence = e.explainDiscounted(fs, v, &m.stance[best], "stance "+stanceLabels[best], res.Evidence, n0)
	if v.own >= 0 {
		res.Actor = e.rules[v.own].name
	} else if it.SourceActor != "" {
		res.Actor = it.SourceActor
	}
	return res
}

// explain adds the features that weighed most for a decision, each with
// the text it matched.
func (e *Engine) explain(s *featSpace, fs []field, v *fvec, h *dhead, decision string, n int, out []Match) []Match {
	type contrib struct {
		f int32
		c float64
	}
	var cs []contrib
	for _, f := range h.feats {
		if c := h.w[f] * v.x[f]; c != 0 && f != s.topicLen {
			cs = append(cs, contrib{f, c})
		}
	}
	sort.Slice(cs, func(a, b int) bool {
		if math.Abs(cs[a].c) != math.Abs(cs[b].c) {
			return math.Abs(cs[a].c) > math.Abs(cs[b].c)
		}
		return cs[a].f < cs[b].f
	})
	if len(cs) > n {
		cs = cs[:n]
	}
	for _, c := range cs {
		name := s.names[c.f]
		m := Match{Rule: name, Kind: e.featKind(name), Label: decision + e.featNote(name, v), Weight: round3(c.c), Field: FieldSource, Words: []string{}}
		for k, r := range v.refs[c.f] {
			f := &fs[r.fi]
			if k == 0 {
				m.Field = f.name
			}
			switch {
			case r.hi >= 0:
				hh := &f.hits[r.hi]
				m.Words = append(m.Words, f.s[hh.bstart:hh.bend])
			case r.b1 > r.b0:
				m.Words = append(m.Words, f.s[r.b0:r.b1])
			default:
				m.Words = append(m.Words, gateWords(e, f, r.sent)...)
			}
			if k == 0 {
				m.Sentence = sentence(f, r.sent)
			}
		}
		out = append(out, m)
	}
	return out
}

// explainDiscounted adds, after the top features of a stance decision,
// the cues it saw in a discounted voice (negated, hedged, reported) that
// are not listed yet, so that a reader sees why a cue did not count as
// its words would suggest. Their weight is what they added to the
// decision (often little or nothing).
func (e *Engine) explainDiscounted(fs []field, v *fvec, h *dhead, decision string, out []Match, from int) []Match {
	listed := map[string]bool{}
	for _, m := range out[from:] {
		listed[m.Rule] = true
	}
	for _, f := range h.feats {
		name := e.fs.names[f]
		if v.x[f] == 0 || listed[name] || len(v.refs[f]) == 0 {
			continue
		}
		if !strings.HasSuffix(name, "|negated") && !strings.HasSuffix(name, "|hedged") && !strings.HasSuffix(name, "|reported") {
			continue
		}
		r := v.refs[f][0]
		fd := &fs[r.fi]
		m := Match{Rule: name, Kind: "stance", Label: decision + e.featNote(name, v), Weight: round3(h.w[f] * v.x[f]), Field: fd.name, Words: []string{}, Sentence: sentence(fd, r.sent)}
		if r.hi >= 0 {
			hh := &fd.hits[r.hi]
			m.Words = append(m.Words, fd.s[hh.bstart:hh.bend])
		}
		out = append(out, m)
	}
	return out
}

func gateWords(e *Engine, f *field, sent int32) []string {
	var words []string
	for _, h := range f.hits {
		if h.sent == sent && !h.dropped {
			if k := e.rules[h.rule].kind; k == kCyber || k == kTreaty {
				words = append(words, f.s[h.bstart:h.bend])
			}
		}
	}
	return words
}

// featKind names the kind of evidence a feature is.
func (e *Engine) featKind(name string) string {
	switch {
	case strings.HasPrefix(name, "alias."), name == "named-sentences":
		return "alias"
	case strings.HasPrefix(name, "guard."):
		return "guard"
	case strings.HasPrefix(name, "gate"), name == "named-sentences", name == "single-mention", name == "cybercrime-words", name == "named-in-lead", name == "topic-sentences":
		return "gate"
	case strings.HasPrefix(name, "topic."), name == "sentences":
		return "topic"
	case strings.HasPrefix(name, wordPrefix):
		return "word"
	case strings.HasPrefix(name, "position."), strings.HasPrefix(name, "speaker."), name == "statement", name == "first-person", strings.HasPrefix(name, "source."):
		return "actor"
	}
	return "stance"
}

// featNote says, for evidence, the voice a cue was in and the basis of an
// actor's position.
func (e *Engine) featNote(name string, v *fvec) string {
	if i := strings.LastIndexByte(name, '|'); i >= 0 {
		return " (" + name[i+1:] + " voice)"
	}
	if strings.HasPrefix(name, "position.") && v.own >= 0 {
		own := &e.rules[v.own]
		if v.basis != "" {
			return " (" + own.name + ": " + v.basis + ")"
		}
		return " (" + own.name + ")"
	}
	return ""
}
