package rules

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Model is the fitted part of a pack: for each decision, the weight of
// every named feature the engine computes from the pack's vocabulary
// (which rule matched, in which voice, in which part of the item). It is
// written by "treatywatch classify fit", never by hand: the vocabulary is
// domain knowledge, the weights are learned from labelled items.
type Model struct {
	// Fitted says what the weights were fitted on.
	Fitted string `yaml:"fitted"`
	// L2 is the ridge penalty the fit used.
	L2 float64 `yaml:"l2"`
	// WordL2Topics and WordL2Stance are the penalties of the word
	// features the fit chose for the topic heads and the stance softmax
	// (negative: no word features).
	WordL2Topics float64 `yaml:"word_l2_topics,omitempty"`
	WordL2Stance float64 `yaml:"word_l2_stance,omitempty"`
	// Relevance is a logistic head: relevant when its probability >= its
	// threshold.
	Relevance Head `yaml:"relevance"`
	// Topics has one logistic head per taxonomy topic.
	Topics map[Topic]Head `yaml:"topics"`
	// Stance has one head per label (supportive, critical, neutral): a
	// softmax over their scores.
	Stance map[string]Head `yaml:"stance"`
}

// Head is one linear scorer: bias plus the weighted features.
type Head struct {
	Bias float64 `yaml:"bias"`
	// Threshold on the probability, for a yes/no head (0.5 when left out).
	Threshold float64            `yaml:"threshold,omitempty"`
	Weights   map[string]float64 `yaml:"weights"`
}

// StanceHeads are the labels of the stance softmax, in its order.
func StanceHeads() []string {
	return []string{LabelSupportive, LabelCritical, LabelNeutral}
}

func (m *Model) validate(tax Taxonomy, fail func(line int, format string, args ...any) error, line int) error {
	check := func(what string, h *Head) error {
		if !finite(h.Bias) {
			return fail(line, "model: %s: bias is not a finite number", what)
		}
		if h.Threshold < 0 || h.Threshold >= 1 || !finite(h.Threshold) {
			return fail(line, "model: %s: threshold must be in [0, 1)", what)
		}
		for k, w := range h.Weights {
			if strings.TrimSpace(k) == "" {
				return fail(line, "model: %s: a weight without a feature name", what)
			}
			if !finite(w) {
				return fail(line, "model: %s: weight of %q is not a finite number", what, k)
			}
		}
		return nil
	}
	if err := check("relevance", &m.Relevance); err != nil {
		return err
	}
	for t, h := range m.Topics {
		if !tax.Has(t) {
			return fail(line, "model: unknown topic id %q", t)
		}
		if err := check("topic "+string(t), &h); err != nil {
			return err
		}
	}
	heads := map[string]bool{}
	for _, s := range StanceHeads() {
		heads[s] = true
	}
	for s, h := range m.Stance {
		if !heads[s] {
			return fail(line, "model: unknown stance head %q (want supportive, critical, neutral)", s)
		}
		if err := check("stance "+s, &h); err != nil {
			return err
		}
	}
	if len(m.Stance) != 0 && len(m.Stance) != len(heads) {
		return fail(line, "model: stance needs a head for each of supportive, critical and neutral")
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// WithModel returns the pack source src with its model section replaced by
// m (or appended when it has none). The rest of the file, comments
// included, is kept as written. The model is written with sorted keys and
// rounded weights, so the same fit gives the same bytes.
func WithModel(src []byte, m *Model) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("rules: a rule pack must be a mapping")
	}
	doc := root.Content[0]
	head := src
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k := doc.Content[i]
		if k.Value != "model" {
			continue
		}
		if i+2 < len(doc.Content) {
			return nil, fmt.Errorf("rules: line %d: the model section must be the last one of the pack", k.Line)
		}
		head = cutAtLine(src, k.Line)
		break
	}
	head = bytes.TrimRight(head, " \t\r\n")
	var b bytes.Buffer
	b.Write(head)
	b.WriteString("\n\n# Fitted weights (treatywatch classify fit): do not edit by hand, refit.\n")
	out, err := yaml.Marshal(map[string]*Model{"model": m.rounded()})
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	b.Write(out)
	return b.Bytes(), nil
}

// cutAtLine returns src up to the start of 1-based line n, leaving out the
// comment lines right above it.
func cutAtLine(src []byte, n int) []byte {
	lines := bytes.SplitAfter(src, []byte("\n"))
	if n-1 > len(lines) {
		return src
	}
	end := n - 1
	for end > 0 && bytes.HasPrefix(bytes.TrimSpace(lines[end-1]), []byte("#")) {
		end--
	}
	return bytes.Join(lines[:end], nil)
}

// Round is how many decimals the model keeps.
const Round = 1e5

func round(x float64) float64 { return math.Round(x*Round) / Round }

func (m *Model) rounded() *Model {
	r := &Model{Fitted: m.Fitted, L2: m.L2, WordL2Topics: m.WordL2Topics, WordL2Stance: m.WordL2Stance, Relevance: m.Relevance.rounded(), Topics: map[Topic]Head{}, Stance: map[string]Head{}}
	for k, h := range m.Topics {
		r.Topics[k] = h.rounded()
	}
	for k, h := range m.Stance {
		r.Stance[k] = h.rounded()
	}
	return r
}

func (h Head) rounded() Head {
	r := Head{Bias: round(h.Bias), Threshold: round(h.Threshold), Weights: map[string]float64{}}
	keys := make([]string, 0, len(h.Weights))
	for k := range h.Weights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if w := round(h.Weights[k]); w != 0 {
			r.Weights[k] = w
		}
	}
	return r
}
