package schedule

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts the standard five fields and descriptors (@every,
// @hourly); it is the only cron parser of the program.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule says when something recurs.
type Schedule struct {
	next   func(time.Time) time.Time
	open   func(time.Time) time.Time // nil: always open
	every  time.Duration             // the period of an @every schedule; zero for calendar ones
	period time.Duration             // the period of any schedule, measured once
}

// Parse reads a cron spec: five fields (minute hour day-of-month month
// day-of-week), optionally after TZ= or CRON_TZ=, or a descriptor such as
// "@every 30m", "@hourly" or "@daily". On top of robfig/cron's own
// checks it refuses what cron would silently turn into something else:
// an @every interval that is not positive (cron runs it every second)
// and a step larger than its field's range ("*/61" for minutes, which
// cron turns into "once at the start").
func Parse(spec string) (Schedule, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err == nil && d <= 0 {
			return Schedule{}, fmt.Errorf("interval %s is not positive", d)
		}
	}
	sched, err := parser.Parse(spec)
	if err != nil {
		return Schedule{}, err
	}
	if err := checkSteps(spec); err != nil {
		return Schedule{}, err
	}
	s := Schedule{next: sched.Next}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		s.every = every.Delay
	}
	s.period = s.measure()
	return s, nil
}

// MustParse is Parse for specs known to be good (defaults, tests).
func MustParse(spec string) Schedule {
	s, err := Parse(spec)
	if err != nil {
		panic(fmt.Sprintf("schedule %q: %v", spec, err))
	}
	return s
}

func checkSteps(spec string) error {
	fields := strings.Fields(spec)
	if len(fields) > 0 && (strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ=")) {
		fields = fields[1:]
	}
	if len(fields) != len(cronFields) {
		return nil // a descriptor
	}
	for i, f := range fields {
		for part := range strings.SplitSeq(f, ",") {
			_, step, ok := strings.Cut(part, "/")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(step)
			if err == nil && n > cronFields[i].max-cronFields[i].min {
				return fmt.Errorf("step %d does not fit the %s field (%d-%d)", n, cronFields[i].name, cronFields[i].min, cronFields[i].max)
			}
		}
	}
	return nil
}

var cronFields = []struct {
	name     string
	min, max int
}{{"minute", 0, 59}, {"hour", 0, 23}, {"day-of-month", 1, 31}, {"month", 1, 12}, {"day-of-week", 0, 6}}

// IsEvery reports whether the spec is an @every interval rather than a
// calendar schedule.
func IsEvery(spec string) bool { return strings.HasPrefix(strings.TrimSpace(spec), "@every") }

// Next returns the first time of the schedule after t.
func (s Schedule) Next(t time.Time) time.Time { return s.within(s.next(t)) }

// Within confines the schedule to the times open allows: open returns
// its argument when that time is allowed, else the next allowed time (an
// active window's opening).
func (s Schedule) Within(open func(time.Time) time.Time) Schedule {
	s.open = open
	return s
}

func (s Schedule) within(t time.Time) time.Time {
	if s.open == nil || t.IsZero() {
		return t
	}
	return s.open(t)
}

// measure returns the gap between two runs at a fixed reference time.
func (s Schedule) measure() time.Duration {
	if s.every > 0 {
		return s.every
	}
	first := s.next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return s.next(first).Sub(first)
}

// Spread shifts the schedule by an offset that a hash of id picks within
// its period, so that sources sharing one schedule do not start at
// once. An @every schedule is put on a grid with that phase: unlike
// cron's @every, whose phase is wherever the process happened to start,
// the phase survives restarts.
func (s Schedule) Spread(id string) Schedule {
	if s.period <= 0 {
		return s
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	offset := time.Duration(h.Sum64() % uint64(s.period)).Truncate(time.Second)
	out := s
	if s.every > 0 {
		period := s.every
		out.next = func(t time.Time) time.Time {
			n := t.Add(-offset).Truncate(period).Add(offset)
			for !n.After(t) {
				n = n.Add(period)
			}
			return n
		}
		return out
	}
	inner := s.next
	out.next = func(t time.Time) time.Time { return inner(t.Add(-offset)).Add(offset) }
	return out
}

// NextRun returns when a source runs next, from what its last run left:
// last is when it ran (zero: never, so it runs at once), notBefore the
// earliest time it may run again (zero: no constraint) and failed
// whether the last run failed. A failed run is retried at notBefore (its
// backoff, and at least the Retry-After the server asked for), sooner or
// later than the schedule; after a success the source runs at its first
// scheduled time after last, and not before notBefore (a feed's ttl, a
// Retry-After); either way within the schedule's open times (Within).
// A time at or before now means at once: a source whose
// time passed while the daemon was down runs as soon as it starts.
func (s Schedule) NextRun(last, notBefore time.Time, failed bool) time.Time {
	switch {
	case last.IsZero():
		return s.within(notBefore)
	case failed && !notBefore.IsZero():
		return s.within(notBefore)
	}
	next := s.Next(last)
	if notBefore.After(next) {
		return s.within(notBefore)
	}
	return next
}

// Backoff is how long to wait after failed runs: Base after the first,
// doubling per failure in a row, capped at Cap.
type Backoff struct {
	Base, Cap time.Duration
}

// Check refuses a backoff that is not positive or whose cap is below
// its base.
func (b Backoff) Check() error {
	switch {
	case b.Base <= 0:
		return fmt.Errorf("backoff %s is not positive", b.Base)
	case b.Cap <= 0:
		return fmt.Errorf("backoff cap %s is not positive", b.Cap)
	case b.Cap < b.Base:
		return errors.New("backoff cap is below the backoff")
	}
	return nil
}

// Wait returns the wait after a failure when failures failed before it
// in a row: Base·2^failures, capped.
func (b Backoff) Wait(failures int) time.Duration {
	d := b.Base
	for range failures {
		d *= 2
		if d >= b.Cap {
			return b.Cap
		}
	}
	return min(d, b.Cap)
}
