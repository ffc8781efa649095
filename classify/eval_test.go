package classify

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

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
			Topics                                     []string
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

// TestDevThresholds is Must show 1: the default rules on dev.jsonl.
func TestDevThresholds(t *testing.T) {
	rep := Evaluate(engine(t), loadDev(t))
	t.Logf("relevance F1 %.3f, topics micro-F1 %.3f (macro %.3f), stance macro-F1 %.3f",
		rep.Relevance.F1, rep.Topics.MicroF1, rep.Topics.MacroF1, rep.Stance.MacroF1)
	if rep.Relevance.F1 < 0.95 {
		t.Errorf("relevance F1 = %.3f, want >= 0.95", rep.Relevance.F1)
	}
	if rep.Topics.MicroF1 < 0.80 {
		t.Errorf("topic micro-F1 = %.3f, want >= 0.80", rep.Topics.MicroF1)
	}
	if rep.Stance.MacroF1 < 0.75 {
		t.Errorf("stance macro-F1 = %.3f, want >= 0.75", rep.Stance.MacroF1)
	}
}

// TestEvaluateCounts checks the arithmetic of Evaluate on a fixed
// classifier.
func TestEvaluateCounts(t *testing.T) {
	fixed := classifierFunc(func(it fetch.Item) Result {
		switch it.Key {
		case "a":
			return Result{Relevant: true, Topics: []string{"ratification", "gender"}, Stance: StanceSupportive}
		case "b":
			return Result{Relevant: true, Topics: []string{"ratification"}, Stance: StanceMixed}
		}
		return Result{}
	})
	items := []Labelled{
		{ID: "a", Item: fetch.Item{Key: "a"}, Relevant: true, Topics: []string{"ratification"}, Stance: StanceSupportive},
		{ID: "b", Item: fetch.Item{Key: "b"}, Relevant: false},
		{ID: "c", Item: fetch.Item{Key: "c"}, Relevant: true, Topics: []string{"geopolitics"}, Stance: StanceCritical},
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
