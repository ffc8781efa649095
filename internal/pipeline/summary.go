package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/treatywatch/treatywatch/fetch"
)

// Summary counts what a pass over the sources found.
type Summary struct {
	OK       int // fetched, or not modified
	Waiting  int // asked to wait (Retry-After, backoff)
	Inactive int // outside their active window
	Failing  int
	// Kinds counts the failures by kind (network, timeout, blocked ...).
	Kinds map[string]int
}

// Summarize counts reports.
func Summarize(reps []Report) Summary {
	s := Summary{Kinds: map[string]int{}}
	for _, r := range reps {
		switch {
		case r.Err != nil || r.Outcome == OutcomeFailed:
			s.Failing++
			kind := "error"
			if r.Err != nil {
				kind = string(fetch.KindOf(r.Err))
			}
			s.Kinds[kind]++
		case r.Outcome == OutcomeWaiting:
			s.Waiting++
		case r.Outcome == OutcomeInactive:
			s.Inactive++
		default:
			s.OK++
		}
	}
	return s
}

// String is the line a person reads: "sources: 0 ok, 41 failing (network
// 41): check the network or proxy".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sources: %d ok", s.OK)
	if s.Failing > 0 {
		fmt.Fprintf(&b, ", %d failing (", s.Failing)
		kinds := slices.SortedFunc(maps.Keys(s.Kinds), func(a, c string) int {
			return cmp.Or(cmp.Compare(s.Kinds[c], s.Kinds[a]), cmp.Compare(a, c))
		})
		for i, k := range kinds {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d", k, s.Kinds[k])
		}
		b.WriteString(")")
	}
	if s.Waiting > 0 {
		fmt.Fprintf(&b, ", %d waiting", s.Waiting)
	}
	if s.Inactive > 0 {
		fmt.Fprintf(&b, ", %d outside their active window", s.Inactive)
	}
	if h := s.Hint(); h != "" {
		b.WriteString(": " + h)
	}
	return b.String()
}

// Hint says what to do about the most common failure; empty when nothing
// failed.
func (s Summary) Hint() string {
	if s.Failing == 0 {
		return ""
	}
	top, n := "", 0
	for k, c := range s.Kinds {
		if c > n || (c == n && k < top) {
			top, n = k, c
		}
	}
	all := s.Failing == s.OK+s.Failing+s.Waiting+s.Inactive
	switch fetch.ErrorKind(top) {
	case fetch.ErrNetwork:
		if all {
			return "no source is reachable: is this machine offline? check the network or proxy"
		}
		return "check the network or proxy"
	case fetch.ErrTimeout:
		return "sites do not answer in time: check the network, or raise defaults.timeout"
	case fetch.ErrBlocked:
		return "sites refuse automated requests: see `treatywatch check` for each source"
	case fetch.ErrParse:
		return "sources sent something that is not a feed or page: run `treatywatch check`"
	case fetch.ErrRefused, fetch.ErrConfig:
		return "fix the sources in the config: run `treatywatch check`"
	}
	return "run `treatywatch check` for each source's error"
}

// tally keeps the last report of each source for the daemon's summaries:
// one after the start-up runs, then one each time every source has run
// again.
type tally struct {
	mu      sync.Mutex
	started bool              // the start-up runs are over
	n       int               // sources scheduled
	last    map[string]Report // by source
	thisRun map[string]bool   // sources run since the last summary
}

func newTally(n int) *tally {
	return &tally{n: n, last: map[string]Report{}, thisRun: map[string]bool{}}
}

// add records a report; it returns the pass's summary when this report
// completes a pass.
func (t *tally) add(rep Report) (Summary, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// "Waiting" says nothing new about a source's health (a scheduled run
	// that fell inside its backoff): it does not replace what it did last.
	// Nor does "elsewhere" (another instance ran it): the start-up
	// summary takes its health from the store.
	if _, seen := t.last[rep.Source]; rep.Outcome != OutcomeElsewhere && (!seen || rep.Outcome != OutcomeWaiting) {
		t.last[rep.Source] = rep
	}
	t.thisRun[rep.Source] = true
	if !t.started || len(t.thisRun) < t.n {
		return Summary{}, false
	}
	clear(t.thisRun)
	return Summarize(slices.Collect(maps.Values(t.last))), true
}

// startupOver ends the start-up runs and returns the reports so far by
// source. A pass counts from there.
func (t *tally) startupOver() map[string]Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.started = true
	clear(t.thisRun)
	return maps.Clone(t.last)
}

// passEnded logs the summary of a pass (the start-up pass, or a pass
// over every source) and hands the memory the pass used back to the
// operating system: a daemon spends most of its time waiting for the
// next run, and the Go runtime would otherwise keep the pages of the
// pass's peak for minutes.
func (sc *Scheduler) passEnded(s Summary, when string) {
	sc.logSummary(s, when)
	debug.FreeOSMemory()
}

// logSummary writes a summary line: at info level when all is well, at
// warn level when sources fail.
func (sc *Scheduler) logSummary(s Summary, when string) {
	attrs := []any{"when", when, "ok", s.OK, "failing", s.Failing}
	if s.Failing > 0 {
		sc.log.Warn(s.String(), attrs...)
		return
	}
	sc.log.Info(s.String(), attrs...)
}

// startupSummary summarises every source: by its run at start-up, else
// by its stored health (a source that failed its last run counts as
// failing with the kind it failed with).
func (sc *Scheduler) startupSummary(ctx context.Context, srcs []Source, ran map[string]Report) Summary {
	reps := make([]Report, 0, len(srcs))
	for _, src := range srcs {
		if rep, ok := ran[src.ID]; ok && rep.Outcome != OutcomeWaiting && rep.Outcome != OutcomeElsewhere {
			reps = append(reps, rep)
			continue
		}
		st, err := sc.o.Store.Source(ctx, src.ID)
		if err != nil {
			continue
		}
		rep := Report{Source: src.ID, Outcome: OutcomeOK}
		if st.Failures > 0 {
			rep.Outcome = OutcomeFailed
			rep.Err = &fetch.Error{Kind: fetch.ErrorKind(cmp.Or(st.ErrorKind, "error"))}
		}
		reps = append(reps, rep)
	}
	return Summarize(reps)
}
