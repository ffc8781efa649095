package digest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/internal/store"
)

// The spike flag comes from the stored history, so the first digest of a
// new installation shows one: the store holds four weeks of items from
// the first fetch (by publication date), and the window has far more on
// one topic than usual.
func TestSpikesFromStoredHistory(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ls []store.Labeled
	for i := range 28 { // one human-rights item a day before the window
		r := rec(fmt.Sprintf("hr%d", i), "Rights item", classify.StanceCritical, 1, winEnd.Add(-time.Duration(i+2)*24*time.Hour), "human-rights")
		ls = append(ls, store.Labeled{Item: r.Item, Result: r.Result})
	}
	recs := windowRecords()
	for i := range 5 { // five ratification items in the window
		r := rec(fmt.Sprintf("rat%d", i), fmt.Sprintf("Country %d ratifies", i), classify.StanceNeutral, 1, winEnd.Add(-time.Duration(i+3)*time.Hour), "ratification")
		recs = append(recs, r)
	}
	for _, r := range recs {
		r.Item.SourceID = "s"
		ls = append(ls, store.Labeled{Item: r.Item, Result: r.Result})
	}
	for _, l := range ls {
		l.Item.SourceID = "s"
		if _, err := st.Commit(ctx, store.Commit{SourceID: "s", At: winEnd.Add(-time.Hour), Items: []store.Labeled{l}}); err != nil {
			t.Fatal(err)
		}
	}

	tr := &recorder{}
	s := newTestSink(t, tr, st, func(o *Options) { o.History = st })
	m, err := s.Preview(ctx, window, recs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "VOLUME SPIKES") || !strings.Contains(m.Text, "Signature and ratification") {
		t.Errorf("first digest shows no spike for ratification:\n%s", m.Text)
	}
	if sec := afterSpikes(m.Text); strings.Contains(sec, "Human rights") {
		t.Errorf("a steady topic is flagged:%s", sec)
	}
	if !strings.Contains(m.HTML, "Volume spikes") || !strings.Contains(m.Mrkdwn, "*Volume spikes:*") {
		t.Errorf("spikes missing from the HTML or Slack rendering")
	}

	// Without history, no spike is claimed.
	plain := newTestSink(t, tr, st, nil)
	m, err = plain.Preview(ctx, window, recs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "VOLUME SPIKES") {
		t.Errorf("a digest without history shows spikes")
	}
}

// afterSpikes returns the spike section of a text digest.
func afterSpikes(text string) string {
	_, rest, _ := strings.Cut(text, "VOLUME SPIKES")
	sec, _, _ := strings.Cut(rest, "\n\n")
	return sec
}
