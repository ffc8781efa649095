package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/pgtest"
)

// onBothDialects runs a test on an SQLite and a PostgreSQL store.
func onBothDialects(t *testing.T, test func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, _ := openTemp(t)
		test(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		pgtest.ServerURL(t)
		s, err := Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
}

func findOne(t *testing.T, s *Store, q dashboard.ItemQuery) dashboard.ItemSummary {
	t.Helper()
	p, err := s.SearchItems(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 1 || len(p.Items) != 1 {
		t.Fatalf("query %+v: %d items, want 1", q, p.Total)
	}
	return p.Items[0]
}

// TestCorrectionsStayEffective: a correction is the item's label until
// the next one; reclassifying, re-fetching and forgetting the item keep
// it; the read model follows every writer of items.
func TestCorrectionsStayEffective(t *testing.T) { onBothDialects(t, testCorrectionsStayEffective) }

func testCorrectionsStayEffective(t *testing.T, s *Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l := labeled("a", "k1", true)
	l.Item.Content = "Civil society warns that the convention expands surveillance powers."
	l.Item.Lang = "EN"
	l.Item.Published = time.Date(2026, 3, 1, 23, 30, 0, 0, time.FixedZone("x", -2*3600)) // 2 March UTC
	other := labeled("a", "k2", false)
	if _, err := s.Commit(ctx, Commit{SourceID: "a", At: at, Items: []Labeled{l, other}, Deliver: true, Sinks: []string{"jsonl"}}); err != nil {
		t.Fatal(err)
	}
	it := findOne(t, s, dashboard.ItemQuery{Text: "surveil*"})
	if it.Day != "2026-03-02" || it.Lang != "en" || it.Stance != "neutral" || !slices.Equal(it.Topics, []rules.Topic{"ratification"}) || it.Corrected {
		t.Fatalf("item = %+v", it)
	}
	c, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: it.ID, Who: "alice", At: at,
		Label: dashboard.Label{Relevant: true, Stance: "critical", Topics: []rules.Topic{"privacy-surveillance"}}, Reason: "quoted-opponent"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Machine.Stance != "neutral" || c.Rules != "test-1" {
		t.Errorf("correction keeps the machine label %+v rules %q", c.Machine, c.Rules)
	}
	check := func(when string) {
		t.Helper()
		got := findOne(t, s, dashboard.ItemQuery{Stance: "critical", Topic: "privacy-surveillance"})
		if !got.Corrected || got.Key != "k1" {
			t.Errorf("%s: %+v", when, got)
		}
		cells, err := s.TopicStance(ctx, "2026-01-01", "2026-12-31")
		if err != nil {
			t.Fatal(err)
		}
		if want := []dashboard.Cell{{Row: "privacy-surveillance", Col: "critical", Count: 1}}; !slices.Equal(cells, want) {
			t.Errorf("%s: topic cells %v, want %v", when, cells, want)
		}
	}
	check("after the correction")

	// Reclassification writes new machine labels, not the effective ones.
	r := l.Result
	r.Stance, r.Rules = classify.StanceSupportive, "test-2"
	if err := s.UpdateResult(ctx, "a", "k1", r); err != nil {
		t.Fatal(err)
	}
	check("after reclassify")
	d, err := s.ItemDetail(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Machine.Rules != "test-2" || d.Stance != "critical" || len(d.Corrections) != 1 || d.Corrections[0].Who != "alice" {
		t.Errorf("detail after reclassify: machine %q, effective %q, corrections %+v", d.Machine.Rules, d.Stance, d.Corrections)
	}
	if len(d.Deliveries) != 1 || d.Deliveries[0].Sink != "jsonl" || d.Deliveries[0].State != "pending" {
		t.Errorf("deliveries = %+v", d.Deliveries)
	}

	// Forgotten and fetched again (a new id), the correction still holds.
	if _, err := s.Forget(ctx, "a", "k1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.SearchItems(ctx, dashboard.ItemQuery{Text: "surveillance", Relevance: dashboard.AnyRelevance}); p.Total != 0 {
		t.Errorf("a forgotten item is still found: %+v", p)
	}
	l.Item.Title = "Rights groups: the treaty expands surveillance"
	if _, err := s.Commit(ctx, Commit{SourceID: "a", At: at.Add(time.Hour), Items: []Labeled{l}}); err != nil {
		t.Fatal(err)
	}
	check("after forget and re-fetch")
	findOne(t, s, dashboard.ItemQuery{Text: "rights groups"})

	// A later correction wins; marking it not relevant takes it out of
	// the aggregates.
	again := findOne(t, s, dashboard.ItemQuery{Corrected: true})
	if _, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: again.ID, Who: "bob", Label: dashboard.Label{Relevant: false}}); err != nil {
		t.Fatal(err)
	}
	if cells, _ := s.TopicStance(ctx, "2026-01-01", "2026-12-31"); len(cells) != 0 {
		t.Errorf("topic cells after marking not relevant: %v", cells)
	}
	findOne(t, s, dashboard.ItemQuery{Relevance: dashboard.IrrelevantOnly, Corrected: true})
	var exported []string
	if err := s.Corrected(ctx, func(d dashboard.ItemDetail) error {
		exported = append(exported, d.Corrections[0].Who)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(exported, []string{"bob"}) {
		t.Errorf("corrected items = %v, want one, with bob's label", exported)
	}
	if _, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: 9999, Who: "x"}); err != dashboard.ErrNotFound {
		t.Errorf("correcting a missing item: %v", err)
	}
}

// TestTreatyEventsFromItems reads the depositary's events back from the
// items a treaty source wrote.
func TestTreatyEventsFromItems(t *testing.T) { onBothDialects(t, testTreatyEventsFromItems) }

func testTreatyEventsFromItems(t *testing.T, s *Store) {
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	mk := func(key, title string, d int) Labeled {
		return Labeled{Item: fetch.Item{SourceID: "untc", Key: key, Title: title, Published: day(d), URL: "https://treaties.un.org/x"},
			Result: classify.Result{Relevant: true, Topics: []rules.Topic{"ratification"}, Stance: classify.StanceNeutral}}
	}
	items := []Labeled{
		mk("untc:viet nam:signature", "Viet Nam signed the United Nations Convention against Cybercrime", 1),
		mk("untc:viet nam:ratification", "Viet Nam ratified the United Nations Convention against Cybercrime", 5),
		mk("untc:côte d'ivoire:accession", "Côte d'Ivoire acceded to the United Nations Convention against Cybercrime", 3),
		{Item: fetch.Item{SourceID: "untc", Key: "https://example.org/news", Title: "News"}},
	}
	if _, err := s.Commit(ctx, Commit{SourceID: "untc", At: day(6), Items: items}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.TreatyEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Date.Format("02")+" "+e.Participant+" "+e.Action)
	}
	want := []string{"01 Viet Nam signature", "03 Côte d'Ivoire accession", "05 Viet Nam ratification"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}
