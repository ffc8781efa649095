package classify

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/internal/corpustest"

	"github.com/treatywatch/treatywatch/fetch"
)

// loadDev reads ../shared/eval/dev.jsonl (found by walking up).
func loadDev(t *testing.T) []Labelled {
	t.Helper()
	path := filepath.Join(corpustest.Shared(t, "eval"), "dev.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var r struct {
			ID, URL, Source, Lang, Title, Text, Stance string
			Relevant                                   bool
			Topics                                     []rules.Topic
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, Labelled{ID: r.ID, Relevant: r.Relevant, Topics: r.Topics, Stance: Stance(r.Stance),
			Item: fetch.Item{Key: r.ID, URL: r.URL, SourceName: r.Source, Lang: r.Lang, Title: r.Title, Content: r.Text}})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no items", path)
	}
	return out
}

// TestDevOutOfFold is Must show 1: 5 folds grouped by source, each
// item scored by a model fitted without its outlet. Relevance holds the
// targets (>= 0.96 overall, >= 0.90 in fr, es, ru); topics and stance are
// held near the out-of-fold level reached (stance 0.754 meets its 0.75
// target; topics 0.795 are short of 0.80), so a change that loses ground
// fails.
func TestDevOutOfFold(t *testing.T) {
	items := loadDev(t)
	e := engine(t)
	rep, err := CrossValidate(e.Pack(), items, 5, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := rep.Folds
	t.Logf("in-sample: relevance %.3f topics %.3f stance %.3f; out-of-fold: relevance %.3f topics %.3f stance %.3f",
		rep.Relevance.F1, rep.Topics.MicroF1, rep.Stance.MacroF1, o.Relevance.F1, o.Topics.MicroF1, o.Stance.MacroF1)
	if o.Relevance.F1 < 0.96 {
		t.Errorf("out-of-fold relevance F1 = %.3f, want >= 0.96", o.Relevance.F1)
	}
	for _, l := range []string{"fr", "es", "ru"} {
		if b := o.ByLang[l]; b == nil || b.Relevance.F1 < 0.90 {
			t.Errorf("out-of-fold relevance F1 in %s = %+v, want >= 0.90", l, b)
		}
	}
	if o.Topics.MicroF1 < 0.78 {
		t.Errorf("out-of-fold topic micro-F1 = %.3f, want >= 0.78", o.Topics.MicroF1)
	}
	if o.Stance.MacroF1 < 0.74 {
		t.Errorf("out-of-fold stance macro-F1 = %.3f, want >= 0.74", o.Stance.MacroF1)
	}
	// the in-sample report is that of the shipped pack (fitted on the
	// same file)
	shipped := Evaluate(e, items)
	if shipped.Relevance.F1 != rep.Relevance.F1 || shipped.Stance.MacroF1 != rep.Stance.MacroF1 {
		t.Errorf("in-sample %+v differs from the shipped pack's %+v", rep.Relevance, shipped.Relevance)
	}
}

// TestFitReproducesShippedPack is Must show 2: fitting the default
// vocabulary on dev.jsonl gives the weights the pack ships with.
func TestFitReproducesShippedPack(t *testing.T) {
	items := loadDev(t)
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(p, items, FitOptions{Fitted: "dev.jsonl, 178 items"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rules.WithModel(rules.DefaultYAML(), m)
	if err != nil {
		t.Fatal(err)
	}
	q, err := rules.Load("refit", out)
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, a, b rules.Head) {
		if math.Abs(a.Bias-b.Bias) > 1e-4 {
			t.Errorf("%s: bias %v, shipped %v", what, a.Bias, b.Bias)
		}
		for k, w := range b.Weights {
			if math.Abs(a.Weights[k]-w) > 1e-4 {
				t.Errorf("%s: weight of %s: %v, shipped %v", what, k, a.Weights[k], w)
			}
		}
		if len(a.Weights) != len(b.Weights) {
			t.Errorf("%s: %d weights, shipped %d", what, len(a.Weights), len(b.Weights))
		}
	}
	same("relevance", q.Model.Relevance, p.Model.Relevance)
	for k, h := range p.Model.Topics {
		same("topic "+string(k), q.Model.Topics[k], h)
	}
	for k, h := range p.Model.Stance {
		same("stance "+k, q.Model.Stance[k], h)
	}
	if len(q.Model.Topics) != len(p.Model.Topics) {
		t.Errorf("%d topic heads, shipped %d", len(q.Model.Topics), len(p.Model.Topics))
	}
}

// TestSubsetFitLoadsAndClassifies: a pack fitted on part of the items (an
// analyst team's own labels) is written, loads, and classifies.
func TestSubsetFitLoadsAndClassifies(t *testing.T) {
	items := loadDev(t)
	var sub []Labelled
	for i, l := range items {
		if i%3 == 0 {
			sub = append(sub, l)
		}
	}
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(p, sub, FitOptions{Fitted: "a third of dev.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rules.WithModel(rules.DefaultYAML(), m)
	if err != nil {
		t.Fatal(err)
	}
	q, err := rules.Load("subset.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(q)
	if err != nil {
		t.Fatal(err)
	}
	rep := Evaluate(e, items)
	if rep.Relevance.F1 < 0.8 {
		t.Errorf("a pack fitted on a third of the items scores relevance F1 %.3f on all of them", rep.Relevance.F1)
	}
	r := e.Classify(fetch.Item{Title: "UN Convention against Cybercrime: rights groups urge states not to ratify",
		Content: "Human Rights Watch urged governments not to ratify the UN Convention against Cybercrime, warning of surveillance without safeguards."})
	if !r.Relevant || len(r.Evidence) == 0 {
		t.Errorf("subset pack: %+v", r)
	}
}

// TestFoldsGroupBySource: no source is on both sides of a split.
func TestFoldsGroupBySource(t *testing.T) {
	items := loadDev(t)
	folds := Folds(items, 5)
	where := map[string]int{}
	n := 0
	for f, idx := range folds {
		n += len(idx)
		for _, i := range idx {
			src := items[i].Item.SourceName
			if g, ok := where[src]; ok && g != f {
				t.Errorf("source %q in folds %d and %d", src, g, f)
			}
			where[src] = f
		}
	}
	if n != len(items) {
		t.Errorf("folds hold %d items, want %d", n, len(items))
	}
	if !reflect.DeepEqual(folds, Folds(items, 5)) {
		t.Error("folds differ between two calls")
	}
}

func TestEvaluateCounts(t *testing.T) {
	fixed := classifierFunc(func(it fetch.Item) Result {
		switch it.Key {
		case "a":
			return Result{Relevant: true, Topics: []rules.Topic{"ratification", "gender"}, Stance: StanceSupportive}
		case "b":
			return Result{Relevant: true, Topics: []rules.Topic{"ratification"}, Stance: StanceMixed}
		}
		return Result{}
	})
	items := []Labelled{
		{ID: "a", Item: fetch.Item{Key: "a"}, Relevant: true, Topics: []rules.Topic{"ratification"}, Stance: StanceSupportive},
		{ID: "b", Item: fetch.Item{Key: "b"}, Relevant: false},
		{ID: "c", Item: fetch.Item{Key: "c"}, Relevant: true, Topics: []rules.Topic{"geopolitics"}, Stance: StanceCritical},
	}
	rep := Evaluate(fixed, items)
	if r := rep.Relevance; r.TP != 1 || r.FP != 1 || r.FN != 1 || r.F1 != 0.5 {
		t.Errorf("relevance = %+v", r)
	}
	if m := rep.Topics.Micro; m.TP != 1 || m.FP != 1 || m.FN != 1 {
		t.Errorf("topics micro = %+v", m)
	}
	// gold supportive→supportive, gold critical→none
	if c := rep.Stance.Confusion; c[0][0] != 1 || c[1][3] != 1 {
		t.Errorf("confusion = %v", c)
	}
	if got := rep.Stance.PerLabel["critical"]; got.F1 != 0 || got.FN != 1 {
		t.Errorf("critical = %+v", got)
	}
}

type classifierFunc func(fetch.Item) Result

func (f classifierFunc) Classify(it fetch.Item) Result { return f(it) }
