package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/internal/store"
)

// cmdReclassify relabels stored items with the current rule pack and
// reports how many labels changed. Irrelevant items are stored without
// their text, so they keep their labels.
func cmdReclassify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reclassify", flag.ContinueOnError)
	var c common
	c.register(fs)
	dry := fs.Bool("dry-run", false, "report what would change without writing")
	source := fs.String("source", "", "only the items of this source")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	a, err := wire(ctx, &c, stderr, wireOptions{noSinks: true, exclusive: true})
	if err != nil {
		return exitErr(stderr, "reclassify", err)
	}
	defer a.store.Close()

	var n reclassifyCounts
	err = a.store.Items(ctx, store.ItemFilter{SourceID: *source}, func(l store.Labeled) error {
		if l.Lean {
			// Stored without its text (an irrelevant item): its title
			// alone would be a different item to the classifier.
			n.lean++
			return nil
		}
		n.items++
		res := a.classifier.Classify(l.Item)
		d := diffLabels(l.Result, res)
		n.add(d)
		if d.any() || l.Result.Rules != res.Rules {
			if *dry {
				return nil
			}
			return a.store.UpdateResult(ctx, l.Item.SourceID, l.Item.Key, res)
		}
		return nil
	})
	if err != nil {
		return exitErr(stderr, "reclassify", err)
	}
	verb := "changed"
	if *dry {
		verb = "would change"
	}
	fmt.Fprintf(stdout, "rules %s: %d items, %d %s labels (relevance %d: +%d relevant, -%d; topics %d; stance %d; actor %d)\n",
		a.classifier.Version(), n.items, n.changed, verb, n.relevance, n.gained, n.lost, n.topics, n.stance, n.actor)
	if n.lean > 0 {
		fmt.Fprintf(stdout, "%d irrelevant items left as labelled: they are stored without their text\n", n.lean)
	}
	return 0
}

type labelDiff struct {
	relevance, gained, topics, stance, actor bool
}

func (d labelDiff) any() bool { return d.relevance || d.topics || d.stance || d.actor }

func diffLabels(old, cur classify.Result) labelDiff {
	return labelDiff{
		relevance: old.Relevant != cur.Relevant,
		gained:    !old.Relevant && cur.Relevant,
		topics:    !slices.Equal(sorted(old.Topics), sorted(cur.Topics)),
		stance:    old.Stance != cur.Stance,
		actor:     old.Actor != cur.Actor,
	}
}

func sorted(s []rules.Topic) []rules.Topic {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

type reclassifyCounts struct {
	items, changed, relevance, gained, lost, topics, stance, actor int
	lean                                                           int
}

func (n *reclassifyCounts) add(d labelDiff) {
	if !d.any() {
		return
	}
	n.changed++
	if d.relevance {
		n.relevance++
		if d.gained {
			n.gained++
		} else {
			n.lost++
		}
	}
	if d.topics {
		n.topics++
	}
	if d.stance {
		n.stance++
	}
	if d.actor {
		n.actor++
	}
}
