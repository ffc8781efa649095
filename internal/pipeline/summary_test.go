package pipeline

import (
	"errors"
	"testing"

	"github.com/treatywatch/treatywatch/fetch"
)

func TestSummary(t *testing.T) {
	netErr := &fetch.Error{Kind: fetch.ErrNetwork, Err: errors.New("x")}
	blocked := &fetch.Error{Kind: fetch.ErrBlocked, Status: 403}
	tests := []struct {
		name string
		reps []Report
		want string
	}{
		{"all fine", []Report{{Outcome: OutcomeOK}, {Outcome: OutcomeNotModified}}, "sources: 2 ok"},
		{"offline", []Report{{Outcome: OutcomeFailed, Err: netErr}, {Outcome: OutcomeFailed, Err: netErr}},
			"sources: 0 ok, 2 failing (network 2): no source is reachable: is this machine offline? check the network or proxy"},
		{"some unreachable", []Report{{Outcome: OutcomeOK}, {Outcome: OutcomeFailed, Err: netErr}, {Outcome: OutcomeFailed, Err: netErr}, {Outcome: OutcomeFailed, Err: blocked}},
			"sources: 1 ok, 3 failing (network 2, blocked 1): check the network or proxy"},
		{"bot walls", []Report{{Outcome: OutcomeOK}, {Outcome: OutcomeFailed, Err: blocked}},
			"sources: 1 ok, 1 failing (blocked 1): sites refuse automated requests: see `treatywatch check` for each source"},
		{"waiting and inactive", []Report{{Outcome: OutcomeOK}, {Outcome: OutcomeWaiting}, {Outcome: OutcomeInactive}},
			"sources: 1 ok, 1 waiting, 1 outside their active window"},
	}
	for _, tt := range tests {
		if got := Summarize(tt.reps).String(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// The daemon's tally: no pass is complete before the start-up runs are
// over; then a pass is complete when every source has run again.
func TestTally(t *testing.T) {
	tl := newTally(2)
	if _, done := tl.add(Report{Source: "a", Outcome: OutcomeOK}); done {
		t.Error("a pass completed during start-up")
	}
	if _, done := tl.add(Report{Source: "a", Outcome: OutcomeWaiting}); done {
		t.Error("a pass completed during start-up")
	}
	if ran := tl.startupOver(); len(ran) != 1 || ran["a"].Outcome != OutcomeOK {
		t.Errorf("start-up reports = %+v (a waiting run must not hide the last real one)", ran)
	}
	if _, done := tl.add(Report{Source: "b", Outcome: OutcomeFailed, Err: errors.New("x")}); done {
		t.Error("a pass completed with a source not run since start-up")
	}
	if _, done := tl.add(Report{Source: "a", Outcome: OutcomeOK}); !done {
		t.Error("no pass after both sources ran")
	}

}
