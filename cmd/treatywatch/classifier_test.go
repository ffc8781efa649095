package main

import (
	"errors"
	"reflect"
	"testing"
	"time"

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

// Treaty events reach the engine whether they arrive before the lazy pack
// is loaded (kept, and not a reason to load it) or after: the result is
// the one an engine given the events directly returns, which differs from
// the one without them.
func TestLazyEngineTakesTreatyEvents(t *testing.T) {
	mexico := fetch.Item{Lang: "es", SourceName: "Sitio de la ceremonia", Title: "Declaración de México en la firma de la Convención de las Naciones Unidas contra la Ciberdelincuencia", Content: "México celebra la firma de la Convención y exhorta a los Estados a firmar y ratificar la Convención."}
	evs := []fetch.TreatyEvent{{Participant: "Mexico", Action: "ratification", Date: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)}}
	direct, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	without := direct.Classify(mexico)
	direct.SetTreatyEvents(evs)
	with := direct.Classify(mexico)
	if reflect.DeepEqual(with, without) {
		t.Fatal("the event does not change the result; pick an item it changes")
	}
	tests := []struct {
		name   string
		before bool // the events arrive before the first item
	}{
		{"before the pack loads", true},
		{"after the pack loaded", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loads := 0
			l := &lazyEngine{load: func() (*classify.Engine, error) { loads++; return classify.Default() }}
			if tc.before {
				l.SetTreatyEvents(evs)
				if loads != 0 {
					t.Fatal("the events loaded the pack")
				}
			} else {
				if got := l.Classify(mexico); !reflect.DeepEqual(got, without) {
					t.Fatalf("before any event: %+v, want %+v", got, without)
				}
				l.SetTreatyEvents(evs)
			}
			if got := l.Classify(mexico); !reflect.DeepEqual(got, with) {
				t.Errorf("with the events: %+v\nwant %+v", got, with)
			}
			if loads != 1 {
				t.Errorf("loaded %d times, want once", loads)
			}
		})
	}
}

// The pipeline hands treaty events to a classifier with this method.
var _ interface{ SetTreatyEvents([]fetch.TreatyEvent) } = (*lazyEngine)(nil)
