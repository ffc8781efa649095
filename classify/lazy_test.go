package classify

import (
	"reflect"
	"sync"
	"testing"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// eagerDefault is the built-in pack compiled whole at once, as New does
// for a pack from a file.
func eagerDefault(t *testing.T) *Engine {
	t.Helper()
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDefaultCompilesItsModelLater: Default leaves the topic and stance
// heads of the built-in model for the first relevant item, and what it
// compiles then (and the relevance head it compiled at once) is what New
// compiles of the same pack. This is also the test that the built-in
// model compiles at all: Default would panic at the first relevant item
// otherwise.
func TestDefaultCompilesItsModelLater(t *testing.T) {
	lazy, eager := engine(t), eagerDefault(t)
	if lazy.fs != nil || lazy.model != nil || lazy.pack.Model.Topics != nil || lazy.pack.Model.Stance != nil {
		t.Fatal("Default decoded or compiled the whole model at once")
	}
	if eager.fs == nil || eager.model == nil || eager.relHead != &eager.model.rel {
		t.Fatal("New did not compile the whole model")
	}
	// the relevance head reads the same features with the same weights
	rel, whole := lazy.relHead, &eager.model.rel
	if rel.bias != whole.bias || rel.threshold != whole.threshold || !reflect.DeepEqual(rel.feats, whole.feats) {
		t.Fatalf("relevance head %v/%v/%v, New's %v/%v/%v", rel.bias, rel.threshold, rel.feats, whole.bias, whole.threshold, whole.feats)
	}
	for f := range eager.fs.names {
		var w float64
		if f < len(rel.w) {
			w = rel.w[f]
			if lazy.relFS.names[f] != eager.fs.names[f] {
				t.Fatalf("feature %d is %q, New's %q", f, lazy.relFS.names[f], eager.fs.names[f])
			}
		}
		if w != whole.w[f] {
			t.Fatalf("relevance weight of %s = %v, New's %v", eager.fs.names[f], w, whole.w[f])
		}
	}
	if !lazy.relFS.relApart {
		t.Fatal("the built-in relevance head reads stance features: it cannot decide first")
	}
	lazy.wholeModel()
	if !reflect.DeepEqual(lazy.model, eager.model) {
		t.Error("the model compiled later differs from New's")
	}
	if !reflect.DeepEqual(lazy.fs, eager.fs) {
		t.Error("the feature space built later differs from New's")
	}
}

// TestLazyModelConcurrent: relevant items classified at once by many
// goroutines of a fresh engine (so they race to compile the rest of the
// model) get what the engine New built gives.
func TestLazyModelConcurrent(t *testing.T) {
	eager := eagerDefault(t)
	items := []fetch.Item{
		{Title: "UN cybercrime treaty adopted", Content: "The General Assembly adopted the UN Convention against Cybercrime by consensus. Human rights groups warned it enables surveillance."},
		{Title: "Рост киберпреступности", Content: "Конвенция ООН против киберпреступности подписана в Ханое."},
		{Title: "Nothing here", Content: "Gardening tips for spring."},
	}
	want := make([]Result, len(items))
	for i, it := range items {
		want[i] = eager.Classify(it)
	}
	if !want[0].Relevant {
		t.Fatal("the first item is not relevant: the test would not compile the model")
	}
	lazy := engine(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 5; n++ {
				for i, it := range items {
					if got := lazy.Classify(it); !reflect.DeepEqual(got, want[i]) {
						t.Errorf("item %d: %+v, New's engine %+v", i, got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
