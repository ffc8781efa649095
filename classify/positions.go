package classify

import (
	"strings"

	"github.com/treatywatch/treatywatch/classify/internal/text"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// position is an actor's known stance toward the treaty and where it
// comes from.
type position struct {
	prior, basis string
}

// positions are known positions read from the depositary's record, by
// actor rule. A value is never changed once published: SetTreatyEvents
// builds a new map and swaps it in.
type positions map[int32]position

// treatyVerb is the past tense of a depositary action for a basis; the
// consent actions rank above a signature.
func treatyVerb(action string) (verb string, rank int) {
	switch action {
	case "signature":
		return "signed", 1
	case "ratification":
		return "ratified", 2
	case "acceptance":
		return "accepted", 2
	case "approval":
		return "approved", 2
	case "accession":
		return "acceded to", 2
	case "succession":
		return "succeeded to", 2
	}
	return "", 0
}

// actorKey is the normalised form under which a participant or an
// actor's name or term is looked up.
func actorKey(f *text.Folder, s string) string {
	return strings.Join(text.Words(f, s), " ")
}

// SetTreatyEvents makes the depositary's events the known positions of
// the states and intergovernmental bodies of the pack that they name: an
// actor that signed, or ratified (or otherwise consented to) the treaty is
// supportive, on the basis of the latest such event (consent wins over a
// signature). Actors without an event keep the pack's position. Each call
// replaces the previous set; it is safe to call while items are
// classified. The fitted weights are not changed.
func (e *Engine) SetTreatyEvents(evs []fetch.TreatyEvent) {
	type best struct {
		ev   fetch.TreatyEvent
		verb string
		rank int
	}
	found := map[int32]best{}
	for _, ev := range evs {
		verb, rank := treatyVerb(strings.ToLower(strings.TrimSpace(ev.Action)))
		if rank == 0 {
			continue
		}
		a, ok := e.treatyActor(ev.Participant)
		if !ok {
			continue
		}
		b, had := found[a]
		if had && (b.rank > rank || b.rank == rank && !ev.Date.After(b.ev.Date)) {
			continue
		}
		found[a] = best{ev, verb, rank}
	}
	ps := positions{}
	for a, b := range found {
		basis := b.verb
		if !b.ev.Date.IsZero() {
			basis += " " + b.ev.Date.UTC().Format("2 Jan 2006")
		}
		ps[a] = position{prior: rules.LabelSupportive, basis: basis + " (UN Treaty Collection)"}
	}
	e.known.Store(&ps)
}

// treatyActor finds the state or intergovernmental actor a depositary
// participant names ("Viet Nam", "Iran (Islamic Republic of)").
func (e *Engine) treatyActor(participant string) (int32, bool) {
	k := actorKey(e.fold, participant)
	if a, ok := e.actorByTerm[k]; ok && k != "" {
		return a, true
	}
	if i := strings.IndexByte(participant, '('); i > 0 {
		if k := actorKey(e.fold, participant[:i]); k != "" {
			a, ok := e.actorByTerm[k]
			return a, ok
		}
	}
	return -1, false
}

// position is the known position of actor rule own: the depositary's
// record when it names the actor, else the pack's.
func (e *Engine) position(own int32) position {
	if own < 0 {
		return position{}
	}
	if ps := e.known.Load(); ps != nil {
		if p, ok := (*ps)[own]; ok {
			return p
		}
	}
	r := &e.rules[own]
	return position{prior: r.prior, basis: r.basis}
}

func termTexts(ts []rules.Term) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Text
	}
	return out
}
