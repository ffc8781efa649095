package classify

import (
	"github.com/treatywatch/treatywatch/classify/internal/text"
)

// matcher is a token-level trie over normalised words: every term of the
// pack is a path of word ids, and the words of an item are looked up once
// in a hash map, so one pass over the text finds every term of every rule.
type matcher struct {
	fold   *text.Folder
	full   wordTable // whole word → word id
	prefix wordTable // word prefix (term ending in *) → word id
	// prefixLen[n] is true when some prefix is n bytes long.
	prefixLen []bool
	root      []int32 // word id → first node, -1 when no term starts there
	// a cheap filter that spares most words of a text the lookups of
	// their prefixes: a bit per first two bytes of the prefixes
	pfxBits  []uint64
	nodes    []mnode
	patterns []pattern
}

type mnode struct {
	// the node's children by word id: one child in one and oneNode (one
	// is its word id + 1, 0 when the node has no child), more in next
	next         map[int32]int32
	one, oneNode int32
	out          []int32 // pattern ids ending here
}

// child is the node that word id leads to from n.
func (n *mnode) child(id int32) (int32, bool) {
	if n.next != nil {
		c, ok := n.next[id]
		return c, ok
	}
	if n.one == id+1 {
		return n.oneNode, true
	}
	return 0, false
}

// leaf: no term goes on from n.
func (n *mnode) leaf() bool { return n.one == 0 && n.next == nil }

func (n *mnode) addChild(id, c int32) {
	switch {
	case n.next != nil:
		n.next[id] = c
	case n.one == 0:
		n.one, n.oneNode = id+1, c
	default:
		n.next = map[int32]int32{n.one - 1: n.oneNode, id: c}
		n.one, n.oneNode = 0, 0
	}
}

// pattern is one distinct term; several rules may share it.
type pattern struct {
	text  string
	rules []int32
}

func newMatcher(f *text.Folder) *matcher {
	return &matcher{fold: f,
		pfxBits: make([]uint64, (1<<16)/64)}
}

func pfxKey(w []byte) uint32 { return uint32(w[0])<<8 | uint32(w[1]) }

func hasBit(bits []uint64, k uint32) bool { return bits[k>>6]&(1<<(k&63)) != 0 }
func setBit(bits []uint64, k uint32)      { bits[k>>6] |= 1 << (k & 63) }

func (m *matcher) wordID(w string, prefix bool) int32 {
	tab := &m.full
	if prefix {
		tab = &m.prefix
		for len(m.prefixLen) <= len(w) {
			m.prefixLen = append(m.prefixLen, false)
		}
		m.prefixLen[len(w)] = true
	}
	if prefix {
		setBit(m.pfxBits, pfxKey([]byte(w)))
	}
	id, ok := tab.get([]byte(w))
	if !ok {
		id = int32(len(m.root))
		tab.put(w, id)
		m.root = append(m.root, -1)
	}
	return id
}

// add registers a term (already split into words) for rule r.
func (m *matcher) add(words []string, prefix bool, termText string, r int32) {
	var node int32 = -1
	for i, w := range words {
		id := m.wordID(w, prefix && i == len(words)-1)
		if node < 0 {
			if m.root[id] < 0 {
				m.root[id] = m.newNode()
			}
			node = m.root[id]
			continue
		}
		c, ok := m.nodes[node].child(id)
		if !ok {
			c = m.newNode()
			m.nodes[node].addChild(id, c)
		}
		node = c
	}
	if out := m.nodes[node].out; len(out) > 0 {
		// same word path as an earlier term: share its pattern
		p := &m.patterns[out[0]]
		for _, rr := range p.rules {
			if rr == r {
				return
			}
		}
		p.rules = append(p.rules, r)
		return
	}
	m.patterns = append(m.patterns, pattern{text: termText, rules: []int32{r}})
	m.nodes[node].out = append(m.nodes[node].out, int32(len(m.patterns)-1))
}

func (m *matcher) newNode() int32 {
	m.nodes = append(m.nodes, mnode{})
	return int32(len(m.nodes) - 1)
}

// vtok is a word of the text that is in the vocabulary of the pack.
type vtok struct {
	text.Token
	pos int32 // ordinal of the word among all words of the field
	ids [3]int32
	n   uint8
}

// span is a sentence's byte range.
type span struct{ start, end int32 }

// scanField tokenises s and keeps the words of the vocabulary, and the
// byte span of every sentence.
func (m *matcher) scanField(sc *text.Scanner, s string, toks []vtok, sents []span) ([]vtok, []span) {
	var pos int32
	base := len(sents)
	sc.Scan(s, func(w []byte, t text.Token) {
		for int(t.Sent) >= len(sents)-base {
			sents = append(sents, span{t.Start, t.End})
		}
		sents[base+int(t.Sent)].end = t.End
		p := pos
		pos++
		var v vtok
		if id, ok := m.full.get(w); ok {
			v.ids[0] = id
			v.n = 1
		}
		if len(w) >= 3 && hasBit(m.pfxBits, pfxKey(w)) {
			max := len(w)
			if max >= len(m.prefixLen) {
				max = len(m.prefixLen) - 1
			}
			for l := 3; l <= max && v.n < 3; l++ {
				if m.prefixLen[l] {
					if id, ok := m.prefix.get(w[:l]); ok {
						v.ids[v.n] = id
						v.n++
					}
				}
			}
		}
		if v.n == 0 {
			return
		}
		v.Token = t
		v.pos = p
		toks = append(toks, v)
	})
	return toks, sents
}

// rawHit is a term found at toks[i..j] (inclusive).
type rawHit struct {
	pat  int32
	i, j int32
}

// find walks the trie from every vocabulary word.
func (m *matcher) find(toks []vtok, out []rawHit) []rawHit {
	for i := range toks {
		t := &toks[i]
		for k := uint8(0); k < t.n; k++ {
			if n := m.root[t.ids[k]]; n >= 0 {
				out = m.walk(toks, int32(i), int32(i), n, out)
			}
		}
	}
	return out
}

func (m *matcher) walk(toks []vtok, start, at, node int32, out []rawHit) []rawHit {
	nd := &m.nodes[node]
	for _, p := range nd.out {
		out = append(out, rawHit{pat: p, i: start, j: at})
	}
	if nd.leaf() || int(at)+1 >= len(toks) {
		return out
	}
	nx := &toks[at+1]
	cur := &toks[at]
	if nx.pos != cur.pos+1 || nx.Sent != cur.Sent {
		return out
	}
	for k := uint8(0); k < nx.n; k++ {
		if c, ok := nd.child(nx.ids[k]); ok {
			out = m.walk(toks, start, at+1, c, out)
		}
	}
	return out
}
