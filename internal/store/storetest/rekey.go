package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch/normalize"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
)

// testRekey: items stored under the keys an earlier version gave them
// move to today's keys with their queued records; an old key whose new
// form is stored already folds into that item; keys of today stay.
func testRekey(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	old := func(key, url, title, summary string) store.Labeled {
		l := labeled("r", key, true)
		l.Item.URL, l.Item.Title, l.Item.Summary = url, title, summary
		return l
	}
	sum := sha256.Sum256([]byte("A note\nNo link."))
	hashKey := hex.EncodeToString(sum[:])
	items := []store.Labeled{
		old("https://example.org/r/a#part", "https://example.org/r/a#part", "A", ""),
		old("https://example.org/r/b", "https://example.org/r/b", "B", ""),
		old("https://example.org/r/b?utm_source=rss", "https://example.org/r/b", "B again", ""),
		old(hashKey, "", "A note", "No link."),
		old("tag:example.org,2025:d", "https://example.org/r/d", "D", ""),
	}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "r", At: t0, Items: items, Deliver: true, Sinks: []string{"w"}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Rekey(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Rekey moved %d (%v), want 3", n, err)
	}
	if n, err := s.Rekey(ctx); err != nil || n != 0 {
		t.Fatalf("a second Rekey moved %d (%v)", n, err)
	}
	want := []string{"https://example.org/r/a", "https://example.org/r/b", normalize.ContentKey("A note", "No link."), "tag:example.org,2025:d"}
	fresh, err := unseen(ctx, s, "r", append(slices.Clone(want), items[0].Item.Key, items[2].Item.Key, hashKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range want {
		if fresh[k] {
			t.Errorf("%s not stored after the rekey", k)
		}
	}
	if len(fresh) != 3 {
		t.Errorf("unseen %v, want the three old keys", fresh)
	}
	var keys []string
	if err := s.Items(ctx, store.ItemFilter{SourceID: "r"}, func(l store.Labeled) error {
		keys = append(keys, l.Item.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("stored keys %q, want %q", keys, want)
	}
	// Every queued record still reaches its item, under the new key.
	got, err := s.ClaimDue(ctx, "w", t0.Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	var queued []string
	for _, p := range got {
		queued = append(queued, p.Record.Item.Key)
	}
	slices.Sort(queued)
	if wantQ := []string{want[0], want[1], want[1], want[2], want[3]}; !slices.Equal(queued, wantQ) {
		t.Errorf("queued records of %q, want %q", queued, wantQ)
	}
}

// testRekeyCorrections: an analyst's correction of an item stored under
// an old key follows the item to its new key, also when the item folds
// into one stored under the new key already: the item page lists it and
// the effective labels (the dashboard's facts) are the analyst's.
func testRekeyCorrections(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	item := func(key, url string) store.Labeled {
		l := labeled("c", key, true)
		l.Item.URL = url
		return l
	}
	const (
		moved   = "https://example.org/c/m"
		folded  = "https://example.org/c/f"
		oldMove = moved + "#part"
		oldFold = folded + "?utm_source=rss"
	)
	items := []store.Labeled{item(oldMove, oldMove), item(oldFold, folded), item(folded, folded)}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "c", At: t0, Items: items}); err != nil {
		t.Fatal(err)
	}
	page, err := s.SearchItems(ctx, dashboard.ItemQuery{Source: "c", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, it := range page.Items {
		ids[it.Key] = it.ID
	}
	for _, key := range []string{oldMove, oldFold} {
		c := dashboard.Correction{ItemID: ids[key], Who: "ana", Reason: "irony", At: t0.Add(time.Hour),
			Label: dashboard.Label{Relevant: true, Stance: string(classify.StanceCritical), Topics: []rules.Topic{"human-rights"}}}
		if _, err := s.AddCorrection(ctx, c); err != nil {
			t.Fatalf("correct %s: %v", key, err)
		}
	}
	if n, err := s.Rekey(ctx); err != nil || n != 2 {
		t.Fatalf("Rekey moved %d (%v), want 2", n, err)
	}
	var got []string
	err = s.Corrected(ctx, func(d dashboard.ItemDetail) error {
		got = append(got, fmt.Sprintf("%s: %d by %s, %s %v corrected=%v", d.Key, len(d.Corrections), d.Corrections[0].Who, d.Stance, d.Topics, d.Corrected))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{
		folded + ": 1 by ana, critical [human-rights] corrected=true",
		moved + ": 1 by ana, critical [human-rights] corrected=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("corrected items after the rekey\n got %q\nwant %q", got, want)
	}
	critical, err := s.SearchItems(ctx, dashboard.ItemQuery{Source: "c", Stance: string(classify.StanceCritical), Topic: "human-rights", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range critical.Items {
		keys = append(keys, it.Key)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{folded, moved}) {
		t.Errorf("critical human-rights items %q, want both, under their new keys", keys)
	}
}
