package classify

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// Labelled is an item with the labels a person gave it.
type Labelled struct {
	ID       string
	Item     fetch.Item
	Relevant bool
	Topics   []rules.Topic
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
	Topic   rules.Topic `json:"topic"`
	Support int         `json:"support"`
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
	// ByLang is the same report for the items of each language (the
	// labelled item's lang).
	ByLang map[string]*Report `json:"by_lang,omitempty"`
	// Folds is the out-of-fold report of a cross-validation (each item
	// scored by a model fitted without its source); FoldCount its k.
	Folds     *Report `json:"folds,omitempty"`
	FoldCount int     `json:"fold_count,omitempty"`
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
	return predictedNone
}

// predictedNone is the confusion matrix's column of items predicted
// irrelevant.
const predictedNone = "none"

// Evaluate classifies every item and scores the results against the
// labels, per topic of c's taxonomy when c has one (an *Engine), else of
// the embedded pack's.
func Evaluate(c Classifier, items []Labelled) Report {
	res := make([]Result, len(items))
	for i, l := range items {
		res[i] = c.Classify(l.Item)
	}
	tax := rules.DefaultTaxonomy
	if t, ok := c.(interface{ Taxonomy() rules.Taxonomy }); ok {
		tax = t.Taxonomy
	}
	return scoreWithLangs(tax().IDs(), items, res)
}

// scoreWithLangs scores results against labels, overall and per language;
// topics are the taxonomy's ids in order.
func scoreWithLangs(topics []rules.Topic, items []Labelled, res []Result) Report {
	rep := score(topics, items, res)
	byLang := map[string][]int{}
	for i, l := range items {
		if l.Item.Lang != "" {
			byLang[l.Item.Lang] = append(byLang[l.Item.Lang], i)
		}
	}
	if len(byLang) > 1 {
		rep.ByLang = map[string]*Report{}
		for lang, idx := range byLang {
			li := make([]Labelled, len(idx))
			lr := make([]Result, len(idx))
			for j, i := range idx {
				li[j], lr[j] = items[i], res[i]
			}
			r := score(topics, li, lr)
			r.Errors = nil
			rep.ByLang[lang] = &r
		}
	}
	return rep
}

// score compares results to labels.
func score(topics []rules.Topic, items []Labelled, results []Result) Report {
	rep := Report{Items: len(items)}
	var rtp, rfp, rfn int
	tIdx := map[rules.Topic]int{}
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
	col := map[string]int{stanceLabels[0]: 0, stanceLabels[1]: 1, stanceLabels[2]: 2, predictedNone: 3}
	for k, l := range items {
		res := results[k]
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
		gold := map[rules.Topic]bool{}
		for _, t := range l.Topics {
			gold[t] = true
			if i, ok := tIdx[t]; ok {
				sup[i]++
			}
		}
		pred := map[rules.Topic]bool{}
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
			p = predictedNone
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

// WriteText prints the report for a person to read. After a
// cross-validation it prints the in-sample and out-of-fold figures side by
// side, per language, then the details of the out-of-fold scores.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Folds != nil {
		o := r.Folds
		fmt.Fprintf(&b, "items: %d   rules: %s   folds: %d, grouped by source\n\n", r.Items, r.Rules, r.FoldCount)
		fmt.Fprintf(&b, "  %-18s %10s %12s\n", "", "in-sample", "out-of-fold")
		fmt.Fprintf(&b, "  %-18s %10.3f %12.3f\n", "relevance F1", r.Relevance.F1, o.Relevance.F1)
		fmt.Fprintf(&b, "  %-18s %10.3f %12.3f\n", "topic micro-F1", r.Topics.MicroF1, o.Topics.MicroF1)
		fmt.Fprintf(&b, "  %-18s %10.3f %12.3f\n", "stance macro-F1", r.Stance.MacroF1, o.Stance.MacroF1)
		fmt.Fprintf(&b, "\nBY LANGUAGE (in-sample / out-of-fold)\n  %-5s %6s %15s %15s %15s\n", "lang", "items", "relevance F1", "topic micro-F1", "stance macro-F1")
		langs := make([]string, 0, len(r.ByLang))
		for l := range r.ByLang {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			i, f := r.ByLang[l], o.ByLang[l]
			if f == nil {
				continue
			}
			fmt.Fprintf(&b, "  %-5s %6d     %.3f/%.3f     %.3f/%.3f     %.3f/%.3f\n", l, i.Items, i.Relevance.F1, f.Relevance.F1, i.Topics.MicroF1, f.Topics.MicroF1, i.Stance.MacroF1, f.Stance.MacroF1)
		}
		fmt.Fprintf(&b, "\nOUT-OF-FOLD DETAILS\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		d := *o
		d.ByLang = nil
		return d.WriteText(w)
	}
	fmt.Fprintf(&b, "items: %d   rules: %s\n\n", r.Items, r.Rules)
	x := r.Relevance
	fmt.Fprintf(&b, "RELEVANCE  precision %.3f  recall %.3f  F1 %.3f   (tp %d, fp %d, fn %d)\n\n", x.Precision, x.Recall, x.F1, x.TP, x.FP, x.FN)
	if len(r.ByLang) > 1 {
		langs := make([]string, 0, len(r.ByLang))
		for l := range r.ByLang {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		fmt.Fprintf(&b, "BY LANGUAGE\n  %-5s %6s %13s %15s %16s\n", "lang", "items", "relevance F1", "topic micro-F1", "stance macro-F1")
		for _, l := range langs {
			x := r.ByLang[l]
			fmt.Fprintf(&b, "  %-5s %6d %13.3f %15.3f %16.3f\n", l, x.Items, x.Relevance.F1, x.Topics.MicroF1, x.Stance.MacroF1)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "TOPICS (gold-relevant items)  micro-F1 %.3f  macro-F1 %.3f\n", r.Topics.MicroF1, r.Topics.MacroF1)
	fmt.Fprintf(&b, "  %-26s %7s %5s %5s %5s %6s %6s %6s\n", "topic", "support", "tp", "fp", "fn", "P", "R", "F1")
	for _, t := range r.Topics.PerTopic {
		fmt.Fprintf(&b, "  %-26s %7d %5d %5d %5d %6.3f %6.3f %6.3f\n", t.Topic, t.Support, t.TP, t.FP, t.FN, t.Precision, t.Recall, t.F1)
	}
	fmt.Fprintf(&b, "\nSTANCE (gold-relevant items, mixed = neutral)  macro-F1 %.3f\n", r.Stance.MacroF1)
	fmt.Fprintf(&b, "  %-12s %11s %9s %8s %6s\n", "gold \\ pred", stanceLabels[0], stanceLabels[1], stanceLabels[2], predictedNone)
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
