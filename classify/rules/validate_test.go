package rules

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodPack is testdata/good.yaml: a small pack that loads.
func goodPack(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// lineOf is the 1-based line of the first line of doc containing s.
func lineOf(t *testing.T, doc, s string) int {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no line with %q in\n%s", s, doc)
	return 0
}

// TestLoadRejects checks each validation of the loader on a pack that is
// good but for one thing: the error names the file, the line to fix and
// what is wrong.
func TestLoadRejects(t *testing.T) {
	good := goodPack(t)
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("good.yaml has no %q", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	add := func(extra string) func(string) string {
		return func(s string) string { return s + extra }
	}
	tests := []struct {
		name string
		edit func(string) string
		at   string // the line the error must name, found by its text; "" for none
		want string
	}{
		{"empty file", func(string) string { return "" }, "", "empty rule pack"},
		{"not a mapping", func(string) string { return "- a\n- b\n" }, "- a", "a rule pack must be a mapping"},
		{"missing version", replace(`version: "test-1"`, `version: " "`), `version: " "`, "missing version"},
		{"a term that is not a string", replace("terms: [ratify, ratification]", "terms: [ratify, {x: 1}]"),
			"terms: [ratify, {x: 1}]", "a term must be a string"},
		{"a number that is not one", replace("relevance_threshold: 2", "relevance_threshold: two"),
			"relevance_threshold: two", "bad YAML: cannot unmarshal !!str `two` into float64"},
		{"rule without an id", replace("- id: topic.rat", "- id: \"\""), `- id: ""`, "topics: rule without an id"},
		{"negative weight", replace("topic: ratification", "topic: ratification\n    weight: -1"), "- id: topic.rat",
			`rule "topic.rat": negative weight`},
		{"empty topic list", func(s string) string {
			return strings.Replace(s, s[strings.Index(s, "topics:"):strings.Index(s, "stance:")], "topics: []\n", 1)
		}, "topics: []", "empty topic list"},
		{"unknown stance label", replace("label: supportive", "label: enthusiastic"), "id: cue.sup",
			`rule "cue.sup": unknown stance label "enthusiastic"`},
		{"optional modals half written", add("  modals: {id: mod.must, terms: []}\n"), "id: mod.must",
			`rule "mod.must": empty term list`},
		{"unknown actor type", add("actors:\n  - {id: actor.x, label: club, name: X, terms: [X Club]}\n"), "id: actor.x",
			`rule "actor.x": unknown actor type "club"`},
		{"unknown actor prior", add("actors:\n  - {id: actor.x, label: ngo, name: X, prior: hostile, terms: [X Club]}\n"), "id: actor.x",
			`rule "actor.x": unknown stance prior "hostile"`},
		{"actor without a name", add("actors:\n  - {id: actor.x, label: ngo, terms: [X Club]}\n"), "id: actor.x",
			`rule "actor.x": actor without a name`},
		{"actor site with a scheme", add("actors:\n  - {id: actor.x, label: ngo, name: X, sites: [\"https://x.org\"], terms: [X Club]}\n"), "id: actor.x",
			`rule "actor.x": site "https://x.org" must be a lower-case host name`},
		{"actor site in capitals", add("actors:\n  - {id: actor.x, label: ngo, name: X, sites: [X.org], terms: [X Club]}\n"), "id: actor.x",
			`site "X.org" must be a lower-case host name`},
		{"guard suppressing an unknown rule", add("guards:\n  - {id: guard.x, suppress: [alias.fr], terms: [compensation commission]}\n"), "id: guard.x",
			`rule "guard.x": suppresses unknown rule "alias.fr"`},
		{"a gate rule without terms", replace("treaty: {id: gate.treaty, terms: [treaty, convention]}", "treaty: {id: gate.treaty, terms: []}"),
			"id: gate.treaty", `rule "gate.treaty": empty term list`},
		{"zero threshold", replace("topic_threshold: 1", "topic_threshold: 0"), "settings:",
			"relevance_threshold, topic_threshold and stance_threshold must be > 0"},
		{"threshold for an unknown topic", replace("stance_threshold: 1", "stance_threshold: 1\n  topic_thresholds: {ratifications: 2}"), "settings:",
			`topic_thresholds: unknown topic id "ratifications"`},
		{"threshold <= 0 for a topic", replace("stance_threshold: 1", "stance_threshold: 1\n  topic_thresholds: {ratification: 0}"), "settings:",
			`topic_thresholds: unknown topic id "ratification" or threshold <= 0`},
		{"prefilter not folded", add("prefilter: [Cyber]\n"), "prefilter:", `prefilter "Cyber": must be one word piece in folded form`},
		{"prefilter of two words", add("prefilter: [un convention]\n"), "prefilter:", `prefilter "un convention": must be one word piece`},
		{"alias term the prefilter misses", add("prefilter: [cyber, un]\n"), "Hanoi Convention",
			`rule "alias.en": term "Hanoi Convention" contains no prefilter piece`},
		{"model bias not a number", add("model:\n  relevance: {bias: .nan}\n"), "model:", "model: relevance: bias is not a finite number"},
		{"model threshold of one", add("model:\n  relevance: {bias: 0, threshold: 1}\n"), "model:", "model: relevance: threshold must be in [0, 1)"},
		{"model weight without a feature", add("model:\n  relevance: {bias: 0, weights: {\" \": 1}}\n"), "model:",
			"model: relevance: a weight without a feature name"},
		{"model weight infinite", add("model:\n  topics:\n    ratification: {bias: 0, weights: {topic.rat: .inf}}\n"), "model:",
			`model: topic ratification: weight of "topic.rat" is not a finite number`},
		{"model head for an unknown topic", add("model:\n  topics:\n    ratifications: {bias: 0}\n"), "model:",
			`model: unknown topic id "ratifications"`},
		{"taxonomy topic without a label", add("taxonomy:\n  - {id: ratification, label: Ratification}\n  - {id: gender}\n"), "id: gender",
			`taxonomy: topic "gender" without a label`},
		{"taxonomy topic id twice", add("taxonomy:\n  - {id: ratification, label: Ratification}\n  - {id: ratification, label: Again}\n"), "label: Again",
			`taxonomy: duplicate topic id "ratification" (first at line`},
		{"taxonomy topic id with a space", add("taxonomy:\n  - {id: ratification, label: Ratification}\n  - {id: data retention, label: Data retention}\n"), "id: data retention",
			`taxonomy: topic id "data retention" must be one word`},
		{"empty taxonomy", add("taxonomy: []\n"), "taxonomy: []", "empty taxonomy"},
		{"topic rule outside the pack's taxonomy", add("taxonomy:\n  - {id: gender, label: Gender}\n"), "- id: topic.rat",
			`rule "topic.rat": unknown topic id "ratification"`},
		{"model stance head unknown", add("model:\n  stance:\n    hostile: {bias: 0}\n"), "model:",
			`model: unknown stance head "hostile"`},
		{"model stance head with a bad bias", add("model:\n  stance:\n    critical: {bias: -.inf}\n"), "model:",
			"model: stance critical: bias is not a finite number"},
		{"model stance heads incomplete", add("model:\n  stance:\n    critical: {bias: 0}\n    neutral: {bias: 0}\n"), "model:",
			"model: stance needs a head for each of supportive, critical and neutral"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.edit(good)
			p, err := Load("pack.yaml", []byte(doc))
			if err == nil {
				t.Fatalf("Load accepted the pack:\n%s", doc)
			}
			if p != nil {
				t.Errorf("Load returned a pack with its error")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T) is not a *LoadError", err, err)
			}
			if !strings.Contains(le.Reason, tc.want) {
				t.Errorf("reason %q, want it to contain %q", le.Reason, tc.want)
			}
			wantLine := 0
			if tc.at != "" {
				wantLine = lineOf(t, doc, tc.at)
			}
			if le.File != "pack.yaml" || le.Line != wantLine {
				t.Errorf("error at %s:%d, want pack.yaml:%d (%s)", le.File, le.Line, wantLine, err)
			}
			prefix := "rules: pack.yaml: "
			if wantLine > 0 {
				prefix = "rules: pack.yaml:" + itoa(wantLine) + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestLoadFillsDefaults checks what a pack that leaves out the optional
// numbers gets, and that optional stance rules may be left out.
func TestLoadFillsDefaults(t *testing.T) {
	good := goodPack(t)
	p, err := Load("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Settings.TitleWeight != 1 || p.Settings.StanceRatio != 1 || p.Gate.Weight != 1 {
		t.Errorf("defaults: title weight %v, stance ratio %v, gate weight %v; want 1, 1, 1",
			p.Settings.TitleWeight, p.Settings.StanceRatio, p.Gate.Weight)
	}
	if p.Model != nil {
		t.Errorf("a pack without a model section got one: %+v", p.Model)
	}
	if w := p.Topics[0].W(); w != 1 {
		t.Errorf("W() of a rule without a weight = %v, want 1", w)
	}

	set := strings.Replace(good, "stance_threshold: 1", "stance_threshold: 1\n  title_weight: 2.5\n  stance_ratio: 1.5", 1)
	set = strings.Replace(set, "terms: [ratify, ratification]", "weight: 0.5\n    terms: [ratify, ratification]", 1)
	set = strings.Replace(set, "  un: {id: gate.un", "  weight: 3\n  un: {id: gate.un", 1)
	set += "  modals: {id: mod.must, terms: [must]}\n  safeguards: {id: mod.safe, terms: [safeguards]}\n" +
		"actors:\n  - {id: actor.hrw, label: ngo, name: Human Rights Watch, prior: critical, sites: [hrw.org], terms: [Human Rights Watch]}\n" +
		"guards:\n  - {id: guard.uncc, suppress: [alias.en], terms: [compensation commission]}\n" +
		"prefilter: [cyber, hanoi, un]\n"
	p, err = Load("set.yaml", []byte(set))
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, set)
	}
	if p.Settings.TitleWeight != 2.5 || p.Settings.StanceRatio != 1.5 || p.Gate.Weight != 3 || p.Topics[0].W() != 0.5 {
		t.Errorf("set values: title weight %v, stance ratio %v, gate weight %v, rule weight %v",
			p.Settings.TitleWeight, p.Settings.StanceRatio, p.Gate.Weight, p.Topics[0].W())
	}
	if len(p.Actors) != 1 || p.Actors[0].Sites[0] != "hrw.org" || p.Guards[0].Suppress[0] != "alias.en" || p.Stance.Modals.ID != "mod.must" {
		t.Errorf("optional sections not kept: actors %+v guards %+v modals %+v", p.Actors, p.Guards, p.Stance.Modals)
	}
}

// TestWithModel checks that writing fitted weights keeps the rest of the
// pack as written, replaces an old model, rounds and sorts, drops zero
// weights, and gives the same bytes for the same fit; the result loads
// back with those weights.
func TestWithModel(t *testing.T) {
	good := goodPack(t)
	m := &Model{
		Fitted:    "dev.jsonl, 3 items",
		L2:        0.01,
		Relevance: Head{Bias: -1.234567891, Threshold: 0.4, Weights: map[string]float64{"alias.en": 0.5, "topic.rat": 1e-9, "gate": math.Pi}},
		Topics:    map[Topic]Head{"ratification": {Bias: 0.1, Weights: map[string]float64{"topic.rat": 2}}},
		Stance: map[string]Head{
			LabelSupportive: {Bias: 0.2, Weights: map[string]float64{"cue.sup": 1}},
			LabelCritical:   {Bias: -0.2},
			LabelNeutral:    {},
		},
	}
	withComment := "# hand-written comment kept\n" + good
	first, err := WithModel([]byte(withComment), m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte(strings.TrimRight(withComment, "\n"))) {
		t.Errorf("the pack before the model was not kept as written:\n%s", first)
	}
	p, err := Load("fitted.yaml", first)
	if err != nil {
		t.Fatalf("the fitted pack does not load: %v\n%s", err, first)
	}
	r := p.Model.Relevance
	if r.Bias != -1.23457 || r.Threshold != 0.4 || r.Weights["gate"] != 3.14159 || r.Weights["alias.en"] != 0.5 {
		t.Errorf("relevance head %+v, want rounded to 5 decimals", r)
	}
	if _, ok := r.Weights["topic.rat"]; ok {
		t.Errorf("a weight that rounds to 0 was written: %+v", r.Weights)
	}
	if p.Model.Topics["ratification"].Weights["topic.rat"] != 2 || len(p.Model.Stance) != 3 || p.Model.Fitted != m.Fitted {
		t.Errorf("model read back %+v", p.Model)
	}

	// Refitting replaces the model (and the comment above it), once.
	m.Relevance.Bias = 0.5
	second, err := WithModel(first, m)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(second, []byte("\nmodel:")); n != 1 {
		t.Errorf("%d model sections after a refit:\n%s", n, second)
	}
	if n := bytes.Count(second, []byte("# Fitted weights")); n != 1 {
		t.Errorf("%d fitted-weights comments after a refit:\n%s", n, second)
	}
	p, err = Load("refit.yaml", second)
	if err != nil || p.Model.Relevance.Bias != 0.5 {
		t.Fatalf("refit pack: %v, %+v", err, p)
	}
	again, err := WithModel(first, m)
	if err != nil || !bytes.Equal(again, second) {
		t.Errorf("the same fit gave different bytes:\n%s\n---\n%s", second, again)
	}

	bad := []struct {
		name, src, want string
	}{
		{"model not last", good + "model:\n  l2: 1\nextra: 1\n", "the model section must be the last one"},
		{"not a mapping", "- a\n", "a rule pack must be a mapping"},
		{"not YAML", "a: [\n", "rules: "},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			out, err := WithModel([]byte(tc.src), m)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != nil {
				t.Errorf("WithModel = %q, %v; want an error containing %q", out, err, tc.want)
			}
		})
	}
}

func TestCutAtLine(t *testing.T) {
	src := []byte("a: 1\n# about b\n# more\nb: 2\n")
	tests := []struct {
		line int
		want string
	}{
		{4, "a: 1\n"},                          // the comments right above go too
		{2, "a: 1\n"},                          // cutting at a comment line
		{1, ""},                                // the first line
		{9, "a: 1\n# about b\n# more\nb: 2\n"}, // past the end: all of it
	}
	for _, tc := range tests {
		if got := string(cutAtLine(src, tc.line)); got != tc.want {
			t.Errorf("cutAtLine(%d) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
