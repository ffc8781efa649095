package classify

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

// positionNote is the evidence note the position feature would carry
// for the item's speaker.
func positionNote(t *testing.T, e *Engine, it fetch.Item) string {
	t.Helper()
	z := e.pool.get()
	defer e.pool.put(z)
	fs := e.scan(z, it)
	e.extract(fs, it, &z.v)
	return e.featNote("position.supportive", &z.v)
}

func TestTreatyEventsKnownPositions(t *testing.T) {
	mexico := fetch.Item{Lang: "es", SourceName: "Sitio de la ceremonia", Title: "Declaración de México en la firma de la Convención de las Naciones Unidas contra la Ciberdelincuencia", Content: "México celebra la firma de la Convención y exhorta a los Estados a firmar y ratificar la Convención."}
	vietnam := fetch.Item{SourceName: "Permanent Mission of Viet Nam", Title: "Statement on the UN Convention against Cybercrime", Content: "Viet Nam welcomes the UN Convention against Cybercrime and calls on all States to join it."}
	cases := []struct {
		name string
		it   fetch.Item
		evs  []fetch.TreatyEvent
		// wantBefore/wantAfter: whether position.supportive fires
		wantBefore, wantAfter bool
		// basis the evidence shows after (empty: unchanged)
		basis string
	}{
		{name: "unmarked state ratified", it: mexico,
			evs: []fetch.TreatyEvent{
				{Participant: "Mexico", Action: "ratification", Date: day("2026-03-12")},
				{Participant: "Mexico", Action: "signature", Date: day("2025-10-25")},
			},
			wantAfter: true, basis: "Mexico: ratified 12 Mar 2026 (UN Treaty Collection)"},
		{name: "unmarked state signed", it: mexico,
			evs:       []fetch.TreatyEvent{{Participant: "MEXICO ", Action: "signature", Date: day("2025-10-25")}},
			wantAfter: true, basis: "signed 25 Oct 2025 (UN Treaty Collection)"},
		{name: "depositary name overrides the pack's basis", it: vietnam,
			evs:        []fetch.TreatyEvent{{Participant: "Viet Nam", Action: "signature", Date: day("2025-10-25")}},
			wantBefore: true, wantAfter: true, basis: "Vietnam: signed 25 Oct 2025 (UN Treaty Collection)"},
		{name: "participant with a parenthesis", it: mexico,
			evs:       []fetch.TreatyEvent{{Participant: "Mexico (United Mexican States)", Action: "accession", Date: day("2026-01-02")}},
			wantAfter: true, basis: "acceded to 2 Jan 2026 (UN Treaty Collection)"},
		{name: "participant not in the pack", it: mexico,
			evs: []fetch.TreatyEvent{{Participant: "Atlantis", Action: "ratification", Date: day("2026-03-12")}}},
		{name: "unknown action", it: mexico,
			evs: []fetch.TreatyEvent{{Participant: "Mexico", Action: "objection", Date: day("2026-03-12")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := engine(t)
			before := features(t, e, c.it)
			beforeRes := e.Classify(c.it)
			beforeNote := positionNote(t, e, c.it)
			if got := before["position.supportive"] != 0; got != c.wantBefore {
				t.Fatalf("before: position.supportive fired %v, want %v; features %v", got, c.wantBefore, before)
			}
			if strings.Contains(beforeNote, "UN Treaty Collection)") && !strings.Contains(beforeNote, "chapter") {
				t.Fatalf("before: note %q already has a depositary date", beforeNote)
			}
			e.SetTreatyEvents(c.evs)
			after := features(t, e, c.it)
			afterRes := e.Classify(c.it)
			if got := after["position.supportive"] != 0; got != c.wantAfter {
				t.Fatalf("after: position.supportive fired %v, want %v; features %v", got, c.wantAfter, after)
			}
			note := positionNote(t, e, c.it)
			if c.basis == "" {
				if !reflect.DeepEqual(before, after) || !reflect.DeepEqual(beforeRes, afterRes) || note != beforeNote {
					t.Fatalf("a non-matching event changed the item: features %v -> %v, note %q -> %q", before, after, beforeNote, note)
				}
				return
			}
			if !strings.Contains(note, c.basis) {
				t.Fatalf("note %q, want it to contain %q", note, c.basis)
			}
			for _, m := range afterRes.Evidence {
				if strings.HasPrefix(m.Rule, "position.") && !strings.Contains(m.Label, c.basis) {
					t.Errorf("evidence %q shows %q, want the basis %q", m.Rule, m.Label, c.basis)
				}
			}
			// a later call replaces the set: without events the pack's
			// position is back
			e.SetTreatyEvents(nil)
			if got := features(t, e, c.it); !reflect.DeepEqual(got, before) {
				t.Fatalf("after reset: features %v, want %v", got, before)
			}
		})
	}
}

func TestTreatyEventsConcurrent(t *testing.T) {
	e := engine(t)
	it := fetch.Item{Lang: "es", SourceName: "Sitio de la ceremonia", Title: "Declaración de México en la firma de la Convención de las Naciones Unidas contra la Ciberdelincuencia", Content: "México celebra la firma de la Convención y exhorta a los Estados a firmar y ratificar la Convención."}
	evs := []fetch.TreatyEvent{{Participant: "Mexico", Action: "ratification", Date: day("2026-03-12")}}
	without := e.Classify(it)
	e.SetTreatyEvents(evs)
	with := e.Classify(it)
	e.SetTreatyEvents(nil)
	if reflect.DeepEqual(with, without) {
		t.Fatalf("the event does not change the result: %+v", with)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				e.SetTreatyEvents(evs)
			} else {
				e.SetTreatyEvents(nil)
			}
		}
	}()
	var readers sync.WaitGroup
	for g := 0; g < 4; g++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for n := 0; n < 100; n++ {
				got := e.Classify(it)
				if !reflect.DeepEqual(got, without) && !reflect.DeepEqual(got, with) {
					t.Errorf("result is neither the one without events nor the one with them: %+v", got)
					return
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	wg.Wait()
}
