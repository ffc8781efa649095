package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

const sampleJSONL = `{"id":"x1","url":"https://example.org/1","source":"Example Wire","lang":"en","title":"States sign UN cybercrime treaty in Hanoi","text":"States sign UN cybercrime treaty in Hanoi\n\nSixty states signed the UN Convention against Cybercrime in Hanoi. It enters into force after the 40th ratification.","relevant":true,"topics":["ratification"],"stance":"neutral"}
{"id":"x2","url":"https://example.org/2","source":"Garden News","lang":"en","title":"Roses in spring","text":"Roses in spring\n\nPrune them early.","relevant":false,"topics":[],"stance":""}
`

func TestCmdClassifyLines(t *testing.T) {
	var out, errb bytes.Buffer
	code := cmdClassify(context.Background(), nil, strings.NewReader(sampleJSONL), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %s", len(lines), out.String())
	}
	var first struct {
		ID       string   `json:"id"`
		Relevant bool     `json:"relevant"`
		Topics   []string `json:"topics"`
		Stance   string   `json:"stance"`
		Rules    string   `json:"rules"`
		Evidence []struct {
			Rule, Kind, Field, Sentence string
			Words                       []string
		} `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.ID != "x1" || !first.Relevant || first.Stance != "neutral" || first.Rules == "" || len(first.Evidence) == 0 {
		t.Errorf("first line = %+v", first)
	}
	if !strings.Contains(lines[1], `"relevant":false`) {
		t.Errorf("second line = %s", lines[1])
	}
}

func TestCmdClassifyEvalJSON(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "labelled.jsonl")
	if err := os.WriteFile(in, []byte(sampleJSONL), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := cmdClassify(context.Background(), []string{"--eval", "--json", in}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Relevance struct{ F1 float64 } `json:"relevance"`
		Topics    struct {
			MicroF1 *float64 `json:"micro_f1"`
		} `json:"topics"`
		Stance struct {
			MacroF1 *float64 `json:"macro_f1"`
		} `json:"stance"`
	}
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("more than one JSON object")
	}
	if rep.Relevance.F1 != 1 || rep.Topics.MicroF1 == nil || rep.Stance.MacroF1 == nil {
		t.Errorf("report = %+v", rep)
	}
}

func TestCmdClassifyEvalText(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cmdClassify(context.Background(), []string{"--eval"}, strings.NewReader(sampleJSONL), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"RELEVANCE", "TOPICS", "ratification", "STANCE", "gold \\ pred"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCmdClassifyErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: x\naliases: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{"broken pack", []string{"--rules", bad}, sampleJSONL, 1, "bad.yaml:2: empty alias list"},
		{"json without eval", []string{"--json"}, sampleJSONL, 2, "--json needs --eval"},
		{"eval without labels", []string{"--eval"}, `{"id":"u","title":"t","text":"t"}`, 1, `has no "relevant" label`},
		{"bad json", nil, "{not json", 1, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := cmdClassify(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tt.code, tt.msg)
			}
		})
	}
}

// TestCmdClassifyFoldsJSON: --folds adds the out-of-fold figures and the
// per-language tables in the shape of the top level.
func TestCmdClassifyFoldsJSON(t *testing.T) {
	// The output's shape is what is tested here, not the figures: a third
	// of the labelled items, every language among them, keeps the fits
	// (nested cross-validation per fold) affordable under -race.
	in := everyNth(t, filepath.Join(corpustest.Shared(t, "eval"), "dev.jsonl"), 3)
	var out, errb bytes.Buffer
	if code := cmdClassify(context.Background(), []string{"--eval", "--folds", "3", "--json", in}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	type figs struct {
		Relevance struct{ F1 *float64 } `json:"relevance"`
		Topics    struct {
			MicroF1 *float64 `json:"micro_f1"`
		} `json:"topics"`
		Stance struct {
			MacroF1 *float64 `json:"macro_f1"`
		} `json:"stance"`
	}
	var rep struct {
		figs
		Folds *struct {
			figs
			ByLang map[string]figs `json:"by_lang"`
		} `json:"folds"`
		ByLang map[string]figs `json:"by_lang"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Folds == nil || rep.Folds.Relevance.F1 == nil || rep.Folds.Topics.MicroF1 == nil || rep.Folds.Stance.MacroF1 == nil {
		t.Fatalf("no out-of-fold figures: %s", out.String())
	}
	for _, l := range []string{"en", "fr", "es", "ru"} {
		if b, ok := rep.Folds.ByLang[l]; !ok || b.Relevance.F1 == nil || b.Stance.MacroF1 == nil {
			t.Errorf("folds.by_lang[%s] missing: %s", l, out.String())
		}
		if _, ok := rep.ByLang[l]; !ok {
			t.Errorf("by_lang[%s] missing", l)
		}
	}
}

// TestCmdClassifyFit: "classify fit" writes a pack that loads and
// classifies; fitting the same items twice gives the same bytes.
func TestCmdClassifyFit(t *testing.T) {
	// Half the labelled items: the command's flags, determinism and a
	// loadable pack are tested here; that a fit on all of them reproduces
	// the shipped pack is the classify package's test.
	in := everyNth(t, filepath.Join(corpustest.Shared(t, "eval"), "dev.jsonl"), 2)
	dir := t.TempDir()
	var errb bytes.Buffer
	// flags before and after the file
	for _, args := range [][]string{{"fit", "--out", filepath.Join(dir, "a.yaml"), in}, {"fit", in, "--out", filepath.Join(dir, "b.yaml")}} {
		if code := cmdClassify(context.Background(), args, nil, io.Discard, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a.yaml"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.yaml"))
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte("\nmodel:\n")) {
		t.Fatalf("two fits differ or have no model (%d, %d bytes)", len(a), len(b))
	}
	var out bytes.Buffer
	if code := cmdClassify(context.Background(), []string{"--rules", filepath.Join(dir, "a.yaml")}, strings.NewReader(sampleJSONL), &out, &errb); code != 0 {
		t.Fatalf("fitted pack: exit %d: %s", code, errb.String())
	}
	if code := cmdClassify(context.Background(), []string{"fit", in + ".missing"}, nil, io.Discard, &errb); code != 1 {
		t.Errorf("fit on a missing file: exit %d, want 1", code)
	}
}

// TestLabelledTopicsOfThePack: a labelled topic the pack does not define
// is named with its item by --eval, which warns and scores it as missed,
// and by fit, which refuses (the fitted pack would have no head for it).
func TestLabelledTopicsOfThePack(t *testing.T) {
	typo := strings.Replace(sampleJSONL, `"topics":["ratification"]`, `"topics":["ratifcation"]`, 1)
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"--eval"}, 0}, {[]string{"fit", "-"}, 1}} {
		args := tc.args
		var errb bytes.Buffer
		if code := cmdClassify(context.Background(), args, strings.NewReader(typo), io.Discard, &errb); code != tc.code {
			t.Errorf("%v: exit %d, want %d; %s", args, code, tc.code, errb.String())
		}
		if want := `item "x1": topic "ratifcation" is not in the rule pack's taxonomy (criminalisation-scope, human-rights, `; !strings.Contains(errb.String(), want) {
			t.Errorf("%v: %q lacks %q", args, errb.String(), want)
		}
	}
}

// everyNth writes every nth line of the JSONL file at path to a new file
// and returns its path.
func everyNth(t *testing.T, path string, n int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i%n == 0 {
			keep = append(keep, line)
		}
	}
	out := filepath.Join(t.TempDir(), "subset.jsonl")
	if err := os.WriteFile(out, []byte(strings.Join(keep, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
