package classify

import (
	"math"
	"strings"

	"github.com/treatywatch/treatywatch/classify/internal/text"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// The fitted engine turns the rule hits of an item into named features
// and scores them with the weights of the pack's model. A feature is a
// rule of the vocabulary seen in a place (title, body, a sentence about
// the treaty) or, for stance cues, in a voice:
//
//	own       the item's own narration, or the issuer of a statement
//	title     the headline in the item's own voice
//	reported  someone else's words: quotes, "X said/warned/urged",
//	          "according to", a headline relaying others' concern
//	negated   after "not", "rather than", "far from" ...
//	hedged    in a "despite/amid/although" clause, or before "but"
//
// Feature values are log(1+count), so the tenth mention of a word adds
// little. Which features weigh how much is learned (see Fit).

// Voices of a stance cue.
const (
	voiceOwn = iota
	voiceTitle
	voiceReported
	voiceNegated
	voiceHedged
	nVoices
)

var voiceName = [nVoices]string{"own", "title", "reported", "negated", "hedged"}

// featSpace names every feature the engine can compute and groups them by
// the head that reads them.
type featSpace struct {
	names []string
	index map[string]int32
	// per compiled rule: body and title features (aliases, topics),
	// about-the-treaty feature (topics), per voice (cues); -1 when none
	body, title, about []int32
	voice              [][nVoices]int32
	// fixed relevance and stance features
	relGateTitle, relGateBody, relUN, relNamed, relSingle, relCyber, relTopics, relLead int32
	stStatement, stFirst, stPress                                                       int32
	stNormative                                                                         [nVoices]int32
	stPolarity                                                                          map[string]*[nVoices]int32
	stSource                                                                            map[int32]int32           // press actor rule → "the source is this outlet"
	stPrior                                                                             map[string]int32          // stance label → feature
	stActorType                                                                         map[rules.ActorType]int32 // actor type → feature
	topicLen                                                                            int32
	// word features (see words.go): stem → feature
	word      map[string]int32
	wordFeats []int32
	wordSet   map[int32]struct{}
	// signs the fit keeps each weight to (+1: >= 0, -1: <= 0, 0: free):
	// what a domain expert knows of a feature's direction, so that a
	// handful of labelled items cannot turn it around
	relSign, topicSign []int8
	// relPrior: where the relevance fit starts and what it is pulled
	// toward: a guard's penalty from the pack, a passing mention's
	relPrior []float64
	stSign   [3][]int8
	// blocks: features each head reads
	relBlock   []int32
	topicBlock [][]int32
	stBlock    []int32
	// relApart: no feature of the relevance head is a stance feature
	// (a feature extractStance sets), so the relevance of an item can be
	// decided before its stance cues are counted
	relApart bool
}

func (s *featSpace) add(name string) int32 {
	if i, ok := s.index[name]; ok {
		return i
	}
	i := int32(len(s.names))
	s.names = append(s.names, name)
	s.index[name] = i
	return i
}

// newFeatSpace names the features of e's rules; withWords adds the word
// features the pack's model reads.
func newFeatSpace(e *Engine, withWords bool) *featSpace {
	s := &featSpace{index: map[string]int32{}, stPrior: map[string]int32{}, stActorType: map[rules.ActorType]int32{}}
	n := len(e.rules)
	s.body, s.title, s.about = make([]int32, n), make([]int32, n), make([]int32, n)
	s.voice = make([][nVoices]int32, n)
	s.topicBlock = make([][]int32, len(e.topics))
	for i := range e.rules {
		s.body[i], s.title[i], s.about[i] = -1, -1, -1
		for v := range s.voice[i] {
			s.voice[i][v] = -1
		}
	}
	rel := func(name string) int32 {
		f := s.add(name)
		s.relBlock = append(s.relBlock, f)
		return f
	}
	for i, r := range e.rules {
		switch r.kind {
		case kAlias:
			s.body[i] = rel(r.id)
			s.title[i] = rel(r.id + "@title")
		case kGuard:
			s.body[i] = rel(r.id)
		}
	}
	s.relGateTitle = rel("gate@title")
	s.relGateBody = rel("gate")
	s.relUN = rel("gate.un")
	s.relNamed = rel("named-sentences")
	s.relSingle = rel("single-mention")
	s.relCyber = rel("cybercrime-words")
	s.relTopics = rel("topic-sentences")
	s.relLead = rel("named-in-lead")
	// the item's length is not a topic feature: a topic is shown by
	// what the item says, and one-paragraph items would lose their
	// topics to a length weight learned on articles
	s.topicLen = s.add("sentences")
	for i, r := range e.rules {
		if r.kind != kTopic {
			continue
		}
		s.body[i] = s.add(r.id)
		s.title[i] = s.add(r.id + "@title")
		s.about[i] = s.add(r.id + "@treaty")
		s.topicBlock[r.topic] = append(s.topicBlock[r.topic], s.body[i], s.title[i], s.about[i])
	}
	st := func(name string) int32 {
		f := s.add(name)
		s.stBlock = append(s.stBlock, f)
		return f
	}
	for i, r := range e.rules {
		if r.kind != kCue {
			continue
		}
		// a family in the item's own voice (narration or headline); in
		// other voices only its label counts (see stPolarity)
		f := st(r.id)
		s.voice[i][voiceOwn], s.voice[i][voiceTitle] = f, f
	}
	for v := 0; v < nVoices; v++ {
		s.stNormative[v] = st("normative-demand|" + voiceName[v])
	}
	s.stPolarity = map[string]*[nVoices]int32{}
	for _, l := range []string{rules.LabelSupportive, rules.LabelCritical, rules.LabelMixed, rules.LabelNeutral} {
		var a [nVoices]int32
		for v := 0; v < nVoices; v++ {
			a[v] = st(l + "|" + voiceName[v])
		}
		s.stPolarity[l] = &a
	}
	s.stStatement = st("statement")
	s.stFirst = st("first-person")
	s.stPress = -1
	s.stSource = map[int32]int32{}
	for i, r := range e.rules {
		if r.kind == kActor && r.actor == rules.ActorPress {
			s.stSource[int32(i)] = st("source." + r.id)
		}
	}
	for _, l := range []string{rules.LabelSupportive, rules.LabelCritical} {
		s.stPrior[l] = st("position." + l)
	}
	for _, t := range rules.ActorTypes() {
		if t == rules.ActorPress {
			continue // an outlet is a source feature, not a speaker
		}
		s.stActorType[t] = st("speaker." + string(t))
	}
	s.signs(e)
	if m := e.pack.Model; m != nil && withWords {
		heads := []map[string]float64{}
		for _, h := range m.Topics {
			heads = append(heads, h.Weights)
		}
		for _, h := range m.Stance {
			heads = append(heads, h.Weights)
		}
		s.addWords(modelWords(heads...))
	}
	s.relApart = true
	inStance := make([]bool, len(s.names))
	for _, f := range s.stBlock {
		inStance[f] = true
	}
	for _, f := range s.relBlock {
		if inStance[f] {
			s.relApart = false
		}
	}
	return s
}

// passingMentionPrior is the expert's weight against an item that names
// the treaty in one sentence of its body only (the taxonomy: a passing
// mention is not relevant); the fit moves it where the labels show.
const passingMentionPrior = 3

func (s *featSpace) signs(e *Engine) {
	n := len(s.names)
	s.relSign, s.topicSign = make([]int8, n), make([]int8, n)
	for c := range s.stSign {
		s.stSign[c] = make([]int8, n)
	}
	for _, f := range s.relBlock {
		s.relSign[f] = 1
	}
	for f := range s.names {
		if s.names[f] != "cybercrime-words" {
			continue
		}
		s.relSign[f] = 0
	}
	s.relSign[s.relSingle] = -1
	s.relPrior = make([]float64, n)
	s.relPrior[s.relSingle] = -passingMentionPrior
	for i, r := range e.rules {
		switch r.kind {
		case kGuard:
			s.relSign[s.body[i]] = -1
			s.relPrior[s.body[i]] = -2 * r.penalty
		case kTopic:
			s.topicSign[s.body[i]], s.topicSign[s.title[i]], s.topicSign[s.about[i]] = 1, 1, 1
		}
	}
	// stance: a supportive sign pushes the supportive score up and the
	// critical one down, and the reverse; neutral is free
	polar := func(f int32, label string) {
		if f < 0 {
			return
		}
		switch label {
		case rules.LabelSupportive:
			s.stSign[0][f], s.stSign[1][f] = 1, -1
		case rules.LabelCritical:
			s.stSign[0][f], s.stSign[1][f] = -1, 1
		}
	}
	for i, r := range e.rules {
		if r.kind == kCue {
			polar(s.voice[i][voiceOwn], r.label)
		}
	}
	for l, p := range s.stPolarity {
		polar(p[voiceOwn], l)
		polar(p[voiceTitle], l)
	}
	polar(s.stNormative[voiceOwn], rules.LabelCritical)
	polar(s.stNormative[voiceTitle], rules.LabelCritical)
	for l, f := range s.stPrior {
		polar(f, l)
	}
}

// ref is where a feature was seen: a hit, or a sentence.
type ref struct {
	fi, hi, sent int32
	// b0, b1: the bytes of a word feature (hi < 0)
	b0, b1 int32
}

// fvec is the features of one item.
type fvec struct {
	x    []float64 // counts, then log(1+count)
	refs [][]ref   // up to 2 places per feature
	// voice notes for stance evidence
	own      int32
	basis    string // of own's known position, for evidence
	headline bool   // the headline says the item is a statement
	named    namedSents
}

func (v *fvec) reset(n int) {
	if cap(v.x) < n {
		v.x = make([]float64, n)
		v.refs = make([][]ref, n)
	}
	v.x = v.x[:n]
	v.refs = v.refs[:n]
	for i := range v.x {
		v.x[i] = 0
		v.refs[i] = v.refs[i][:0]
	}
	v.own = -1
	v.basis = ""
	v.headline = false
	v.named = namedSents{}
}

func (v *fvec) inc(f int32, r ref) {
	if f < 0 {
		return
	}
	v.x[f]++
	if len(v.refs[f]) < 2 {
		v.refs[f] = append(v.refs[f], r)
	}
}

func (v *fvec) set(f int32, val float64) {
	if f >= 0 {
		v.x[f] = val
	}
}

// extract computes the features of an item from its scanned fields.
func (e *Engine) extract(fs []field, it fetch.Item, v *fvec) {
	e.wholeModel()
	own := e.extractRelevance(e.fs, fs, it, v, true)
	e.extractStance(fs, it, own, v)
	logCounts(v)
}

// logCounts turns the counts of v into log(1+count).
func logCounts(v *fvec) {
	for i := range v.x {
		if v.x[i] > 0 {
			v.x[i] = math.Log1p(v.x[i])
		}
	}
}

// extractRelevance computes the counts of the relevance and topic
// features of an item (what extract does before the stance cues) and
// returns the actor that speaks in it. Unless needOwn, the speaker is
// found only when a topic term needs it (a term inside the speaker's own
// name does not count), and -1 is returned when none did: an item the
// relevance head turns down needs no more.
func (e *Engine) extractRelevance(s *featSpace, fs []field, it fetch.Item, v *fvec, needOwn bool) int32 {
	v.reset(len(s.names))
	var hasUN bool
	var cyberWords float64
	treatySent := map[[2]int32]bool{}
	lead := false
	for fi, f := range fs {
		nsent := len(f.sents)
		cyber := make([]bool, nsent)
		treaty := make([]bool, nsent)
		alias := make([]bool, nsent)
		for hi, h := range f.hits {
			if h.dropped {
				continue
			}
			r := &e.rules[h.rule]
			at := ref{int32(fi), int32(hi), h.sent, 0, 0}
			switch r.kind {
			case kAlias:
				if f.name == FieldTitle {
					v.inc(s.title[h.rule], at)
				} else {
					v.inc(s.body[h.rule], at)
				}
				hasUN = true
				alias[h.sent] = true
				v.named.add(fi, h.sent)
				if len(v.refs[s.relNamed]) < 2 {
					v.refs[s.relNamed] = append(v.refs[s.relNamed], at)
				}
				if (f.name == FieldTitle || h.sent < 2) && len(v.refs[s.relLead]) == 0 {
					v.refs[s.relLead] = append(v.refs[s.relLead], at)
				}
				treatySent[[2]int32{int32(fi), h.sent}] = true
				if f.name == FieldTitle || h.sent < 2 {
					lead = true
				}
			case kUN:
				hasUN = true
				if len(v.refs[s.relUN]) == 0 {
					v.refs[s.relUN] = append(v.refs[s.relUN], at)
				}
			case kCyber:
				cyber[h.sent] = true
				cyberWords++
				if len(v.refs[s.relCyber]) < 2 {
					v.refs[s.relCyber] = append(v.refs[s.relCyber], at)
				}
			case kTreaty:
				treaty[h.sent] = true
				treatySent[[2]int32{int32(fi), h.sent}] = true
			case kGuard:
				if v.x[s.body[h.rule]] == 0 {
					v.inc(s.body[h.rule], at)
				}
			}
		}
		for sn := 0; sn < nsent; sn++ {
			if cyber[sn] && treaty[sn] && !alias[sn] {
				at := ref{int32(fi), -1, int32(sn), 0, 0}
				if f.name == FieldTitle {
					v.inc(s.relGateTitle, at)
				} else {
					v.inc(s.relGateBody, at)
				}
				v.named.add(fi, int32(sn))
				if len(v.refs[s.relNamed]) < 2 {
					v.refs[s.relNamed] = append(v.refs[s.relNamed], at)
				}
				if f.name == FieldTitle || sn < 2 {
					lead = true
					if len(v.refs[s.relLead]) == 0 {
						v.refs[s.relLead] = append(v.refs[s.relLead], at)
					}
				}
			}
		}
	}
	if hasUN {
		v.x[s.relUN] = 1
	} else {
		v.refs[s.relUN] = v.refs[s.relUN][:0]
	}
	v.x[s.relCyber] = cyberWords
	v.x[s.relNamed] = float64(v.named.n)
	if v.named.n == 1 && fs[v.named.fi].name != FieldTitle {
		v.x[s.relSingle] = 1
		v.refs[s.relSingle] = append(v.refs[s.relSingle], v.refs[s.relNamed]...)
	}
	if lead {
		v.x[s.relLead] = 1
	} else {
		v.refs[s.relLead] = v.refs[s.relLead][:0]
	}

	// topics: each distinct term of a rule counts once per sentence (two
	// terms of a topic in one sentence say more than one)
	headlineStatement := false
	for _, f := range fs {
		if f.name != FieldTitle {
			continue
		}
		for _, h := range f.hits {
			if !h.dropped && e.rules[h.rule].kind == kStatement {
				headlineStatement = true
			}
		}
	}
	own, ownKnown := int32(-1), false
	speaker := func() int32 {
		if ownKnown {
			return own
		}
		ownKnown = true
		own = e.ownActor(it)
		if !headlineStatement || own >= 0 {
			return own
		}
		// "Statement by X", "X's statement": the first actor named in
		// the headline speaks
		for _, f := range fs {
			if f.name != FieldTitle {
				continue
			}
			for _, h := range f.hits {
				if r := &e.rules[h.rule]; !h.dropped && r.kind == kActor && r.actor != rules.ActorPress {
					own = h.rule
					return own
				}
			}
		}
		return own
	}
	if needOwn {
		speaker()
	}
	v.headline = headlineStatement
	total := 0
	var topicSents float64
	for fi := range fs {
		f := &fs[fi]
		total += len(f.sents)
		last := map[[2]int32]int32{}
		lastRule := map[int32]int32{}
		for hi := range f.hits {
			h := &f.hits[hi]
			r := &e.rules[h.rule]
			if h.dropped || r.kind != kTopic || e.ownTerm(speaker(), f, h) {
				continue
			}
			k := [2]int32{h.rule, h.pat}
			if l, ok := last[k]; ok && l == h.sent {
				continue
			}
			last[k] = h.sent
			at := ref{int32(fi), int32(hi), h.sent, 0, 0}
			// relevance counts sentences with a topic rule, once per rule
			if l, ok := lastRule[h.rule]; !ok || l != h.sent {
				lastRule[h.rule] = h.sent
				topicSents++
				if len(v.refs[s.relTopics]) < 2 {
					v.refs[s.relTopics] = append(v.refs[s.relTopics], at)
				}
			}
			if f.name == FieldTitle {
				v.inc(s.title[h.rule], at)
				continue
			}
			v.inc(s.body[h.rule], at)
			if treatySent[[2]int32{int32(fi), h.sent}] {
				v.inc(s.about[h.rule], at)
			}
		}
	}
	v.x[s.relTopics] = topicSents
	v.x[s.topicLen] = float64(total)
	v.own = own
	return own
}

func (e *Engine) ownTerm(own int32, f *field, h *hit) bool {
	if own < 0 {
		return false
	}
	for _, o := range f.hits {
		if (o.rule == own || e.rules[o.rule].name == e.rules[own].name) && o.i <= h.i && o.j >= h.j {
			return true
		}
	}
	return false
}

// extractStance counts the cues of each family in each voice.
func (e *Engine) extractStance(fs []field, it fetch.Item, own int32, v *fvec) {
	s := e.fs
	st := &e.set
	firstPerson := 0
	for _, f := range fs {
		for _, h := range f.hits {
			if !h.dropped && e.rules[h.rule].kind == kFirst && h.flags&text.InQuote == 0 {
				firstPerson++
			}
		}
	}
	statement := own >= 0 || it.SourceActor != "" || firstPerson >= 2 || v.headline
	if statement {
		v.x[s.stStatement] = 1
	}
	v.x[s.stFirst] = float64(firstPerson)
	p := e.pressRule(it.SourceName)
	if a := e.siteActor(it.URL); p < 0 && a >= 0 && e.rules[a].actor == rules.ActorPress {
		p = a
	}
	if p >= 0 {
		v.x[s.stSource[p]] = 1
	}
	if own >= 0 && statement {
		r := &e.rules[own]
		pos := e.position(own)
		v.basis = pos.basis
		if f, ok := s.stPrior[pos.prior]; ok {
			v.x[f] = 1
		}
		if f, ok := s.stActorType[r.actor]; ok {
			v.x[f] = 1
		}
	}
	negWindow := int32(st.NegationWindow)
	if negWindow <= 0 {
		negWindow = 5
	}
	for fi := range fs {
		f := &fs[fi]
		n := len(f.sents)
		reported := make([]bool, n)
		otherActor := make([]bool, n)
		ownNamed := make([]bool, n)
		modal := make([]int32, n)
		safeguard := make([]bool, n)
		for i := range modal {
			modal[i] = -1
		}
		for hi, h := range f.hits {
			if h.dropped {
				continue
			}
			r := &e.rules[h.rule]
			switch r.kind {
			case kReport:
				reported[h.sent] = true
			case kActor:
				if own >= 0 && (h.rule == own || r.name == e.rules[own].name) {
					ownNamed[h.sent] = true
				} else if r.actor != rules.ActorPress {
					otherActor[h.sent] = true
				}
			case kModal:
				if modal[h.sent] < 0 {
					modal[h.sent] = int32(hi)
				}
			case kSafeguard:
				safeguard[h.sent] = true
			}
		}
		voiceOf := func(h *hit) int {
			negated, before, hedged := false, false, false
			for _, m := range f.hits {
				if m.dropped || m.sent != h.sent {
					continue
				}
				switch e.rules[m.rule].kind {
				case kNeg:
					if m.endPos < h.pos && h.pos-m.endPos <= negWindow {
						negated = true
					}
				case kContrast:
					if m.pos > h.endPos {
						before = true
					}
				case kConcessive, kHedge:
					if m.clause == h.clause && m.endPos < h.pos {
						hedged = true
					}
				}
			}
			switch {
			case negated:
				return voiceNegated
			case hedged || before:
				return voiceHedged
			}
			if h.flags&text.InQuote != 0 || reported[h.sent] || f.name == FieldTitle && otherActor[h.sent] {
				if !(statement && (ownNamed[h.sent] || !otherActor[h.sent])) {
					return voiceReported
				}
			}
			if f.name == FieldTitle {
				return voiceTitle
			}
			return voiceOwn
		}
		for hi := range f.hits {
			h := &f.hits[hi]
			r := &e.rules[h.rule]
			if h.dropped || r.kind != kCue {
				continue
			}
			vo := voiceOf(h)
			v.inc(s.voice[h.rule][vo], ref{int32(fi), int32(hi), h.sent, 0, 0})
			if p := s.stPolarity[r.label]; p != nil {
				v.inc(p[vo], ref{int32(fi), int32(hi), h.sent, 0, 0})
			}
		}
		for sn := 0; sn < n; sn++ {
			if modal[sn] >= 0 && safeguard[sn] {
				h := &f.hits[modal[sn]]
				vo := voiceOf(h)
				v.inc(s.stNormative[vo], ref{int32(fi), modal[sn], int32(sn), 0, 0})
				v.inc(s.stPolarity[rules.LabelCritical][vo], ref{int32(fi), modal[sn], int32(sn), 0, 0})
			}
		}
	}
}

// pressRule is the press actor rule the source name matches, or -1.
func (e *Engine) pressRule(name string) int32 {
	if name == "" {
		return -1
	}
	z := e.pool.get()
	defer e.pool.put(z)
	z.toks, z.sents = e.m.scanField(z.sc, name, z.toks[:0], z.sents[:0])
	z.raw = e.m.find(z.toks, z.raw[:0])
	for _, r := range z.raw {
		for _, ri := range e.m.patterns[r.pat].rules {
			if c := &e.rules[ri]; c.kind == kActor && c.actor == rules.ActorPress {
				return ri
			}
		}
	}
	return -1
}

// headScore is bias + w·x over a block.
func headScore(h *dhead, x []float64) float64 {
	z := h.bias
	for _, f := range h.feats {
		z += h.w[f] * x[f]
	}
	return z
}

// dhead is a model head with dense weights over the feature space.
type dhead struct {
	bias, threshold float64
	w               []float64
	feats           []int32 // the block it reads
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// fitted is a compiled model.
type fitted struct {
	rel    dhead
	topics []dhead
	stance [3]dhead
}

// compileHead makes a dense head over the features of s that reads block.
func (e *Engine) compileHead(s *featSpace, what string, h rules.Head, block []int32) (dhead, error) {
	d := dhead{bias: h.Bias, threshold: h.Threshold, w: make([]float64, len(s.names)), feats: block}
	if d.threshold == 0 {
		d.threshold = 0.5
	}
	in := map[int32]bool{}
	for _, f := range block {
		in[f] = true
	}
	for name, w := range h.Weights {
		f, ok := s.index[name]
		if !ok || !in[f] {
			return d, errUnknownFeature(what, name)
		}
		d.w[f] = w
	}
	return d, nil
}

func (e *Engine) compileModel(m *rules.Model) (*fitted, error) {
	s := e.fs
	mk := func(what string, h rules.Head, block []int32) (dhead, error) {
		return e.compileHead(s, what, h, block)
	}
	out := &fitted{}
	var err error
	if out.rel, err = mk("relevance", m.Relevance, s.relBlock); err != nil {
		return nil, err
	}
	out.topics = make([]dhead, len(e.topics))
	for i, t := range e.topics {
		if out.topics[i], err = mk("topic "+string(t), m.Topics[t], s.topicBlock[i]); err != nil {
			return nil, err
		}
		if _, ok := m.Topics[t]; !ok {
			out.topics[i].bias = -50 // never fitted: never tagged
		}
	}
	for i, l := range rules.StanceHeads() {
		if out.stance[i], err = mk("stance "+l, m.Stance[l], s.stBlock); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type unknownFeature struct{ what, name string }

func (u unknownFeature) Error() string {
	return "model: " + u.what + ": unknown feature " + quote(u.name) + " (the pack's rules changed since the fit: refit)"
}

func errUnknownFeature(what, name string) error { return unknownFeature{what, name} }

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }
