package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// A database an earlier version wrote (no key rule noted) is rekeyed when
// it opens, and stays so when opened again.
func TestOpenRekeysOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	old := Labeled{Item: fetch.Item{SourceID: "r", Key: "https://example.org/a?utm_source=rss#top", URL: "https://example.org/a", Title: "A"},
		Result: classify.Result{Relevant: true, Rules: "test"}}
	if _, err := s.Commit(ctx, Commit{SourceID: "r", At: time.Now(), Items: []Labeled{old}}); err != nil {
		t.Fatal(err)
	}
	// As an earlier version left it: the rule not noted.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM kv WHERE key = ?`, keyRuleKV); err != nil {
		t.Fatal(err)
	}
	s.Close()

	for i := range 2 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := unseen(ctx, s, "r", []string{"https://example.org/a", old.Item.Key})
		if err != nil {
			t.Fatal(err)
		}
		if fresh["https://example.org/a"] || !fresh[old.Item.Key] {
			t.Errorf("open %d: unseen %v: the item is not under its new key", i+1, fresh)
		}
		s.Close()
	}
}
