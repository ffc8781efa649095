package main

import (
	"errors"
	"testing"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// TestLazyEngine: the pack is loaded on first use and only once, and
// classifies as the engine it loads.
func TestLazyEngine(t *testing.T) {
	loads := 0
	l := &lazyEngine{load: func() (*classify.Engine, error) { loads++; return classify.Default() }}
	if loads != 0 {
		t.Fatal("loaded before use")
	}
	it := fetch.Item{Title: "States sign the UN Convention against Cybercrime in Hanoi", Summary: "The United Nations Convention against Cybercrime opened for signature."}
	want, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Classify(it); got.Relevant != want.Classify(it).Relevant || l.Version() != want.Version() {
		t.Errorf("lazy engine classified %+v (version %s), the engine %+v", got, l.Version(), want.Classify(it))
	}
	l.MaybeRelevant(it)
	if loads != 1 {
		t.Errorf("loaded %d times, want once", loads)
	}
	broken := &lazyEngine{load: func() (*classify.Engine, error) { return nil, errors.New("bad pack") }}
	defer func() {
		if recover() == nil {
			t.Error("a pack that fails to load did not panic on use")
		}
	}()
	broken.Classify(it)
}
