package rules

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Term is one phrase of a rule as written in the pack, with its line.
// Words are matched whole after normalisation; a trailing "*" makes the
// last word a prefix ("ратифик*" matches "ратификация").
type Term struct {
	Text string
	Line int
}

// UnmarshalYAML keeps the line of the term.
func (t *Term) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &LoadError{Line: n.Line, Reason: "a term must be a string"}
	}
	t.Text, t.Line = n.Value, n.Line
	return nil
}

// Rule is one named list of terms. The same shape serves every section;
// fields that a section does not use are left empty.
type Rule struct {
	ID string `yaml:"id"`
	// Lang of an alias rule (en, fr, es, ru).
	Lang string `yaml:"lang,omitempty"`
	// Topic is the taxonomy id of a topic rule.
	Topic Topic `yaml:"topic,omitempty"`
	// Label is the stance of a cue (supportive, critical, mixed,
	// neutral), the kind of near-miss of a guard, or the type of an actor
	// (an ActorType).
	Label string `yaml:"label,omitempty"`
	// Weight of one hit; 1 when left out.
	Weight float64 `yaml:"weight,omitempty"`
	// Name is an actor's display name.
	Name string `yaml:"name,omitempty"`
	// Prior is an actor's usual stance toward the treaty; it counts only
	// when the item is that actor's own statement, and only a little.
	Prior string `yaml:"prior,omitempty"`
	// Basis says where an actor's known position comes from (a
	// published statement, a signature).
	Basis string `yaml:"basis,omitempty"`
	// Sites are the web hosts an actor publishes on ("hrw.org"): an item
	// whose URL is on one of them (or a subdomain) is the actor's own, or
	// for the press, the outlet's.
	Sites []string `yaml:"sites,omitempty"`
	// Suppress lists rule ids whose hits a guard cancels when it fires
	// (UNCC the Compensation Commission cancels the UNCC alias).
	Suppress []string `yaml:"suppress,omitempty"`
	// Penalty a guard takes off the relevance score.
	Penalty float64 `yaml:"penalty,omitempty"`
	Terms   []Term  `yaml:"terms"`
	// Line where the rule starts in the pack.
	Line int `yaml:"-"`
}

// UnmarshalYAML keeps the line of the rule.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	type plain Rule
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*r = Rule(p)
	r.Line = n.Line
	return nil
}

// ActorType is the type of an actor rule.
func (r *Rule) ActorType() ActorType { return ActorType(r.Label) }

// W is the rule's weight, 1 when not set.
func (r *Rule) W() float64 {
	if r.Weight == 0 {
		return 1
	}
	return r.Weight
}

// Gate is the second way into relevance: a cybercrime word together with
// a treaty word in one sentence, and a UN word in the item.
type Gate struct {
	Cyber  Rule    `yaml:"cyber"`
	Treaty Rule    `yaml:"treaty"`
	UN     Rule    `yaml:"un"`
	Weight float64 `yaml:"weight"`
}

// Stance holds the cues and the words that change how a cue counts.
type Stance struct {
	Cues []Rule `yaml:"cues"`
	// Negators drop a cue that follows them closely in the same sentence
	// ("not", "rather than", "fails to", "far from", "instead of").
	Negators Rule `yaml:"negators"`
	// Contrast markers ("but", "however") weigh the rest of the sentence
	// up and what came before down.
	Contrast Rule `yaml:"contrast"`
	// Concessive markers ("although", "while") weigh their own clause
	// down.
	Concessive Rule `yaml:"concessive"`
	// Hedges ("despite", "amid") weigh their clause down a lot: the
	// criticism in "signed despite criticism" is not the item's voice.
	Hedges Rule `yaml:"hedges"`
	// Reporting verbs ("said", "warned", "according to") mark a sentence
	// as someone else's words.
	Reporting Rule `yaml:"reporting"`
	// FirstPerson words ("we", "our") outside quotes mark the item as a
	// statement in its own voice.
	FirstPerson Rule `yaml:"first_person"`
	// Modals of obligation ("must", "should", "doit", "deben", "должны")
	// in a sentence with a Safeguards word ("safeguards", "oversight",
	// "human rights") make a normative demand: criticism in the form of
	// what the treaty or states ought to do. Both optional.
	Modals Rule `yaml:"modals,omitempty"`
	// Statements in a headline ("Statement by", "Déclaration de",
	// "Заявление") mark the item as its issuer's own statement: the
	// actor named in the headline speaks. Optional.
	Statements Rule `yaml:"statements,omitempty"`
	Safeguards Rule `yaml:"safeguards,omitempty"`
}

// Settings are the numbers the engine uses.
type Settings struct {
	// RelevanceThreshold is the score an item needs to be relevant.
	RelevanceThreshold float64 `yaml:"relevance_threshold"`
	// TitleWeight multiplies hits in the title.
	TitleWeight float64 `yaml:"title_weight"`
	// TopicThreshold is the weighted hit count a topic needs.
	TopicThreshold float64 `yaml:"topic_threshold"`
	// TopicThresholds overrides TopicThreshold for some topics.
	TopicThresholds map[Topic]float64 `yaml:"topic_thresholds,omitempty"`
	// SingleMentionTopics: an item that names the treaty in one sentence
	// only, outside the title, is relevant only with at least this many
	// topics (a passing mention in an unrelated story is not). 0: off.
	SingleMentionTopics int `yaml:"single_mention_topics,omitempty"`
	// SentenceCap: distinct terms of one topic in one sentence add up to
	// this weight (times the title weight in the title); beyond the
	// strongest term a sentence gives no more. 0: strongest term only.
	SentenceCap float64 `yaml:"sentence_cap,omitempty"`
	// StanceThreshold is the weighted cue sum a side needs.
	StanceThreshold float64 `yaml:"stance_threshold"`
	// StanceRatio: a side wins only when its sum is at least this many
	// times the other side's.
	StanceRatio float64 `yaml:"stance_ratio"`
	// NegationWindow is how many words before a cue a negator reaches.
	NegationWindow int `yaml:"negation_window"`
	// ReportedWeight multiplies cues in someone else's words.
	ReportedWeight   float64 `yaml:"reported_weight"`
	ContrastAfter    float64 `yaml:"contrast_after"`
	ContrastBefore   float64 `yaml:"contrast_before"`
	ConcessiveWeight float64 `yaml:"concessive_weight"`
	HedgeWeight      float64 `yaml:"hedge_weight"`
	PriorWeight      float64 `yaml:"prior_weight"`
}

// Pack is a loaded, validated rule pack.
type Pack struct {
	// Name is the file the pack came from.
	Name     string   `yaml:"-"`
	Version  string   `yaml:"version"`
	Settings Settings `yaml:"settings"`
	// Taxonomy lists the topic ids with their labels, in display order;
	// topic rules, thresholds and model heads name these ids. A pack
	// without one has the embedded pack's (DefaultTaxonomy).
	Taxonomy Taxonomy `yaml:"taxonomy,omitempty"`
	Aliases  []Rule   `yaml:"aliases"`
	Gate     Gate     `yaml:"gate"`
	Guards   []Rule   `yaml:"guards"`
	Topics   []Rule   `yaml:"topics"`
	Stance   Stance   `yaml:"stance"`
	Actors   []Rule   `yaml:"actors"`
	// Prefilter lists word beginnings (folded): every alias and
	// cybercrime term has a word starting with one of them, so a text in
	// which no word starts with one cannot be relevant and is not scanned
	// further. The loader checks the coverage.
	Prefilter []Term `yaml:"prefilter"`
	// Model holds the fitted weights; nil in a pack that was never fitted,
	// which the engine then scores with the rule weights as written.
	Model *Model `yaml:"model,omitempty"`
}

// LoadError says why a pack was rejected, and where.
type LoadError struct {
	File   string
	Line   int
	Reason string
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("rules: %s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("rules: %s: %s", e.File, e.Reason)
}

// Stance labels a cue may carry.
const (
	LabelSupportive = "supportive"
	LabelCritical   = "critical"
	LabelMixed      = "mixed"
	LabelNeutral    = "neutral"
)
