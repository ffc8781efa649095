package rules

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify/internal/text"
	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultPack []byte

// DefaultName is the name the embedded pack reports in errors and results.
const DefaultName = "default.yaml"

// DefaultYAML returns a copy of the embedded pack, for users who want to
// start their own from it.
func DefaultYAML() []byte { return append([]byte(nil), defaultPack...) }

var yamlLine = regexp.MustCompile(`line (\d+): `)

// Load parses and validates a pack. name is used in errors ("file:line:
// reason"); every problem found is a *LoadError.
func Load(name string, data []byte) (*Pack, error) {
	fail := func(line int, format string, args ...any) error {
		return &LoadError{File: name, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, fail(0, "empty rule pack")
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fail(doc.Line, "a rule pack must be a mapping")
	}
	p := &Pack{Name: name}
	if err := doc.Decode(p); err != nil {
		return nil, yamlError(name, err)
	}
	keys := map[string]int{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		keys[doc.Content[i].Value] = doc.Content[i].Line
	}
	v := validator{name: name, f: text.NewFolder(), ids: map[string]int{}}
	if strings.TrimSpace(p.Version) == "" {
		return nil, fail(keys["version"], "missing version")
	}
	if len(p.Aliases) == 0 {
		return nil, fail(keys["aliases"], "empty alias list")
	}
	if p.Taxonomy == nil {
		p.Taxonomy = DefaultTaxonomy()
	} else if err := p.Taxonomy.validate(name, keys["taxonomy"]); err != nil {
		return nil, err
	}
	for i := range p.Aliases {
		if err := v.rule("aliases", &p.Aliases[i]); err != nil {
			return nil, err
		}
	}
	for _, r := range []*Rule{&p.Gate.Cyber, &p.Gate.Treaty, &p.Gate.UN} {
		if err := v.rule("gate", r); err != nil {
			return nil, err
		}
	}
	for i := range p.Guards {
		if err := v.rule("guards", &p.Guards[i]); err != nil {
			return nil, err
		}
	}
	if len(p.Topics) == 0 {
		return nil, fail(keys["topics"], "empty topic list")
	}
	for i := range p.Topics {
		r := &p.Topics[i]
		if err := v.rule("topics", r); err != nil {
			return nil, err
		}
		if !p.Taxonomy.Has(r.Topic) {
			return nil, fail(r.Line, "rule %q: unknown topic id %q", r.ID, r.Topic)
		}
	}
	labels := map[string]bool{LabelSupportive: true, LabelCritical: true, LabelMixed: true, LabelNeutral: true}
	for i := range p.Stance.Cues {
		r := &p.Stance.Cues[i]
		if err := v.rule("stance cues", r); err != nil {
			return nil, err
		}
		if !labels[r.Label] {
			return nil, fail(r.Line, "rule %q: unknown stance label %q", r.ID, r.Label)
		}
	}
	s := &p.Stance
	for _, r := range []*Rule{&s.Negators, &s.Contrast, &s.Concessive, &s.Hedges, &s.Reporting, &s.FirstPerson} {
		if err := v.rule("stance", r); err != nil {
			return nil, err
		}
	}
	for _, r := range []*Rule{&s.Modals, &s.Safeguards, &s.Statements} {
		if r.ID == "" && len(r.Terms) == 0 {
			continue
		}
		if err := v.rule("stance", r); err != nil {
			return nil, err
		}
	}
	for i := range p.Actors {
		r := &p.Actors[i]
		if err := v.rule("actors", r); err != nil {
			return nil, err
		}
		if !slices.Contains(ActorTypes(), r.ActorType()) {
			return nil, fail(r.Line, "rule %q: unknown actor type %q", r.ID, r.Label)
		}
		if r.Prior != "" && !labels[r.Prior] {
			return nil, fail(r.Line, "rule %q: unknown stance prior %q", r.ID, r.Prior)
		}
		if r.Name == "" {
			return nil, fail(r.Line, "rule %q: actor without a name", r.ID)
		}
		for _, h := range r.Sites {
			if h == "" || strings.ContainsAny(h, "/: ") || h != strings.ToLower(h) || !strings.Contains(h, ".") {
				return nil, fail(r.Line, "rule %q: site %q must be a lower-case host name such as hrw.org", r.ID, h)
			}
		}
	}
	for _, g := range p.Guards {
		for _, id := range g.Suppress {
			if _, ok := v.ids[id]; !ok {
				return nil, fail(g.Line, "rule %q: suppresses unknown rule %q", g.ID, id)
			}
		}
	}
	if p.Model != nil {
		if err := p.Model.validate(p.Taxonomy, fail, keys["model"]); err != nil {
			return nil, err
		}
	}
	if err := checkPrefilter(v.f, p); err != nil {
		return nil, err
	}
	st := &p.Settings
	if st.RelevanceThreshold <= 0 || st.TopicThreshold <= 0 || st.StanceThreshold <= 0 {
		return nil, fail(keys["settings"], "settings: relevance_threshold, topic_threshold and stance_threshold must be > 0")
	}
	for t, v := range st.TopicThresholds {
		if !p.Taxonomy.Has(t) || v <= 0 {
			return nil, fail(keys["settings"], "settings: topic_thresholds: unknown topic id %q or threshold <= 0", t)
		}
	}
	if st.TitleWeight == 0 {
		st.TitleWeight = 1
	}
	if st.StanceRatio == 0 {
		st.StanceRatio = 1
	}
	if p.Gate.Weight == 0 {
		p.Gate.Weight = 1
	}
	return p, nil
}

// yamlError turns a yaml error into a *LoadError with the line it names.
func yamlError(name string, err error) error {
	var le *LoadError
	if errors.As(err, &le) {
		le.File = name
		return le
	}
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[:m[0]] + msg[m[1]:]
	}
	return &LoadError{File: name, Line: line, Reason: "bad YAML: " + msg}
}

type validator struct {
	name string
	f    *text.Folder
	ids  map[string]int
}

func (v *validator) rule(section string, r *Rule) error {
	fail := func(line int, format string, args ...any) error {
		return &LoadError{File: v.name, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	if r.ID == "" {
		return fail(r.Line, "%s: rule without an id", section)
	}
	if prev, dup := v.ids[r.ID]; dup {
		return fail(r.Line, "duplicate rule id %q (first at line %d)", r.ID, prev)
	}
	v.ids[r.ID] = r.Line
	if len(r.Terms) == 0 {
		return fail(r.Line, "rule %q: empty term list", r.ID)
	}
	if r.Weight < 0 {
		return fail(r.Line, "rule %q: negative weight", r.ID)
	}
	for _, t := range r.Terms {
		if _, _, err := v.term(t.Text); err != nil {
			return fail(t.Line, "rule %q: term %q can never match: %v", r.ID, t.Text, err)
		}
	}
	return nil
}

// term checks that a term can match something.
func (v *validator) term(s string) ([]string, bool, error) {
	return ParseTerm(v.f, s)
}

// ParseTerm splits a term into normalised words and says whether its last
// word is a prefix. It fails when the term can never match.
func ParseTerm(f *text.Folder, s string) (words []string, prefix bool, err error) {
	return NewTermParser(f).Parse(s)
}

// TermParser is ParseTerm for many terms: its scanners serve them all.
// It is not safe for concurrent use.
type TermParser struct {
	words, raw *text.Scanner
}

// NewTermParser returns a parser that folds with f.
func NewTermParser(f *text.Folder) *TermParser {
	return &TermParser{words: text.NewScanner(f), raw: text.NewRawScanner(f)}
}

// Parse is ParseTerm.
func (p *TermParser) Parse(s string) (words []string, prefix bool, err error) {
	t := strings.TrimSpace(s)
	if strings.HasSuffix(t, "*") {
		prefix = true
		t = strings.TrimSpace(strings.TrimSuffix(t, "*"))
		if t == "" || !isWordEnd(t) {
			return nil, false, errors.New("a \"*\" must follow a word")
		}
	}
	if strings.Contains(t, "*") {
		return nil, false, errors.New("\"*\" is only allowed at the end")
	}
	words = p.words.AppendWords(nil, t)
	if len(words) == 0 {
		return nil, false, errors.New("no word left after normalisation")
	}
	if prefix {
		// The prefix is a stem the writer chose: keep it unstemmed.
		if raw := p.raw.AppendWords(nil, t); len(raw) == len(words) {
			words[len(words)-1] = raw[len(raw)-1]
		}
	}
	if prefix && len([]rune(words[len(words)-1])) < 3 {
		return nil, false, errors.New("a prefix needs at least 3 letters")
	}
	return words, prefix, nil
}

func isWordEnd(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// checkPrefilter makes sure every alias and cybercrime term has a word
// that starts with a prefilter piece.
func checkPrefilter(f *text.Folder, p *Pack) error {
	if len(p.Prefilter) == 0 {
		return nil
	}
	for _, a := range p.Prefilter {
		w := text.Words(f, a.Text)
		if len(w) != 1 || w[0] != a.Text {
			return &LoadError{File: p.Name, Line: a.Line, Reason: fmt.Sprintf("prefilter %q: must be one word piece in folded form (lower case, no diacritics)", a.Text)}
		}
	}
	rs := append([]Rule{p.Gate.Cyber}, p.Aliases...)
	for _, r := range rs {
		for _, t := range r.Terms {
			words, _, err := ParseTerm(f, t.Text)
			if err != nil {
				continue
			}
			covered := false
			for _, w := range words {
				for _, a := range p.Prefilter {
					covered = covered || strings.HasPrefix(w, a.Text)
				}
			}
			if !covered {
				return &LoadError{File: p.Name, Line: t.Line, Reason: fmt.Sprintf("rule %q: term %q contains no prefilter piece", r.ID, t.Text)}
			}
		}
	}
	return nil
}
