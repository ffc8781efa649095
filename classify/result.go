package classify

import (
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// Stance is an item's own position toward the treaty.
type Stance string

// Stances, spelled as the pack's cue labels. An irrelevant item has no
// stance.
const (
	StanceNone       Stance = ""
	StanceSupportive Stance = rules.LabelSupportive
	StanceCritical   Stance = rules.LabelCritical
	StanceNeutral    Stance = rules.LabelNeutral
	StanceMixed      Stance = rules.LabelMixed
	// StanceUnlabelled is the bucket of relevant items without a stance
	// where items are counted or filtered by stance (the digest, the
	// dashboard); the classifier never returns it.
	StanceUnlabelled Stance = "unlabelled"
)

// Field names where evidence was found.
const (
	FieldTitle   = "title"
	FieldSummary = "summary"
	FieldContent = "content"
	FieldSource  = "source"
)

// Match is one piece of evidence: which rule fired, on which words, in
// which sentence of which field.
type Match struct {
	Rule     string   `json:"rule"`
	Kind     string   `json:"kind"` // alias, gate, guard, topic, stance, actor
	Label    string   `json:"label,omitempty"`
	Words    []string `json:"words"`
	Sentence string   `json:"sentence,omitempty"`
	Field    string   `json:"field"`
	Weight   float64  `json:"weight,omitempty"`
}

// Result is what the classifier says of one item.
type Result struct {
	Relevant bool          `json:"relevant"`
	Score    float64       `json:"score"`
	Topics   []rules.Topic `json:"topics"`
	Stance   Stance        `json:"stance"`
	Actor    string        `json:"actor,omitempty"`
	// Lang is the language of the item's text (ISO 639-1), detected from
	// its words for relevant items; empty for the others (their source's
	// language stands).
	Lang     string  `json:"lang,omitempty"`
	Evidence []Match `json:"evidence"`
	// Rules is the version of the rule pack that produced the result, so
	// results are reproducible and reclassify can find stale ones.
	Rules string `json:"rules"`
}

// Classifier labels items. It is pure: no I/O, safe for concurrent use.
type Classifier interface {
	Classify(it fetch.Item) Result
}
