package rules

import (
	"bytes"
	_ "embed"
	"encoding/gob"
	"fmt"
	"sort"
	"sync"
)

// The built-in pack is shipped twice: as YAML (default.yaml, what people
// read, edit and refit) and as default.gob, the same validated pack in
// gob. Parsing 500 KB of YAML took 60 ms, in every command that
// classifies; decoding the gob takes a few. TestBuiltinEncoding fails
// when default.gob is not what default.yaml loads to, and says how to
// write it again:
//
//go:generate go test -run ^TestBuiltinEncoding$ -update .

//go:embed default.gob
var defaultGob []byte

// Default returns the rule pack embedded in the binary.
func Default() (*Pack, error) {
	p, heads, err := DefaultDeferred()
	if err != nil {
		return nil, err
	}
	if err := heads(); err != nil {
		return nil, err
	}
	return p, nil
}

// DefaultDeferred returns the rule pack embedded in the binary without
// the topic and stance heads of its model (four fifths of the encoding:
// a classifier that meets only irrelevant items never reads them), and a
// function that decodes them into the pack's model. Until that function
// has returned, p.Model.Topics and p.Model.Stance are nil; it decodes
// once, and later calls return what the first did.
func DefaultDeferred() (p *Pack, heads func() error, err error) {
	d := gob.NewDecoder(bytes.NewReader(defaultGob))
	p, err = decodeCore(d)
	if err != nil {
		return nil, nil, &LoadError{File: DefaultName, Reason: fmt.Sprintf("embedded encoding: %v", err)}
	}
	p.Name = DefaultName
	heads = sync.OnceValue(func() error {
		if err := decodeHeads(d, p); err != nil {
			return &LoadError{File: DefaultName, Reason: fmt.Sprintf("embedded encoding: %v", err)}
		}
		return nil
	})
	return p, heads, nil
}

// encodedPack is a pack in the form gob writes the same way every time:
// its maps as slices sorted by key, the pack itself with those maps left
// out. The topic and stance heads of its model follow it in the stream,
// as an encodedHeads, so that they can be decoded later.
type encodedPack struct {
	Pack            *Pack
	TopicThresholds []encodedWeight
	Relevance       []encodedWeight
}

// encodedHeads are the topic and stance heads of a pack's model.
type encodedHeads struct {
	Topics []encodedHead
	Stance []encodedHead
}

type encodedWeight struct {
	Key    string
	Weight float64
}

type encodedHead struct {
	Name    string
	Head    Head // without its weights
	Weights []encodedWeight
}

func sortedWeights[K ~string](m map[K]float64) []encodedWeight {
	out := make([]encodedWeight, 0, len(m))
	for k, w := range m {
		out = append(out, encodedWeight{string(k), w})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func weightMap[K ~string](ws []encodedWeight) map[K]float64 {
	if ws == nil {
		return nil
	}
	m := make(map[K]float64, len(ws))
	for _, w := range ws {
		m[K(w.Key)] = w.Weight
	}
	return m
}

func sortedHeads[K ~string](m map[K]Head) []encodedHead {
	out := make([]encodedHead, 0, len(m))
	for name, h := range m {
		ws := sortedWeights(h.Weights)
		h.Weights = nil
		out = append(out, encodedHead{Name: string(name), Head: h, Weights: ws})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func headMap[K ~string](hs []encodedHead) map[K]Head {
	if hs == nil {
		return nil
	}
	m := make(map[K]Head, len(hs))
	for _, e := range hs {
		e.Head.Weights = weightMap[string](e.Weights)
		m[K(e.Name)] = e.Head
	}
	return m
}

// encodePack writes a loaded pack in gob; the same pack gives the same
// bytes.
func encodePack(p *Pack) ([]byte, error) {
	cp := *p
	cp.Name = ""
	e := encodedPack{Pack: &cp, TopicThresholds: sortedWeights(p.Settings.TopicThresholds)}
	cp.Settings.TopicThresholds = nil
	var h encodedHeads
	if p.Model != nil {
		m := *p.Model
		e.Relevance = sortedWeights(m.Relevance.Weights)
		h.Topics, h.Stance = sortedHeads(m.Topics), sortedHeads(m.Stance)
		m.Relevance.Weights, m.Topics, m.Stance = nil, nil, nil
		cp.Model = &m
	}
	var b bytes.Buffer
	enc := gob.NewEncoder(&b)
	if err := enc.Encode(&e); err != nil {
		return nil, err
	}
	if err := enc.Encode(&h); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodePack reads what encodePack wrote.
func decodePack(data []byte) (*Pack, error) {
	d := gob.NewDecoder(bytes.NewReader(data))
	p, err := decodeCore(d)
	if err != nil {
		return nil, err
	}
	if err := decodeHeads(d, p); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeCore reads the pack encodePack wrote first, without the topic
// and stance heads of its model.
func decodeCore(d *gob.Decoder) (*Pack, error) {
	var e encodedPack
	if err := d.Decode(&e); err != nil {
		return nil, err
	}
	if e.Pack == nil {
		return nil, fmt.Errorf("no pack")
	}
	p := e.Pack
	if len(e.TopicThresholds) > 0 {
		p.Settings.TopicThresholds = weightMap[Topic](e.TopicThresholds)
	}
	if m := p.Model; m != nil {
		m.Relevance.Weights = weightMap[string](e.Relevance)
	}
	return p, nil
}

// decodeHeads reads the topic and stance heads that follow the pack
// into its model.
func decodeHeads(d *gob.Decoder, p *Pack) error {
	var h encodedHeads
	if err := d.Decode(&h); err != nil {
		return fmt.Errorf("model heads: %w", err)
	}
	if m := p.Model; m != nil {
		m.Topics, m.Stance = headMap[Topic](h.Topics), headMap[string](h.Stance)
	}
	return nil
}
