package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// labelledRecord is one line of the labelled JSONL format
// (../shared/eval/dev.jsonl); the label fields are optional.
type labelledRecord struct {
	ID       string        `json:"id"`
	URL      string        `json:"url"`
	Source   string        `json:"source"`
	Date     string        `json:"date"`
	Lang     string        `json:"lang"`
	Title    string        `json:"title"`
	Text     string        `json:"text"`
	Relevant *bool         `json:"relevant"`
	Topics   []rules.Topic `json:"topics"`
	Stance   string        `json:"stance"`
	Actor    string        `json:"actor"`
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

// readRecords reads labelled JSONL, one record a line (blank lines skipped).
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

// labelled turns records into labelled items; every record needs a
// "relevant" label. A topic outside tax (the pack evaluated or fitted)
// is an error when warn is nil (fitting: the pack would have no head for
// it); otherwise it is reported to warn and kept, so an evaluation scores
// it as a topic the pack never assigns.
func labelled(recs []labelledRecord, name string, tax rules.Taxonomy, warn io.Writer) ([]classify.Labelled, error) {
	items := make([]classify.Labelled, 0, len(recs))
	for _, r := range recs {
		if r.Relevant == nil {
			return nil, fmt.Errorf("%s: item %q has no \"relevant\" label", name, r.ID)
		}
		for _, t := range r.Topics {
			if !tax.Has(t) {
				err := fmt.Errorf("%s: item %q: topic %q is not in the rule pack's taxonomy (%s)", name, r.ID, t, rules.JoinTopics(tax.IDs(), ", "))
				if warn == nil {
					return nil, err
				}
				fmt.Fprintf(warn, "classify: warning: %v; scored as missed\n", err)
			}
		}
		items = append(items, classify.Labelled{ID: r.ID, Item: r.item(), Relevant: *r.Relevant, Topics: r.Topics, Stance: classify.Stance(r.Stance)})
	}
	return items, nil
}

// cmdClassifyFit implements "treatywatch classify fit [--rules FILE]
// [--out PACK.yaml] LABELLED.jsonl": it fits the weights of a pack's
// vocabulary (the built-in one, or FILE) on labelled items and writes the
