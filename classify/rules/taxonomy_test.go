package rules

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestDefaultTaxonomy: the embedded pack's taxonomy, read alone, is the
// one the full load gives, and holds the 13 topics of the taxonomy in
// its order.
func TestDefaultTaxonomy(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	alone := DefaultTaxonomy()
	if !slices.Equal(alone.Strings(), p.Taxonomy.Strings()) {
		t.Fatalf("DefaultTaxonomy %v, the loaded pack's %v", alone.Strings(), p.Taxonomy.Strings())
	}
	for i := range alone {
		if alone[i].Label != p.Taxonomy[i].Label || alone[i].Line != p.Taxonomy[i].Line {
			t.Errorf("topic %s: alone %q line %d, loaded %q line %d", alone[i].ID, alone[i].Label, alone[i].Line, p.Taxonomy[i].Label, p.Taxonomy[i].Line)
		}
	}
	want := "criminalisation-scope human-rights privacy-surveillance expression-press international-cooperation capacity-building other-instruments gender child-protection security-research negotiation-process ratification geopolitics"
	if got := strings.Join(alone.Strings(), " "); got != want {
		t.Errorf("default taxonomy\n got %s\nwant %s", got, want)
	}
	if got := alone.Label(TopicRatification); got != "Signature and ratification" {
		t.Errorf("label of ratification %q", got)
	}
	if got := alone.Label("weather"); got != "weather" {
		t.Errorf("label of a topic outside the taxonomy %q, want the id", got)
	}
	if alone.Index("weather") != -1 || alone.Index("human-rights") != 1 {
		t.Errorf("Index: weather %d, human-rights %d", alone.Index("weather"), alone.Index("human-rights"))
	}
}

// TestPackTaxonomy: a pack of one's own may rename, reorder and add
// topics; its rules may then name the new ones. A pack without a
// taxonomy has the embedded one. ReadTaxonomy gives what Load gives.
func TestPackTaxonomy(t *testing.T) {
	good := goodPack(t)
	own := "taxonomy:\n" +
		"  - {id: data-retention, label: Data retention}\n" +
		"  - {id: ratification, label: Ratification status}\n"
	withRule := strings.Replace(good, "topics:\n", "topics:\n  - id: topic.retention\n    topic: data-retention\n    terms: [data retention, retain data]\n", 1)
	tests := []struct {
		name, doc  string
		ids        string
		label, lab string // a topic and its label
	}{
		{"no taxonomy: the embedded one", good, strings.Join(DefaultTaxonomy().Strings(), " "), "ratification", "Signature and ratification"},
		{"renamed and added", own + withRule, "data-retention ratification", "ratification", "Ratification status"},
		{"added topic's label", withRule + own, "data-retention ratification", "data-retention", "Data retention"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load("own.yaml", []byte(tc.doc))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := strings.Join(p.Taxonomy.Strings(), " "); got != tc.ids {
				t.Errorf("topics %q, want %q", got, tc.ids)
			}
			if got := p.Taxonomy.Label(Topic(tc.label)); got != tc.lab {
				t.Errorf("label of %s %q, want %q", tc.label, got, tc.lab)
			}
			read, err := ReadTaxonomy("own.yaml", []byte(tc.doc))
			if err != nil {
				t.Fatalf("ReadTaxonomy: %v", err)
			}
			if !slices.Equal(read, p.Taxonomy) {
				t.Errorf("ReadTaxonomy %+v, Load %+v", read, p.Taxonomy)
			}
		})
	}
	for _, tc := range []struct{ doc, want string }{
		{"taxonomy:\n  - {id: x}\n", `own.yaml:2: taxonomy: topic "x" without a label`},
		{"version: x\n\ntaxonomy:\n  - {id: x, label: X}\n  - {id: x, label: Y}\nsettings: {}\n", `own.yaml:5: taxonomy: duplicate topic id "x" (first at line 4)`},
		{"version: x\ntaxonomy:\n  - {id: x, label: X}\n  - {id: y, label: [Y]}\n", `own.yaml:4: bad YAML:`},
		{"version: x\ntaxonomy: []\n", `own.yaml:2: empty taxonomy`},
		{"version: x\n\"taxonomy\": [{id: x}]\n", `own.yaml:2: taxonomy: topic "x" without a label`},
	} {
		if _, err := ReadTaxonomy("own.yaml", []byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadTaxonomy of\n%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	// A taxonomy written otherwise than at the start of a line is read
	// from the whole pack, with the lines Load gives.
	quoted := "version: x\n\"taxonomy\":\n  - {id: x, label: X}\n"
	if got, err := ReadTaxonomy("own.yaml", []byte(quoted)); err != nil || len(got) != 1 || got[0].Label != "X" || got[0].Line != 3 {
		t.Errorf("ReadTaxonomy of a quoted key: %+v, %v", got, err)
	}
}

// TestSection: the cut of one top-level key stops at the next one, keeps
// nested lines, comments and sequences written at the key's indentation.
func TestSection(t *testing.T) {
	doc := "a: 1\ntaxonomy:\n  - {id: x, label: X}\n# note\n- {id: y, label: Y}\n\nsettings:\n  b: 2\n"
	if got, line := section([]byte(doc), "taxonomy"); string(got) != "taxonomy:\n  - {id: x, label: X}\n# note\n- {id: y, label: Y}\n\n" || line != 2 {
		t.Errorf("section %q at line %d", got, line)
	}
	if got, line := section([]byte(doc), "model"); got != nil || line != 0 {
		t.Errorf("section of a missing key %q at line %d", got, line)
	}
	if got, line := section([]byte("x: 1\ntaxonomy: []"), "taxonomy"); string(got) != "taxonomy: []" || line != 2 {
		t.Errorf("last section %q at line %d", got, line)
	}
}

// BenchmarkReadTaxonomy: a pack whose taxonomy starts a line (the
// embedded one, and every pack copied from it) is read by its section; a
// pack without one is parsed whole to be sure.
func BenchmarkReadTaxonomy(b *testing.B) {
	full := DefaultYAML()
	sec, _ := section(full, "taxonomy")
	without := bytes.Replace(full, sec, nil, 1)
	for _, bc := range []struct {
		name string
		data []byte
	}{{"section", full}, {"whole-pack", without}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ReadTaxonomy("own.yaml", bc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTopicsOfAndJoin: ids read as strings become topics (nil stays nil)
// and a list of topics joins as the text outputs print it.
func TestTopicsOfAndJoin(t *testing.T) {
	for _, tc := range []struct {
		ids   []string
		isNil bool
		want  string
	}{
		{nil, true, ""},
		{[]string{}, false, ""},
		{[]string{"gender"}, false, "gender"},
		{[]string{"human-rights", "ratification", "x y"}, false, "human-rights;ratification;x y"},
	} {
		ts := TopicsOf(tc.ids)
		if (ts == nil) != tc.isNil || len(ts) != len(tc.ids) {
			t.Errorf("TopicsOf(%#v) = %#v", tc.ids, ts)
		}
		if got := JoinTopics(ts, ";"); got != tc.want {
			t.Errorf("JoinTopics(%v) = %q, want %q", ts, got, tc.want)
		}
	}
}
