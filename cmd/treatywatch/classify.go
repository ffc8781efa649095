package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
)

// classifiedLine is what classify writes for each item.
type classifiedLine struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
	classify.Result
}

// cmdClassify implements "treatywatch classify [--rules FILE] [--eval
// [--json]] [FILE]": it labels JSONL items read from FILE (or stdin) and
// writes one JSON line per item, or with --eval scores the labels.
func cmdClassify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "fit" {
		return cmdClassifyFit(ctx, args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	rulesFile := fs.String("rules", "", "rule pack `file` (YAML) instead of the config's classify.rules (default: the built-in pack)")
	eval := fs.Bool("eval", false, "score the labels of the input and print metrics")
	asJSON := fs.Bool("json", false, "with --eval: print the metrics as one JSON object")
	folds := fs.Int("folds", 0, "with --eval: cross-validate the fit over `K` folds grouped by source (out-of-fold beside in-sample)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: treatywatch classify [--rules FILE] [--eval [--folds K] [--json]] [FILE.jsonl]\n       treatywatch classify fit [--rules FILE] [--out PACK.yaml] LABELLED.jsonl\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	if *asJSON && !*eval {
		fmt.Fprintln(stderr, "classify: --json needs --eval")
		return 2
	}
	if *folds != 0 && (!*eval || *folds < 2) {
		fmt.Fprintln(stderr, "classify: --folds needs --eval and K >= 2")
		return 2
	}
	if *rulesFile == "" {
		var err error
		if *rulesFile, err = c.rulesFile(stderr); err != nil {
			fmt.Fprintf(stderr, "classify: %v\n", err)
			return 1
		}
	}
	eng, err := loadEngine(*rulesFile)
	if err != nil {
		fmt.Fprintf(stderr, "classify: %v\n", err)
		return 1
	}
	in := stdin
	name := "stdin"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "classify: %v\n", err)
			return 1
		}
		defer f.Close()
		in, name = f, fs.Arg(0)
	}
	recs, err := readRecords(ctx, in)
	if err != nil {
		fmt.Fprintf(stderr, "classify: read %s: %v\n", name, err)
		return 1
	}
	if *eval {
		items, err := labelled(recs, name, eng.Taxonomy(), stderr)
		if err != nil {
			fmt.Fprintf(stderr, "classify: --eval: %v\n", err)
			return 1
		}
		var rep classify.Report
		if *folds > 0 {
			rep, err = classify.CrossValidate(eng.Pack(), items, *folds, classify.FitOptions{})
			if err != nil {
				fmt.Fprintf(stderr, "classify: --eval: %v\n", err)
				return 1
			}
		} else {
			rep = classify.Evaluate(eng, items)
		}
		if *asJSON {
			rep.Errors = nil
			if rep.Folds != nil {
				rep.Folds.Errors = nil
			}
			if err := json.NewEncoder(stdout).Encode(rep); err != nil {
				fmt.Fprintf(stderr, "classify: %v\n", err)
				return 1
			}
			return 0
		}
		if err := rep.WriteText(stdout); err != nil {
			fmt.Fprintf(stderr, "classify: %v\n", err)
			return 1
		}
		return 0
	}
	bw := bufio.NewWriter(stdout)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(stderr, "classify: %v\n", err)
			return 1
		}
		if err := enc.Encode(classifiedLine{ID: r.ID, URL: r.URL, Result: eng.Classify(r.item())}); err != nil {
			fmt.Fprintf(stderr, "classify: %v\n", err)
			return 1
		}
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(stderr, "classify: %v\n", err)
		return 1
	}
	return 0
}

// rulesFile checks the common flags and returns the config's rule pack
// (empty for the built-in one).
func (c *common) rulesFile(stderr io.Writer) (string, error) {
	if _, err := c.logger(stderr); err != nil {
		return "", err
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return "", err
	}
	return cfg.Classify.Rules, nil
}

func loadEngine(file string) (*classify.Engine, error) {
	if file == "" {
		return classify.Default()
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	p, err := rules.Load(file, data)
	if err != nil {
		return nil, err
	}
	return classify.New(p)
}
