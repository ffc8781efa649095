package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/internal/pipeline"
)

// rows adds up records per sink.
func rows(bySink map[string]int) int {
	n := 0
	for _, v := range bySink {
		n += v
	}
	return n
}

// perSink writes records per sink, " (a 3, b 5)", sinks by name.
func perSink(bySink map[string]int) string {
	if len(bySink) == 0 {
		return ""
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(bySink)) {
		parts = append(parts, fmt.Sprintf("%s %d", s, bySink[s]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

var stanceColumns = []classify.Stance{classify.StanceSupportive, classify.StanceCritical, classify.StanceNeutral, classify.StanceMixed}

// printTopicTable writes relevant items per topic and stance, all sources
// together.
func printTopicTable(w io.Writer, reps []pipeline.BackfillReport) {
	by := map[rules.Topic]map[classify.Stance]int{}
	for _, r := range reps {
		for topic, st := range r.ByTopic {
			if by[topic] == nil {
				by[topic] = map[classify.Stance]int{}
			}
			for s, n := range st {
				by[topic][s] += n
			}
		}
	}
	if len(by) == 0 {
		return
	}
	topics := slices.Sorted(maps.Keys(by))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TOPIC\t")
	for _, s := range stanceColumns {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(string(s)))
	}
	fmt.Fprintln(tw, "OTHER\tTOTAL\t")
	for _, t := range topics {
		name := string(t)
		if name == "" {
			name = "(no topic)"
		}
		fmt.Fprintf(tw, "%s\t", name)
		total, known := 0, 0
		for _, s := range stanceColumns {
			fmt.Fprintf(tw, "%d\t", by[t][s])
			known += by[t][s]
		}
		for _, n := range by[t] {
			total += n
		}
		fmt.Fprintf(tw, "%d\t%d\t\n", total-known, total)
	}
	tw.Flush()
}

// printWouldDeliver lists the relevant items of a dry run.
func printWouldDeliver(w io.Writer, reps []pipeline.BackfillReport) {
	n := 0
	for _, r := range reps {
		n += len(r.WouldDeliver)
	}
	if n == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PUBLISHED\tSOURCE\tSTANCE\tTOPICS\tTITLE\tURL")
	for _, r := range reps {
		for _, l := range r.WouldDeliver {
			pub := "-"
			if !l.Item.Published.IsZero() {
				pub = l.Item.Published.UTC().Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", pub, l.Item.SourceID, orDash(string(l.Result.Stance)),
				orDash(rules.JoinTopics(l.Result.Topics, ",")), l.Item.Title, l.Item.URL)
		}
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
