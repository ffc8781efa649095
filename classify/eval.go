package classify

import (
	"fmt"
	"io"
	"strings"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// Labelled is an item with the labels a person gave it.
type Labelled struct {
	ID       string
	Item     fetch.Item
	Relevant bool
	Topics   []string
	Stance   Stance
}

// PRF is precision, recall and F1 with the counts behind them.
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
}

func prf(tp, fp, fn int) PRF {
	r := PRF{TP: tp, FP: fp, FN: fn}
	if tp+fp > 0 {
		r.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r.Recall = float64(tp) / float64(tp+fn)
	}
	if r.Precision+r.Recall > 0 {
		r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
	}
	return r
}

// TopicRow is one line of the per-topic table.
type TopicRow struct {
	Topic   string `json:"topic"`
	Support int    `json:"support"`
	PRF
}

// TopicReport scores topics over the items that are relevant in the gold
// labels (an item predicted irrelevant has no topics).
type TopicReport struct {
	MicroF1  float64    `json:"micro_f1"`
	Micro    PRF        `json:"micro"`
	MacroF1  float64    `json:"macro_f1"`
	PerTopic []TopicRow `json:"per_topic"`
}

// StanceReport scores stance over the items relevant in the gold labels:
// supportive, critical and neutral, with mixed counted as neutral. An
// item predicted irrelevant gets the label "none", wrong for every class.
type StanceReport struct {
	MacroF1  float64        `json:"macro_f1"`
	Labels   []string       `json:"labels"`
	PerLabel map[string]PRF `json:"per_label"`
	// Confusion[gold][predicted]; predicted has a fourth column "none".
	Confusion [][]int `json:"confusion"`
}

// Report is the evaluation of a classifier on labelled items.
type Report struct {
	Items     int          `json:"items"`
	Rules     string       `json:"rules,omitempty"`
	Relevance PRF          `json:"relevance"`
	Topics    TopicReport  `json:"topics"`
	Stance    StanceReport `json:"stance"`
	// Errors lists the items whose relevance or stance was wrong.
	Errors []EvalError `json:"errors,omitempty"`
}

// EvalError is one item the classifier got wrong.
type EvalError struct {
	ID        string `json:"id"`
	What      string `json:"what"`
	Gold      string `json:"gold"`
	Predicted string `json:"predicted"`
}

var stanceLabels = []string{string(StanceSupportive), string(StanceCritical), string(StanceNeutral)}

func stance3(s Stance) string {
	switch s {
	case StanceMixed, StanceNeutral:
		return string(StanceNeutral)
	case StanceSupportive, StanceCritical:
		return string(s)
	}
	return "none"
}

// Evaluate classifies every item and scores the results against the labels.
func Evaluate(c Classifier, items []Labelled) Report {
	rep := Report{Items: len(items)}
	var rtp, rfp, rfn int
	topics := rules.TopicIDs()
	tIdx := map[string]int{}
	for i, t := range topics {
		tIdx[t] = i
	}
	ttp := make([]int, len(topics))
	tfp := make([]int, len(topics))
	tfn := make([]int, len(topics))
	sup := make([]int, len(topics))
	conf := make([][]int, 3)
	for i := range conf {
		conf[i] = make([]int, 4)
	}
	col := map[string]int{"supportive": 0, "critical": 1, "neutral": 2, "none": 3}
	for _, l := range items {
		res := c.Classify(l.Item)
		if rep.Rules == "" {
			rep.Rules = res.Rules
		}
		switch {
		case res.Relevant && l.Relevant:
			rtp++
		case res.Relevant && !l.Relevant:
			rfp++
			rep.Errors = append(rep.Errors, EvalError{l.ID, "relevance", "false", "true"})
		case !res.Relevant && l.Relevant:
			rfn++
			rep.Errors = append(rep.Errors, EvalError{l.ID, "relevance", "true", "false"})
		}
		if !l.Relevant {
			continue
		}
		gold := map[string]bool{}
		for _, t := range l.Topics {
			gold[t] = true
			if i, ok := tIdx[t]; ok {
				sup[i]++
			}
		}
		pred := map[string]bool{}
		if res.Relevant {
			for _, t := range res.Topics {
				pred[t] = true
			}
		}
		for t, i := range tIdx {
			switch {
			case gold[t] && pred[t]:
				ttp[i]++
			case pred[t]:
				tfp[i]++
			case gold[t]:
				tfn[i]++
			}
		}
		g, p := stance3(l.Stance), stance3(res.Stance)
		if !res.Relevant {
			p = "none"
		}
		if gi, ok := col[g]; ok && gi < 3 {
			conf[gi][col[p]]++
		}
		if g != p {
			rep.Errors = append(rep.Errors, EvalError{l.ID, "stance", g, p})
		}
	}
	rep.Relevance = prf(rtp, rfp, rfn)

	var mtp, mfp, mfn, n int
	var macro float64
	for i, t := range topics {
		row := TopicRow{Topic: t, Support: sup[i], PRF: prf(ttp[i], tfp[i], tfn[i])}
		rep.Topics.PerTopic = append(rep.Topics.PerTopic, row)
		mtp += ttp[i]
		mfp += tfp[i]
		mfn += tfn[i]
		if sup[i] > 0 || tfp[i] > 0 {
			macro += row.F1
			n++
		}
	}
	rep.Topics.Micro = prf(mtp, mfp, mfn)
	rep.Topics.MicroF1 = rep.Topics.Micro.F1
	if n > 0 {
		rep.Topics.MacroF1 = macro / float64(n)
	}

	rep.Stance.Labels = stanceLabels
	rep.Stance.Confusion = conf
	rep.Stance.PerLabel = map[string]PRF{}
	var smacro float64
	for i, lab := range stanceLabels {
		tp := conf[i][i]
		fn, fp := 0, 0
		for j := 0; j < 4; j++ {
			if j != i {
				fn += conf[i][j]
			}
		}
		for k := 0; k < 3; k++ {
			if k != i {
				fp += conf[k][i]
			}
		}
		p := prf(tp, fp, fn)
		rep.Stance.PerLabel[lab] = p
		smacro += p.F1
	}
	rep.Stance.MacroF1 = smacro / 3
	return rep
}

// WriteText prints the report for a person to read.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "items: %d   rules: %s\n\n", r.Items, r.Rules)
	x := r.Relevance
	fmt.Fprintf(&b, "RELEVANCE  precision %.3f  recall %.3f  F1 %.3f   (tp %d, fp %d, fn %d)\n\n", x.Precision, x.Recall, x.F1, x.TP, x.FP, x.FN)
	fmt.Fprintf(&b, "TOPICS (gold-relevant items)  micro-F1 %.3f  macro-F1 %.3f\n", r.Topics.MicroF1, r.Topics.MacroF1)
	fmt.Fprintf(&b, "  %-26s %7s %5s %5s %5s %6s %6s %6s\n", "topic", "support", "tp", "fp", "fn", "P", "R", "F1")
	for _, t := range r.Topics.PerTopic {
		fmt.Fprintf(&b, "  %-26s %7d %5d %5d %5d %6.3f %6.3f %6.3f\n", t.Topic, t.Support, t.TP, t.FP, t.FN, t.Precision, t.Recall, t.F1)
	}
	fmt.Fprintf(&b, "\nSTANCE (gold-relevant items, mixed = neutral)  macro-F1 %.3f\n", r.Stance.MacroF1)
	fmt.Fprintf(&b, "  %-12s %11s %9s %8s %6s\n", "gold \\ pred", "supportive", "critical", "neutral", "none")
	for i, lab := range r.Stance.Labels {
		c := r.Stance.Confusion[i]
		fmt.Fprintf(&b, "  %-12s %11d %9d %8d %6d\n", lab, c[0], c[1], c[2], c[3])
	}
	for _, lab := range r.Stance.Labels {
		p := r.Stance.PerLabel[lab]
		fmt.Fprintf(&b, "  %-12s P %.3f  R %.3f  F1 %.3f\n", lab, p.Precision, p.Recall, p.F1)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nERRORS\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  %-8s %-10s gold %-10s predicted %s\n", e.ID, e.What, e.Gold, e.Predicted)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
