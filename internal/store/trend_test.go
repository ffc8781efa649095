package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/trend"
)

// A new installation's first fetch stores weeks of items (by their
// publication dates); the daily counts put each on its day in the
// digest's zone, and a topic far above its trailing mean on the last day
// is a spike at once.
func TestDailyCountsAndSpikes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	installed := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	var ls []Labeled
	add := func(key string, pub time.Time, relevant bool, actor string, topics ...rules.Topic) {
		ls = append(ls, Labeled{
			Item:   fetch.Item{SourceID: "s", Key: key, URL: "https://example.org/" + key, Published: pub},
			Result: classify.Result{Relevant: relevant, Topics: topics, Actor: actor, Stance: classify.StanceNeutral, Rules: "t"},
		})
	}
	// Three weeks of one human-rights item a day, published at 23:30 UTC:
	// the next day in Berlin.
	for i := range 21 {
		add(fmt.Sprintf("hr%d", i), time.Date(2026, 11, 9+i, 23, 30, 0, 0, time.UTC), true, "", "human-rights")
	}
	// On 30 November (Berlin): six ratification items, four by one actor,
	// an irrelevant one that must not count, one without a date (counted
	// on the day it was seen: the installation day).
	for i := range 6 {
		actor := ""
		if i < 4 {
			actor = "Viet Nam"
		}
		add(fmt.Sprintf("rat%d", i), time.Date(2026, 11, 30, 10, i, 0, 0, berlin), true, actor, "ratification")
	}
	add("noise", time.Date(2026, 11, 30, 10, 0, 0, 0, berlin), false, "", "ratification")
	add("undated", time.Time{}, true, "", "geopolitics")
	if _, err := s.Commit(ctx, Commit{SourceID: "s", At: installed, Items: ls}); err != nil {
		t.Fatal(err)
	}

	d, err := s.DailyCounts(ctx, time.Date(2026, 11, 2, 12, 0, 0, 0, berlin), time.Date(2026, 11, 30, 12, 0, 0, 0, berlin), berlin)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Days) != 29 || !d.Days[0].Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, berlin)) {
		t.Fatalf("days = %d from %s", len(d.Days), d.Days[0])
	}
	if want := time.Date(2026, 11, 10, 0, 30, 0, 0, berlin); !d.First.Equal(want) {
		t.Errorf("first = %s, want %s", d.First, want)
	}
	hr := d.Counts[trend.Key{Kind: trend.KindTopic, Name: "human-rights"}]
	if hr[7] != 0 || hr[8] != 1 || hr[28] != 1 {
		t.Errorf("human-rights by day = %v (want the first on 10 Nov, index 8)", hr)
	}
	if rat := d.Counts[trend.Key{Kind: trend.KindTopic, Name: "ratification"}]; rat[28] != 6 {
		t.Errorf("ratification on the last day = %d, want 6 (the irrelevant item left out)", rat[28])
	}
	if _, ok := d.Counts[trend.Key{Kind: trend.KindTopic, Name: "geopolitics"}]; ok {
		t.Errorf("the undated item seen on 1 Dec was counted in November")
	}

	spikes := trend.Spikes(d, 1, trend.Options{})
	want := []trend.Spike{
		{Kind: trend.KindTopic, Name: "ratification", Count: 6},
		{Kind: trend.KindActor, Name: "Viet Nam", Count: 4},
	}
	if len(spikes) != len(want) {
		t.Fatalf("spikes = %+v, want %+v", spikes, want)
	}
	for i := range want {
		if spikes[i] != want[i] {
			t.Errorf("spike %d = %+v, want %+v", i, spikes[i], want[i])
		}
	}

	// The undated item counts on the day it was seen.
	d, err = s.DailyCounts(ctx, installed, installed, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if g := d.Counts[trend.Key{Kind: trend.KindTopic, Name: "geopolitics"}]; len(g) != 1 || g[0] != 1 {
		t.Errorf("undated item on the installation day = %v", g)
	}
}
