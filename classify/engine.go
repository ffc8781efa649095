package classify

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify/internal/text"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

type kind uint8

const (
	kAlias kind = iota
	kCyber
	kTreaty
	kUN
	kGuard
	kTopic
	kCue
	kNeg
	kContrast
	kConcessive
	kHedge
	kReport
	kFirst
	kActor
	kModal
	kSafeguard
	kStatement
)

// evidence kinds as written in Match.Kind
var kindName = [...]string{"alias", "gate", "gate", "gate", "guard", "topic", "stance", "negator", "contrast", "concessive", "hedge", "reporting", "first-person", "actor", "modal", "safeguard", "statement"}

// crule is a compiled rule.
type crule struct {
	id       string
	kind     kind
	label    string
	actor    rules.ActorType // of an actor rule
	topic    int
	weight   float64
	penalty  float64
	name     string
	prior    string
	basis    string
	suppress []int32
}

// Engine classifies items with one compiled rule pack. It is immutable
// after New, but for the known positions SetTreatyEvents swaps in, and
// safe for concurrent use.
type Engine struct {
	pack   *rules.Pack
	set    rules.Settings
	m      *matcher
	rules  []crule
	topics []rules.Topic
	// actorByName finds an actor rule by its display name (lower case).
	actorByName map[string]int32
	// actorBySite finds an actor rule by a web host it publishes on.
	actorBySite map[string]int32
	anchors     [128][]string // prefilter pieces by first byte
	hasAnchors  bool
	wideAnchors map[rune][]string // pieces that start with a non-ASCII letter
	byteClass   [256]uint8        // of the prefilter, by byte
	// pairs: a bit per first two ASCII bytes (folded) of the pieces
	pairs [128 * 128 / 64]uint64
	pool  scratchPool
	// fs names the features of the fitted model; model is nil for a pack
	// that was never fitted (rule weights as written). For a fitted
	// pack both are read only after wholeModel.
	fs     *featSpace
	model  *fitted
	fitted bool
	whole  sync.Once
	// relFS and relHead: the features and head that decide relevance
	// (relFS lacks the model's word features, which only topic and
	// stance heads read, and names every other feature as fs does)
	relFS   *featSpace
	relHead *dhead
	heads   func() error // decodes the rest of the built-in model
	lang    *langDetector
	fold    *text.Folder
	// actorByTerm finds a state or intergovernmental actor by its name
	// or one of its terms (actorKey form), for depositary participants.
	actorByTerm map[string]int32
	// known holds the positions read from the depositary (nil: none).
	known atomic.Pointer[positions]
}

var _ Classifier = (*Engine)(nil)

// Default compiles the embedded rule pack.
func Default() (*Engine, error) {
	p, heads, err := rules.DefaultDeferred()
	if err != nil {
		return nil, err
	}
	return build(p, heads)
}

// New compiles a loaded pack into one matcher.
func New(p *rules.Pack) (*Engine, error) { return build(p, nil) }

// build compiles a pack. With heads (the built-in pack, whose model the
// tests compile; heads decodes its topic and stance heads), only the
// relevance head of the model is compiled now; the topic and stance
// heads and the word features they read (most of the model) are decoded
// and compiled when the first relevant item needs them, so a command
// that sees only irrelevant items never pays for them.
func build(p *rules.Pack, heads func() error) (*Engine, error) {
	if p == nil {
		return nil, fmt.Errorf("classify: nil rule pack")
	}
	f := text.NewFolder()
	e := &Engine{pack: p, set: p.Settings, m: newMatcher(f), topics: p.Taxonomy.IDs(), actorByName: map[string]int32{}, fold: f, actorByTerm: map[string]int32{}}
	topicIdx := map[rules.Topic]int{}
	for i, t := range e.topics {
		topicIdx[t] = i
	}
	ids := map[string]int32{}
	terms := rules.NewTermParser(f)
	add := func(k kind, r *rules.Rule) error {
		idx := int32(len(e.rules))
		c := crule{id: r.ID, kind: k, label: r.Label, weight: r.W(), penalty: r.Penalty, name: r.Name, prior: r.Prior, basis: r.Basis, topic: -1}
		if k == kActor {
			c.actor = r.ActorType()
		}
		if k == kTopic {
			c.topic = topicIdx[r.Topic]
		}
		e.rules = append(e.rules, c)
		ids[r.ID] = idx
		for _, t := range r.Terms {
			words, prefix, err := terms.Parse(t.Text)
			if err != nil {
				return fmt.Errorf("classify: %s:%d: rule %q: %w", p.Name, t.Line, r.ID, err)
			}
			e.m.add(words, prefix, t.Text, idx)
		}
		return nil
	}
	type sec struct {
		k  kind
		rs []rules.Rule
	}
	s := &p.Stance
	secs := []sec{
		{kAlias, p.Aliases},
		{kCyber, []rules.Rule{p.Gate.Cyber}},
		{kTreaty, []rules.Rule{p.Gate.Treaty}},
		{kUN, []rules.Rule{p.Gate.UN}},
		{kGuard, p.Guards},
		{kTopic, p.Topics},
		{kCue, s.Cues},
		{kNeg, []rules.Rule{s.Negators}},
		{kContrast, []rules.Rule{s.Contrast}},
		{kConcessive, []rules.Rule{s.Concessive}},
		{kHedge, []rules.Rule{s.Hedges}},
		{kReport, []rules.Rule{s.Reporting}},
		{kFirst, []rules.Rule{s.FirstPerson}},
		{kActor, p.Actors},
	}
	if s.Modals.ID != "" {
		secs = append(secs, sec{kModal, []rules.Rule{s.Modals}})
	}
	if s.Statements.ID != "" {
		secs = append(secs, sec{kStatement, []rules.Rule{s.Statements}})
	}
	if s.Safeguards.ID != "" {
		secs = append(secs, sec{kSafeguard, []rules.Rule{s.Safeguards}})
	}
	for _, sc := range secs {
		for i := range sc.rs {
			if err := add(sc.k, &sc.rs[i]); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range p.Guards {
		gi := ids[g.ID]
		for _, s := range g.Suppress {
			id, ok := ids[s]
			if !ok {
				return nil, fmt.Errorf("classify: %s:%d: guard %q suppresses unknown rule %q", p.Name, g.Line, g.ID, s)
			}
			e.rules[gi].suppress = append(e.rules[gi].suppress, id)
		}
	}
	e.actorBySite = map[string]int32{}
	for i, r := range e.rules {
		if r.kind == kActor {
			e.actorByName[strings.ToLower(r.name)] = int32(i)
		}
	}
	for i := range p.Actors {
		a := &p.Actors[i]
		if t := a.ActorType(); t != rules.ActorState && t != rules.ActorIGO {
			continue
		}
		for _, t := range append([]string{a.Name}, termTexts(a.Terms)...) {
			if k := actorKey(f, t); k != "" {
				if _, dup := e.actorByTerm[k]; !dup {
					e.actorByTerm[k] = ids[a.ID]
				}
			}
		}
	}
	for i := range p.Actors {
		for _, h := range p.Actors[i].Sites {
			e.actorBySite[h] = ids[p.Actors[i].ID]
		}
	}
	e.wideAnchors = map[rune][]string{}
	for _, a := range p.Prefilter {
		r, _ := utf8.DecodeRuneInString(a.Text)
		if r < 0x80 {
			e.anchors[r] = append(e.anchors[r], a.Text)
			if len(a.Text) < 2 || a.Text[1] >= 0x80 {
				// any second byte
				for d := 0; d < 0x80; d++ {
					k := uint(r)<<7 | uint(d)
					e.pairs[k>>6] |= 1 << (k & 63)
				}
			} else {
				k := uint(r)<<7 | uint(a.Text[1])
				e.pairs[k>>6] |= 1 << (k & 63)
			}
		} else {
			e.wideAnchors[r] = append(e.wideAnchors[r], a.Text)
		}
		e.hasAnchors = true
	}
	for c := 0; c < 256; c++ {
		b := byte(c)
		if b >= 0x80 {
			e.byteClass[c] = clHigh
		}
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' {
			e.byteClass[c] |= clAlnum
			l := b
			if l >= 'A' && l <= 'Z' {
				l += 'a' - 'A'
			}
			if len(e.anchors[l]) > 0 {
				e.byteClass[c] |= clAnchor
			}
		}
	}
	e.pool.f = f
	e.lang = newLangDetector()
	if p.Model == nil {
		e.fs = newFeatSpace(e, false)
		e.whole.Do(func() {})
		return e, nil
	}
	e.fitted = true
	if heads == nil {
		if err := e.compileWhole(); err != nil {
			return nil, err
		}
		e.whole.Do(func() {})
		e.relFS, e.relHead = e.fs, &e.model.rel
		return e, nil
	}
	e.relFS = newFeatSpace(e, false)
	rel, err := e.compileHead(e.relFS, "relevance", p.Model.Relevance, e.relFS.relBlock)
	if err != nil {
		return nil, fmt.Errorf("classify: %s: %w", p.Name, err)
	}
	e.relHead = &rel
	e.heads = heads
	return e, nil
}

// compileWhole builds the whole feature space and model of a fitted
// pack.
func (e *Engine) compileWhole() error {
	e.fs = newFeatSpace(e, true)
	m, err := e.compileModel(e.pack.Model)
	if err != nil {
		return fmt.Errorf("classify: %s: %w", e.pack.Name, err)
	}
	e.model = m
	return nil
}

// wholeModel makes sure e.fs and e.model are the whole feature space and
// model (compiled at the first call for the built-in pack).
func (e *Engine) wholeModel() {
	e.whole.Do(func() {
		err := e.heads()
		if err == nil {
			err = e.compileWhole()
		}
		if err != nil {
			// the tests compile the built-in model: only a broken
			// build gets here
			panic("built-in rule pack: " + err.Error())
		}
	})
}

// Version is the version of the rule pack.
func (e *Engine) Version() string { return e.pack.Version }

// Taxonomy is the pack's topics with their labels, in display order.
func (e *Engine) Taxonomy() rules.Taxonomy { return e.pack.Taxonomy }

// Pack is the rule pack the engine was built from, with the whole of its
// model.
func (e *Engine) Pack() *rules.Pack {
	e.wholeModel()
	return e.pack
}

// scratchPool keeps the scratch space of the items being classified
// for the next ones. Unlike a sync.Pool it is not emptied by each
// garbage collection (a busy pass collects dozens of times), so the
// token buffers are not grown again and again from nothing.
type scratchPool struct {
	f    *text.Folder
	mu   sync.Mutex
	free []*scratch
}

// maxFreeScratch is how many idle scratches a pool keeps; maxKeptToks
// the most tokens a kept scratch may hold room for (one huge item does
// not keep its buffers alive).
const (
	maxFreeScratch = 8
	maxKeptToks    = 1 << 14
)

func (p *scratchPool) get() *scratch {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		z := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return z
	}
	p.mu.Unlock()
	return &scratch{sc: text.NewScanner(p.f)}
}

func (p *scratchPool) put(z *scratch) {
	if cap(z.toks) > maxKeptToks {
		return
	}
	p.mu.Lock()
	if len(p.free) < maxFreeScratch {
		p.free = append(p.free, z)
	}
	p.mu.Unlock()
}

type scratch struct {
	sc    *text.Scanner
	toks  []vtok
	sents []span
	raw   []rawHit
	hits  []hit
	spans []span
	fs    []field
	v     fvec
	word  []byte // a word feature's name being looked up
}

// candidate is the prefilter: false only when the item is in Latin script
// and no word of it starts with a prefilter piece, so no alias or
// cybercrime word can match. One pass over the bytes, no allocation.
func (e *Engine) candidate(it fetch.Item) bool {
	if !e.hasAnchors {
		return true
	}
	cls := &e.byteClass
	for _, s := range []string{it.Title, it.Summary, it.Content} {
		prevAlnum := false
		for i := 0; i < len(s); {
			// ASCII bytes: one test each, for the rare byte that needs a
			// look (a word that starts with the first letter of a piece,
			// a non-ASCII rune)
			var prev uint8
			if prevAlnum {
				prev = clAlnum
			}
			for ; i < len(s); i++ {
				cl := cls[s[i]]
				if cl&(clHigh|clAnchor)&^(prev<<1) != 0 {
					break
				}
				prev = cl & clAlnum
			}
			prevAlnum = prev != 0
			if i == len(s) {
				break
			}
			c := s[i]
			if c < 0x80 {
				// a word starts with the first letter of a piece
				if i+1 >= len(s) || e.anchorPair(c, s[i+1]) {
					for _, a := range e.anchors[c|0x20] {
						if hasPrefixFold(s[i:], a) {
							return true
						}
					}
				}
				prevAlnum = true
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r < 0x250 {
				// Latin-1 and Latin Extended: letters fold to ASCII
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
				// general punctuation: quotes, dashes, spaces
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
				// a combining mark stays inside its word
			default:
				prevAlnum = false
			}
			i += n
		}
	}
	return false
}

// anchorPair: a word that starts with ASCII bytes c, d may start with a
// prefilter piece (d is not ASCII, a piece has one letter, or c, d folded
// start one).
func (e *Engine) anchorPair(c, d byte) bool {
	if d >= 0x80 {
		return true
	}
	if d >= 'A' && d <= 'Z' {
		d += 'a' - 'A'
	}
	k := uint(c|0x20)<<7 | uint(d)
	return e.pairs[k>>6]&(1<<(k&63)) != 0
}

// hasPrefixFold: s starts with the lower-case ASCII piece a, ignoring
// ASCII case; a non-ASCII byte on the way counts as a match (the scan
// will decide).
func hasPrefixFold(s, a string) bool {
	if len(s) < len(a) {
		return false
	}
	for j := 0; j < len(a); j++ {
		c := s[j]
		if c >= 0x80 {
			return true
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != a[j] {
			return false
		}
	}
	return true
}

// acronym: at least three letters, all upper case.
func acronym(w string) bool {
	if len(w) < 3 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'A' || w[i] > 'Z' {
			return false
		}
	}
	return true
}

// hasPrefixRunes: the word at the start of s, folded, starts with a.
func hasPrefixRunes(f *text.Folder, s, a string) bool {
	for _, want := range a {
		for {
			if s == "" {
				return false
			}
			r, n := utf8.DecodeRuneInString(s)
			s = s[n:]
			if unicode.Is(unicode.Mn, r) {
				continue
			}
			if f.Fold(r) != want {
				return false
			}
			break
		}
	}
	return true
}

// withoutTitle returns body without a leading copy of title.
func withoutTitle(body, title string) string {
	t := strings.TrimSpace(title)
	b := strings.TrimLeft(body, " \t\r\n")
	if t == "" || !strings.HasPrefix(b, t) {
		return body
	}
	return b[len(t):]
}

// byte classes of the prefilter (0: an ASCII byte that is not a letter
// or a digit)
const (
	clAlnum  = 1 // ASCII letter or digit
	clAnchor = 2 // a prefilter piece starts with this byte (any case)
	clHigh   = 4 // a byte of a non-ASCII rune
)

// hit is a rule that fired on words toks[i..j] of a field.
type hit struct {
	rule         int32
	pat          int32
	field        int
	i, j         int32
	pos, endPos  int32
	sent, clause int32
	flags        uint8
	bstart, bend int32
	dropped      bool
}

type field struct {
	name  string
	s     string
	sents []span
	hits  []hit
}

// MaybeRelevant is a cheap pre-check on title and summary: true when an
// alias or a cybercrime word appears, so the full text is worth fetching.
func (e *Engine) MaybeRelevant(it fetch.Item) bool {
	z := e.pool.get()
	defer e.pool.put(z)
	for _, s := range []string{it.Title, it.Summary} {
		if s == "" {
			continue
		}
		z.toks, z.sents = e.m.scanField(z.sc, s, z.toks[:0], z.sents[:0])
		z.raw = e.m.find(z.toks, z.raw[:0])
		for _, r := range z.raw {
			for _, ri := range e.m.patterns[r.pat].rules {
				if k := e.rules[ri].kind; k == kAlias || k == kCyber {
					return true
				}
			}
		}
	}
	return false
}

// scan finds every rule hit in the fields of an item.
func (e *Engine) scan(z *scratch, it fetch.Item) []field {
	fs := z.fs[:0]
	hits, spans := z.hits[:0], z.spans[:0]
	summary := it.Summary
	if it.Content != "" && summary != "" {
		probe := summary
		if len(probe) > 80 {
			probe = probe[:80]
		}
		if strings.Contains(it.Content, probe) {
			summary = ""
		}
	}
	// A body that opens with the headline (articles, extracted pages) must
	// not count the headline twice.
	summary = withoutTitle(summary, it.Title)
	content := withoutTitle(it.Content, it.Title)
	for _, f := range []struct{ name, s string }{{FieldTitle, it.Title}, {FieldSummary, summary}, {FieldContent, content}} {
		if strings.TrimSpace(f.s) == "" {
			continue
		}
		fd := field{name: f.name, s: f.s}
		h0, s0 := len(hits), len(spans)
		z.toks, spans = e.m.scanField(z.sc, fd.s, z.toks[:0], spans)
		z.raw = e.m.find(z.toks, z.raw[:0])
		fi := len(fs)
		for _, r := range z.raw {
			a, b := &z.toks[r.i], &z.toks[r.j]
			for _, ri := range e.m.patterns[r.pat].rules {
				hits = append(hits, hit{rule: ri, pat: r.pat, field: fi, i: r.i, j: r.j, pos: a.pos, endPos: b.pos,
					sent: a.Sent, clause: a.Clause, flags: a.Flags, bstart: a.Start, bend: b.End})
			}
		}
		fd.hits = hits[h0:len(hits):len(hits)]
		fd.sents = spans[s0:len(spans):len(spans)]
		e.dropContained(fd.hits)
		fs = append(fs, fd)
	}
	// the slices may have moved while growing: point the fields at the
	// final arrays
	h0, s0 := 0, 0
	for i := range fs {
		nh, ns := len(fs[i].hits), len(fs[i].sents)
		fs[i].hits = hits[h0 : h0+nh : h0+nh]
		fs[i].sents = spans[s0 : s0+ns : s0+ns]
		h0, s0 = h0+nh, s0+ns
	}
	z.hits, z.spans, z.fs = hits, spans, fs
	// guards cancel the rules they suppress
	var sup []int32
	for _, f := range fs {
		for _, h := range f.hits {
			if !h.dropped && len(e.rules[h.rule].suppress) > 0 {
				sup = append(sup, e.rules[h.rule].suppress...)
			}
		}
	}
	if len(sup) > 0 {
		for fi := range fs {
			for hi := range fs[fi].hits {
				for _, s := range sup {
					if fs[fi].hits[hi].rule == s {
						fs[fi].hits[hi].dropped = true
					}
				}
			}
		}
	}
	return fs
}

// group of a kind for overlap resolution: a longer term hides a shorter
// one of the same group (and an alias hides a guard inside it: the
// "Convention on Cybercrime" of "UN Convention on Cybercrime").
func group(k kind) int {
	switch k {
	case kAlias, kGuard:
		return 0
	case kTopic:
		return 1
	case kCue, kNeg, kContrast, kConcessive, kHedge:
		return 2
	case kActor:
		return 3
	}
	return 4 + int(k)
}

func (e *Engine) dropContained(hs []hit) {
	const maxSpan = 40
	for a := range hs {
		ha := &hs[a]
		ga := group(e.rules[ha.rule].kind)
		for b := a - 1; b >= 0 && hs[b].i >= ha.i-maxSpan; b-- {
			e.hide(ha, &hs[b], ga)
		}
		for b := a + 1; b < len(hs) && hs[b].i <= ha.i; b++ {
			e.hide(ha, &hs[b], ga)
		}
	}
}

func (e *Engine) hide(a, b *hit, ga int) {
	if b.i > a.i || b.j < a.j || b.j-b.i <= a.j-a.i {
		return
	}
	kb := e.rules[b.rule].kind
	ka := e.rules[a.rule].kind
	if group(kb) == ga && (ka != kAlias || kb == kAlias) {
		a.dropped = true
	}
	// a topic word inside an organisation's name ("Human Rights Watch",
	// "Committee to Protect Journalists") says nothing about the topic
	if ka == kTopic && kb == kActor && e.rules[b.rule].actor != rules.ActorState {
		a.dropped = true
	}
}

// Classify labels one item. It is pure and safe for concurrent use.
func (e *Engine) Classify(it fetch.Item) Result {
	if !e.candidate(it) {
		return Result{Rules: e.pack.Version, Topics: []rules.Topic{}, Evidence: []Match{}}
	}
	z := e.pool.get()
	defer e.pool.put(z)
	fs := e.scan(z, it)
	if e.fitted {
		return e.classifyFitted(z, fs, it)
	}
	res := Result{Rules: e.pack.Version, Topics: []rules.Topic{}, Evidence: []Match{}}
	ev := &evidence{fs: fs, e: e, per: map[int32]int{}}

	// relevance
	st := &e.set
	var score float64
	var hasUN bool
	guards := map[int32]bool{}
	// sentences that name the treaty (alias, or cybercrime and treaty
	// words together)
	var named namedSents
	for fi, f := range fs {
		tw := 1.0
		if f.name == FieldTitle {
			tw = st.TitleWeight
		}
		nsent := len(f.sents)
		cyber := make([]bool, nsent)
		treaty := make([]bool, nsent)
		alias := make([]bool, nsent)
		for hi, h := range f.hits {
			if h.dropped {
				continue
			}
			r := &e.rules[h.rule]
			switch r.kind {
			case kAlias:
				score += r.weight * tw
				hasUN = true
				alias[h.sent] = true
				named.add(fi, h.sent)
				ev.add(fi, hi, r.weight*tw, "")
			case kUN:
				hasUN = true
			case kCyber:
				cyber[h.sent] = true
			case kTreaty:
				treaty[h.sent] = true
			case kGuard:
				if !guards[h.rule] {
					guards[h.rule] = true
					ev.add(fi, hi, -r.penalty, r.label)
				}
			}
		}
		for s := 0; s < nsent; s++ {
			// a sentence with an alias has been counted already
			if cyber[s] && treaty[s] && !alias[s] {
				score += e.pack.Gate.Weight * tw
				ev.addGate(fi, int32(s), e.pack.Gate.Weight*tw)
				named.add(fi, int32(s))
			}
		}
	}
	if !hasUN {
		// the gate needs a UN word somewhere in the item
		score = 0
		for _, f := range fs {
			for _, h := range f.hits {
				if !h.dropped && e.rules[h.rule].kind == kAlias {
					score += e.rules[h.rule].weight
				}
			}
		}
		ev.dropGate()
	}
	for g := range guards {
		score -= e.rules[g].penalty
	}
	res.Relevant = score >= st.RelevanceThreshold
	if score > 0 {
		res.Score = round3(score / (score + st.RelevanceThreshold))
	}
	if !res.Relevant {
		res.Evidence = ev.out
		return res
	}

	// who speaks; the speaker's own name is not a topic ("the Russian
	// Federation believes" is not geopolitics)
	own := e.ownActor(it)
	ownTerm := func(f *field, h *hit) bool {
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

	// topics: a sentence counts once per topic, with its strongest term;
	// more distinct terms of the topic in the same sentence raise it up
	// to SentenceCap (a sentence about the topic, not a word in passing)
	// one running sentence per topic (hits come in text order)
	type sentTopic struct {
		fi, sent     int32
		max, sum, tw float64
		terms        []int32
	}
	nt := len(e.topics)
	cur := make([]sentTopic, nt)
	for i := range cur {
		cur[i].fi = -1
	}
	tscore := make([]float64, nt)
	flush := func(s *sentTopic, topic int) {
		if s.fi < 0 {
			return
		}
		w := s.max
		if st.SentenceCap > 0 && s.sum > w {
			w = minf(s.sum, maxf(w, st.SentenceCap*s.tw))
		}
		tscore[topic] += w
	}
	for fi, f := range fs {
		tw := 1.0
		if f.name == FieldTitle {
			tw = st.TitleWeight
		}
		for hi, h := range f.hits {
			r := &e.rules[h.rule]
			if h.dropped || r.kind != kTopic || ownTerm(&fs[fi], &f.hits[hi]) {
				continue
			}
			w := r.weight * tw
			s := &cur[r.topic]
			if s.fi != int32(fi) || s.sent != h.sent {
				flush(s, r.topic)
				*s = sentTopic{fi: int32(fi), sent: h.sent, tw: tw, terms: s.terms[:0]}
			}
			if slices.Contains(s.terms, h.pat) {
				continue
			}
			s.terms = append(s.terms, h.pat)
			s.sum += w
			if w > s.max {
				s.max = w
			}
			ev.add(fi, hi, w, string(e.topics[r.topic]))
		}
	}
	for i := range cur {
		flush(&cur[i], i)
	}
	for i, s := range tscore {
		t := st.TopicThreshold
		if v, ok := st.TopicThresholds[e.topics[i]]; ok {
			t = v
		}
		if s < t {
			continue
		}
		res.Topics = append(res.Topics, e.topics[i])
	}

	// a passing mention: the treaty is named in one sentence of the body
	// only, and the item says nothing of substance about it
	if n := st.SingleMentionTopics; n > 0 && named.n == 1 && len(res.Topics) < n {
		if fs[named.fi].name != FieldTitle {
			res.Relevant = false
			res.Topics = []rules.Topic{}
			ev.note("relevance.single-mention", "passing mention: the treaty is named in one sentence and no topic")
			res.Evidence = ev.out
			return res
		}
	}

	// actor and stance
	res.Lang = e.lang.detect(it)
	if own >= 0 {
		res.Actor = e.rules[own].name
	} else if it.SourceActor != "" {
		res.Actor = it.SourceActor
	}
	res.Stance = e.stance(fs, own, it.SourceActor != "", ev)
	res.Evidence = ev.out
	return res
}

// ownActor finds who speaks when the item is a statement: the source's
// actor, else an actor named in the source name or the by-line, else the
// actor whose site the item is on (not the press).
func (e *Engine) ownActor(it fetch.Item) int32 {
	if a := e.ownActorNamed(it); a >= 0 {
		return a
	}
	if a := e.siteActor(it.URL); a >= 0 && e.rules[a].actor != rules.ActorPress {
		return a
	}
	return -1
}

// siteActor is the actor rule whose site hosts rawURL, or -1.
func (e *Engine) siteActor(rawURL string) int32 {
	if len(e.actorBySite) == 0 || rawURL == "" {
		return -1
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return -1
	}
	h := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	for h != "" {
		if a, ok := e.actorBySite[h]; ok {
			return a
		}
		i := strings.IndexByte(h, '.')
		if i < 0 || !strings.Contains(h[i+1:], ".") {
			break
		}
		h = h[i+1:]
	}
	return -1
}

func (e *Engine) ownActorNamed(it fetch.Item) int32 {
	for _, s := range []string{it.SourceActor, it.SourceName, it.Author} {
		if s == "" {
			continue
		}
		if i, ok := e.actorByName[strings.ToLower(strings.TrimSpace(s))]; ok {
			return i
		}
		z := e.pool.get()
		z.toks, z.sents = e.m.scanField(z.sc, s, z.toks[:0], z.sents[:0])
		z.raw = e.m.find(z.toks, z.raw[:0])
		best, bestLen := int32(-1), int32(-1)
		for _, r := range z.raw {
			for _, ri := range e.m.patterns[r.pat].rules {
				c := &e.rules[ri]
				if c.kind != kActor || c.actor == rules.ActorPress || r.j-r.i <= bestLen {
					continue
				}
				// a bare country name in a source name is a place ("SPO
				// India", "The Herald (Zimbabwe)"), not a government: a
				// state speaks through a longer name or an acronym
				// ("Russian MFA", "DFAT")
				if c.actor == rules.ActorState && r.i == r.j && !acronym(s[z.toks[r.i].Start:z.toks[r.i].End]) {
					continue
				}
				best, bestLen = ri, r.j-r.i
			}
		}
		e.pool.put(z)
		if best >= 0 {
			return best
		}
	}
	return -1
}

func (e *Engine) stance(fs []field, own int32, sourceActor bool, ev *evidence) Stance {
	st := &e.set
	var sup, crit, mixed float64
	firstPerson := 0
	for _, f := range fs {
		for _, h := range f.hits {
			if !h.dropped && e.rules[h.rule].kind == kFirst && h.flags&text.InQuote == 0 {
				firstPerson++
			}
		}
	}
	statement := own >= 0 || sourceActor || firstPerson >= 2
	for fi, f := range fs {
		n := len(f.sents)
		reported := make([]bool, n)
		otherActor := make([]bool, n)
		ownNamed := make([]bool, n)
		for _, h := range f.hits {
			if h.dropped {
				continue
			}
			r := &e.rules[h.rule]
			switch r.kind {
			case kReport:
				reported[h.sent] = true
			case kActor:
				if own >= 0 && (h.rule == own || e.rules[h.rule].name == e.rules[own].name) {
					ownNamed[h.sent] = true
				} else if r.actor != rules.ActorPress {
					otherActor[h.sent] = true
				}
			}
		}
		tw := 1.0
		if f.name == FieldTitle {
			tw = st.TitleWeight
		}
		for hi, h := range f.hits {
			r := &e.rules[h.rule]
			if h.dropped || r.kind != kCue {
				continue
			}
			w := r.weight * tw
			var notes []string
			negated, after, before, conc, hedge := false, false, false, false, false
			for _, m := range f.hits {
				if m.dropped || m.sent != h.sent {
					continue
				}
				switch e.rules[m.rule].kind {
				case kNeg:
					if m.endPos < h.pos && h.pos-m.endPos <= int32(st.NegationWindow) {
						negated = true
					}
				case kContrast:
					if m.endPos < h.pos {
						after = true
					} else if m.pos > h.endPos {
						before = true
					}
				case kConcessive:
					if m.clause == h.clause && m.endPos < h.pos {
						conc = true
					}
				case kHedge:
					if m.clause == h.clause && m.endPos < h.pos {
						hedge = true
					}
				}
			}
			switch {
			case negated:
				w = 0
				notes = append(notes, "negated")
			case after:
				w *= st.ContrastAfter
				notes = append(notes, "after contrast")
			case before:
				w *= st.ContrastBefore
				notes = append(notes, "before contrast")
			}
			if conc {
				w *= st.ConcessiveWeight
				notes = append(notes, "concessive")
			}
			if hedge {
				w *= st.HedgeWeight
				notes = append(notes, "hedged")
			}
			if h.flags&text.InQuote != 0 || reported[h.sent] {
				switch {
				case statement && ownNamed[h.sent]:
					notes = append(notes, "own speaker")
				case statement && !otherActor[h.sent]:
					notes = append(notes, "reported, own statement")
				default:
					w *= st.ReportedWeight
					notes = append(notes, "reported")
				}
			}
			switch r.label {
			case rules.LabelSupportive:
				sup += w
			case rules.LabelCritical:
				crit += w
			case rules.LabelMixed:
				mixed += w
			}
			label := r.label
			if len(notes) > 0 {
				label += " (" + strings.Join(notes, ", ") + ")"
			}
			ev.add(fi, hi, round3(w), label)
		}
	}
	if own >= 0 && statement {
		switch e.position(own).prior {
		case rules.LabelSupportive:
			sup += st.PriorWeight
		case rules.LabelCritical:
			crit += st.PriorWeight
		}
	}
	t, ratio := st.StanceThreshold, st.StanceRatio
	switch {
	case mixed >= t && mixed >= sup && mixed >= crit:
		return StanceMixed
	case crit >= t && crit >= ratio*sup:
		return StanceCritical
	case sup >= t && sup >= ratio*crit:
		return StanceSupportive
	case statement && sup >= t && crit >= t:
		return StanceMixed
	}
	return StanceNeutral
}

// evidence collects Matches, at most a few per rule.
type evidence struct {
	e   *Engine
	fs  []field
	out []Match
	per map[int32]int
}

const maxPerRule = 3

func (v *evidence) add(fi, hi int, w float64, label string) {
	h := &v.fs[fi].hits[hi]
	if v.per[h.rule] >= maxPerRule {
		return
	}
	v.per[h.rule]++
	f := &v.fs[fi]
	r := &v.e.rules[h.rule]
	v.out = append(v.out, Match{
		Rule:     r.id,
		Kind:     kindName[r.kind],
		Label:    label,
		Words:    []string{f.s[h.bstart:h.bend]},
		Sentence: sentence(f, h.sent),
		Field:    f.name,
		Weight:   round3(w),
	})
}

func (v *evidence) addGate(fi int, sent int32, w float64) {
	f := &v.fs[fi]
	var words []string
	for _, h := range f.hits {
		if h.sent == sent && !h.dropped {
			if k := v.e.rules[h.rule].kind; k == kCyber || k == kTreaty {
				words = append(words, f.s[h.bstart:h.bend])
			}
		}
	}
	v.out = append(v.out, Match{Rule: v.e.pack.Gate.Cyber.ID + "+" + v.e.pack.Gate.Treaty.ID, Kind: "gate",
		Words: words, Sentence: sentence(f, sent), Field: f.name, Weight: round3(w)})
}

// note records a decision that rests on no single hit.
func (v *evidence) note(rule, label string) {
	v.out = append(v.out, Match{Rule: rule, Kind: "guard", Label: label})
}

func (v *evidence) dropGate() {
	out := v.out[:0]
	for _, m := range v.out {
		if m.Kind != "gate" {
			out = append(out, m)
		}
	}
	v.out = out
}

func sentence(f *field, s int32) string {
	if int(s) >= len(f.sents) {
		return ""
	}
	sp := f.sents[s]
	t := strings.TrimSpace(f.s[sp.start:sp.end])
	if len(t) > 400 {
		cut := 400
		for cut > 0 && t[cut]&0xC0 == 0x80 {
			cut--
		}
		t = t[:cut] + "…"
	}
	return t
}

func round3(x float64) float64 {
	if x < 0 {
		return -round3(-x)
	}
	return float64(int64(x*1000+0.5)) / 1000
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

// namedSents counts the distinct sentences that name the treaty.
type namedSents struct {
	n        int
	fi, sent int32
}

func (s *namedSents) add(fi int, sent int32) {
	if s.n == 0 || s.n == 1 && (s.fi != int32(fi) || s.sent != sent) {
		s.n++
		s.fi, s.sent = int32(fi), sent
	}
}
