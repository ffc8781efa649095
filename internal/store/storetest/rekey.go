package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch/normalize"
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
	unseen, err := s.Unseen(ctx, "r", append(slices.Clone(want), items[0].Item.Key, items[2].Item.Key, hashKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range want {
		if unseen[k] {
			t.Errorf("%s not stored after the rekey", k)
		}
	}
	if len(unseen) != 3 {
		t.Errorf("unseen %v, want the three old keys", unseen)
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
