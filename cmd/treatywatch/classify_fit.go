package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
)

// pack with its new model section.
func cmdClassifyFit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("classify fit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	rulesFile := fs.String("rules", "", "rule pack `file` whose vocabulary to fit (default: the config's classify.rules, else the built-in pack)")
	out := fs.String("out", "", "write the fitted pack to `file` (default: stdout)")
	l2 := fs.Float64("l2", classify.DefaultL2, "ridge penalty on the weights")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: treatywatch classify fit [--rules FILE] [--out PACK.yaml] [--l2 X] LABELLED.jsonl\n")
		fs.PrintDefaults()
	}
	// flags may come before or after the file ("fit dev.jsonl --out p.yaml")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	if *rulesFile == "" {
		var err error
		if *rulesFile, err = c.rulesFile(stderr); err != nil {
			fmt.Fprintf(stderr, "classify fit: %v\n", err)
			return 1
		}
	}
	src := rules.DefaultYAML()
	if *rulesFile != "" {
		b, err := os.ReadFile(*rulesFile)
		if err != nil {
			fmt.Fprintf(stderr, "classify fit: %v\n", err)
			return 1
		}
		src = b
	}
	name := *rulesFile
	if name == "" {
		name = rules.DefaultName
	}
	p, err := rules.Load(name, src)
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: %v\n", err)
		return 1
	}
	in := stdin
	lname := "stdin"
	if a := pos[0]; a != "-" {
		f, err := os.Open(a)
		if err != nil {
			fmt.Fprintf(stderr, "classify fit: %v\n", err)
			return 1
		}
		defer f.Close()
		in, lname = f, a
	}
	recs, err := readRecords(ctx, in)
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: read %s: %v\n", lname, err)
		return 1
	}
	items, err := labelled(recs, lname, p.Taxonomy, nil)
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: %v\n", err)
		return 1
	}
	m, err := classify.Fit(p, items, classify.FitOptions{L2: *l2, Fitted: fmt.Sprintf("%s, %d items", filepath.Base(lname), len(items))})
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: %v\n", err)
		return 1
	}
	b, err := rules.WithModel(src, m)
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: %v\n", err)
		return 1
	}
	// the written pack must load and compile as it is
	q, err := rules.Load(name, b)
	if err == nil {
		_, err = classify.New(q)
	}
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: the fitted pack does not load: %v\n", err)
		return 1
	}
	if *out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "classify fit: %v\n", err)
		return 1
	}
	if *out != "" {
		fmt.Fprintf(stderr, "classify fit: %d items, wrote %s\n", len(items), *out)
	}
	return 0
}
