package rules

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Topic is a topic id of the taxonomy ("human-rights"). A pack's taxonomy
// section says which ids exist, in which order they are shown and with
// which label.
type Topic string

// TopicRatification is the topic of signature and ratification news in
// the embedded pack's taxonomy: the digest counts treaty mentions among
// the items tagged with it.
const TopicRatification Topic = "ratification"

// TopicsOf converts ids read as strings (a form's values, a database's
// rows) to topics, nil for nil. Whether the taxonomy has them is the
// caller's check.
func TopicsOf(ids []string) []Topic {
	if ids == nil {
		return nil
	}
	ts := make([]Topic, len(ids))
	for i, id := range ids {
		ts[i] = Topic(id)
	}
	return ts
}

// JoinTopics joins topic ids with sep, as text outputs print a list of
// them.
func JoinTopics(ts []Topic, sep string) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(t))
	}
	return b.String()
}

// TopicDef is one topic of a pack's taxonomy.
type TopicDef struct {
	ID Topic `yaml:"id"`
	// Label is the topic's display name ("Human rights").
	Label string `yaml:"label"`
	// Line where the topic is defined in the pack.
	Line int `yaml:"-"`
}

// UnmarshalYAML keeps the line of the topic.
func (t *TopicDef) UnmarshalYAML(n *yaml.Node) error {
	type plain TopicDef
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*t = TopicDef(p)
	t.Line = n.Line
	return nil
}

// Taxonomy is a pack's topics in display order. The digest's sections,
// the dashboard's topic filters and charts, and the classifier's topic
// heads all take their topics from it.
type Taxonomy []TopicDef

// IDs returns the topic ids in order.
func (t Taxonomy) IDs() []Topic {
	out := make([]Topic, len(t))
	for i, d := range t {
		out[i] = d.ID
	}
	return out
}

// Strings returns the topic ids in order, as strings (the form in which
// results and stored items carry them).
func (t Taxonomy) Strings() []string {
	out := make([]string, len(t))
	for i, d := range t {
		out[i] = string(d.ID)
	}
	return out
}

// Index is the position of id in the taxonomy, -1 when it is not one of
// its topics.
func (t Taxonomy) Index(id Topic) int {
	for i, d := range t {
		if d.ID == id {
			return i
		}
	}
	return -1
}

// Has reports whether id is one of the taxonomy's topics.
func (t Taxonomy) Has(id Topic) bool { return t.Index(id) >= 0 }

// Label is the display name of id, or id itself when the taxonomy does
// not define it (a topic of an older pack found in stored items).
func (t Taxonomy) Label(id Topic) string {
	if i := t.Index(id); i >= 0 {
		return t[i].Label
	}
	return string(id)
}

// validate checks that every topic has an id and a label, and that no id
// is defined twice.
func (t Taxonomy) validate(name string, line int) error {
	if len(t) == 0 {
		return &LoadError{File: name, Line: line, Reason: "empty taxonomy"}
	}
	seen := map[Topic]int{}
	for _, d := range t {
		id := strings.TrimSpace(string(d.ID))
		switch {
		case id == "":
			return &LoadError{File: name, Line: d.Line, Reason: "taxonomy: a topic without an id"}
		case id != string(d.ID) || strings.ContainsAny(id, " \t,"):
			return &LoadError{File: name, Line: d.Line, Reason: fmt.Sprintf("taxonomy: topic id %q must be one word such as human-rights", d.ID)}
		case strings.TrimSpace(d.Label) == "":
			return &LoadError{File: name, Line: d.Line, Reason: fmt.Sprintf("taxonomy: topic %q without a label", d.ID)}
		}
		if prev, dup := seen[d.ID]; dup {
			return &LoadError{File: name, Line: d.Line, Reason: fmt.Sprintf("taxonomy: duplicate topic id %q (first at line %d)", d.ID, prev)}
		}
		seen[d.ID] = d.Line
	}
	return nil
}

// DefaultTaxonomy is the taxonomy of the embedded pack. It reads only
// that section, so it costs far less than loading the pack: the digest
// and the dashboard use it without the classifier. It panics when the
// embedded section is broken, which the package's tests rule out.
func DefaultTaxonomy() Taxonomy {
	t, err := readTaxonomy(DefaultName, defaultPack)
	if err == nil && t == nil {
		err = &LoadError{File: DefaultName, Reason: "no taxonomy"}
	}
	if err != nil {
		panic(err.Error())
	}
	return t
}

// ReadTaxonomy returns the taxonomy of the pack in data, or the embedded
// pack's when it has no taxonomy section, without compiling or checking
// the rest of the pack (Load does that).
func ReadTaxonomy(name string, data []byte) (Taxonomy, error) {
	t, err := readTaxonomy(name, data)
	if err == nil && t == nil {
		return DefaultTaxonomy(), nil
	}
	return t, err
}

// readTaxonomy reads the taxonomy section of a pack, nil when it has
// none. A section written at the start of a line is cut out and read
// alone; otherwise the whole pack is parsed.
func readTaxonomy(name string, data []byte) (Taxonomy, error) {
	src, first := section(data, "taxonomy")
	if src == nil {
		src, first = data, 1
	}
	fail := func(err error) error {
		err = yamlError(name, err)
		var le *LoadError
		if errors.As(err, &le) && le.Line > 0 {
			le.Line += first - 1
		}
		return err
	}
	var doc struct {
		Taxonomy yaml.Node `yaml:"taxonomy"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fail(err)
	}
	if doc.Taxonomy.Kind == 0 || doc.Taxonomy.Tag == "!!null" {
		return nil, nil
	}
	var t Taxonomy
	if err := doc.Taxonomy.Decode(&t); err != nil {
		return nil, fail(err)
	}
	for i := range t {
		t[i].Line += first - 1
	}
	return t, t.validate(name, doc.Taxonomy.Line+first-1)
}

// section cuts the top-level key from a YAML document written with its
// top-level keys at the start of a line: from the key's line to the next
// top-level key, and the 1-based line where it starts. Empty when the key
// is not there.
func section(src []byte, key string) (sec []byte, line int) {
	start, n := -1, 0
	for off := 0; off < len(src); {
		n++
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += off + 1
		}
		l := src[off:end]
		top := len(l) > 0 && !strings.ContainsRune(" \t#-\r\n", rune(l[0]))
		switch {
		case start < 0 && top && bytes.HasPrefix(l, []byte(key+":")):
			start, line = off, n
		case start >= 0 && top:
			return src[start:off], line
		}
		off = end
	}
	if start < 0 {
		return nil, 0
	}
	return src[start:], line
}
