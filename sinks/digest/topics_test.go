package digest

import (
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/sinks"
)

// ownPack is the embedded rule pack as a user would copy and edit it: the
// human-rights topic renamed, a data-retention topic added after it.
func ownPack(t *testing.T) []byte {
	t.Helper()
	src := string(rules.DefaultYAML())
	for _, e := range []struct{ old, new string }{
		{"  - {id: human-rights, label: Human rights}\n",
			"  - {id: human-rights, label: Rights and freedoms}\n  - {id: data-retention, label: Data retention}\n"},
	} {
		if !strings.Contains(src, e.old) {
			t.Fatalf("the embedded pack has no %q", e.old)
		}
		src = strings.Replace(src, e.old, e.new, 1)
	}
	return []byte(src)
}

// TestSectionsFollowTheRulePack: the digest's sections take their order
// and labels from the rule pack's taxonomy: a topic the pack adds or
// renames shows as the pack says; a topic it does not define comes after
// its topics under its id; items without a stance count as unlabelled.
func TestSectionsFollowTheRulePack(t *testing.T) {
	own, err := rules.ReadTaxonomy("own.yaml", ownPack(t))
	if err != nil {
		t.Fatal(err)
	}
	at := winEnd.Add(-3 * time.Hour)
	recs := []sinks.Record{
		rec("p1", "Retention periods in the draft", classify.StanceCritical, 0.9, at, "data-retention"),
		rec("p2", "Rights groups on the treaty", classify.StanceCritical, 0.8, at, "human-rights", "data-retention"),
		rec("p3", "Surveillance powers", classify.StanceNone, 0.7, at, "privacy-surveillance"),
		rec("p4", "A topic of an older pack", classify.StanceNeutral, 0.6, at, "old-topic"),
		rec("p5", "No topic", classify.StanceNone, 0.5, at),
	}
	tests := []struct {
		name   string
		topics rules.Taxonomy
		ids    string
		labels string
		text   []string
	}{
		{"own pack", own,
			"human-rights,data-retention,privacy-surveillance,old-topic,untagged",
			"Rights and freedoms|Data retention|Privacy and surveillance|old-topic|Untagged",
			[]string{"== RIGHTS AND FREEDOMS (1", "== DATA RETENTION (2", "Also in: Data retention", "2 unlabelled"}},
		{"embedded pack", nil,
			"human-rights,privacy-surveillance,data-retention,old-topic,untagged",
			"Human rights|Privacy and surveillance|data-retention|old-topic|Untagged",
			[]string{"== HUMAN RIGHTS (1", "== DATA-RETENTION (2", "Also in: data-retention"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, func(o *Options) { o.Topics = tc.topics })
			d := s.buildData(window, recs, nil, nil, nil)
			var ids, labels []string
			for _, tp := range d.Topics {
				ids, labels = append(ids, tp.ID), append(labels, tp.Label)
			}
			if got := strings.Join(ids, ","); got != tc.ids {
				t.Errorf("sections %s, want %s", got, tc.ids)
			}
			if got := strings.Join(labels, "|"); got != tc.labels {
				t.Errorf("labels %s, want %s", got, tc.labels)
			}
			var deltas []string
			for _, td := range d.Changes.Topics {
				deltas = append(deltas, td.ID)
			}
			if got := strings.Join(deltas, ","); got != tc.ids {
				t.Errorf("changes list %s, want the sections' order %s", got, tc.ids)
			}
			last := d.Stances[len(d.Stances)-1]
			if last.Stance != string(classify.StanceUnlabelled) || last.Label != "Unlabelled" || last.Count != 2 {
				t.Errorf("last stance count %+v, want 2 unlabelled", last)
			}
			m, err := s.Render(window, recs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
		})
	}
}
