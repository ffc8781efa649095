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
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// labelledRecord is one line of the labelled JSONL format
// (../shared/eval/dev.jsonl); the label fields are optional.
type labelledRecord struct {
	ID       string   `json:"id"`
	URL      string   `json:"url"`
	Source   string   `json:"source"`
	Date     string   `json:"date"`
	Lang     string   `json:"lang"`
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	Relevant *bool    `json:"relevant"`
	Topics   []string `json:"topics"`
	Stance   string   `json:"stance"`
	Actor    string   `json:"actor"`
}

func (r labelledRecord) item() fetch.Item {
	it := fetch.Item{Key: r.ID, URL: r.URL, SourceName: r.Source, Title: r.Title, Content: r.Text, Lang: r.Lang}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, r.Date); err == nil {
			it.Published = t
			break
		}
	}
	return it
}

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
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rulesFile := fs.String("rules", "", "rule pack `file` (YAML) instead of the built-in one")
	eval := fs.Bool("eval", false, "score the labels of the input and print metrics")
	asJSON := fs.Bool("json", false, "with --eval: print the metrics as one JSON object")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: treatywatch classify [--rules FILE] [--eval [--json]] [FILE.jsonl]\n")
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
		items := make([]classify.Labelled, 0, len(recs))
		for _, r := range recs {
			if r.Relevant == nil {
				fmt.Fprintf(stderr, "classify: --eval: %s: item %q has no \"relevant\" label\n", name, r.ID)
				return 1
			}
			items = append(items, classify.Labelled{ID: r.ID, Item: r.item(), Relevant: *r.Relevant, Topics: r.Topics, Stance: classify.Stance(r.Stance)})
		}
		rep := classify.Evaluate(eng, items)
		if *asJSON {
			rep.Errors = nil
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

func readRecords(ctx context.Context, r io.Reader) ([]labelledRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var out []labelledRecord
	line := 0
	for sc.Scan() {
		line++
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var rec labelledRecord
		if err := json.Unmarshal([]byte(b), &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
