package window

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is a parsed weekly window. The zero value is not valid; use Parse.
type Window struct {
	days     [7]bool // by time.Weekday
	from, to int     // minutes since midnight; to may be 24*60
	loc      *time.Location
	text     string
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Parse reads days ("mon-fri", "sat,sun", "mon-wed,fri"; empty: every
// day), hours ("07:00-19:00", "22:00-07:00" across midnight, "00:00-24:00";
// empty: the whole day) and an IANA time zone (empty: UTC).
func Parse(days, hours, tz string) (*Window, error) {
	w := &Window{from: 0, to: 24 * 60, loc: time.UTC}
	if err := w.parseDays(days); err != nil {
		return nil, err
	}
	if hours != "" {
		a, b, ok := strings.Cut(hours, "-")
		if !ok {
			return nil, fmt.Errorf("bad hours %q (want HH:MM-HH:MM, e.g. \"07:00-19:00\")", hours)
		}
		var err error
		if w.from, err = clock(strings.TrimSpace(a), false); err != nil {
			return nil, fmt.Errorf("bad hours %q: %w", hours, err)
		}
		if w.to, err = clock(strings.TrimSpace(b), true); err != nil {
			return nil, fmt.Errorf("bad hours %q: %w", hours, err)
		}
		if w.from == w.to {
			return nil, fmt.Errorf("bad hours %q: the window is empty (for the whole day write 00:00-24:00 or leave hours out)", hours)
		}
	}
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as \"Europe/Berlin\" or \"UTC\")", tz)
		}
		w.loc = loc
	}
	w.text = describe(days, hours, w.loc)
	return w, nil
}

func (w *Window) parseDays(s string) error {
	if strings.TrimSpace(s) == "" {
		w.days = [7]bool{true, true, true, true, true, true, true}
		return nil
	}
	for part := range strings.SplitSeq(strings.ToLower(s), ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		from, ok1 := dayNames[strings.TrimSpace(a)]
		to, ok2 := from, true
		if isRange {
			to, ok2 = dayNames[strings.TrimSpace(b)]
		}
		if !ok1 || !ok2 {
			return fmt.Errorf("bad days %q (want day names mon..sun, ranges like mon-fri, separated by commas)", s)
		}
		for d := from; ; d = (d + 1) % 7 {
			w.days[d] = true
			if d == to {
				break
			}
		}
	}
	return nil
}

// clock parses "HH:MM"; "24:00" only as an end.
func clock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	if hh == 24 && mm == 0 && end {
		return 24 * 60, nil
	}
	if hh > 23 {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return hh*60 + mm, nil
}

func describe(days, hours string, loc *time.Location) string {
	if days == "" {
		days = "every day"
	}
	if hours == "" {
		hours = "all day"
	}
	return days + " " + hours + " " + loc.String()
}

// String describes the window as configured: "mon-fri 07:00-19:00 Europe/Berlin".
func (w *Window) String() string { return w.text }

// Always reports whether the window covers every minute of the week.
func (w *Window) Always() bool {
	return w.days == [7]bool{true, true, true, true, true, true, true} && w.from == 0 && w.to == 24*60
}

// Location returns the window's time zone.
func (w *Window) Location() *time.Location { return w.loc }

// Contains reports whether t is inside the window.
func (w *Window) Contains(t time.Time) bool {
	lt := t.In(w.loc)
	tod := lt.Hour()*60 + lt.Minute()
	day := lt.Weekday()
	if w.from < w.to {
		return w.days[day] && tod >= w.from && tod < w.to
	}
	// Across midnight: the evening of a listed day or the morning after it.
	return (w.days[day] && tod >= w.from) || (w.days[(day+6)%7] && tod < w.to)
}

// horizon bounds the search for the next change: a window is weekly, so
// every state it can be in occurs within eight days.
const horizon = 8 * 24 * 60

// NextOpen returns t when t is inside the window, else the first minute
// after t that is.
func (w *Window) NextOpen(t time.Time) time.Time { return w.next(t, true) }

// NextClose returns t when t is outside the window, else the first minute
// after t that is outside (when the window ends).
func (w *Window) NextClose(t time.Time) time.Time { return w.next(t, false) }

// next steps minute by minute, which stays right across DST changes and
// zones with odd offsets; a week has about 10,000 minutes.
func (w *Window) next(t time.Time, inside bool) time.Time {
	if w.Contains(t) == inside {
		return t
	}
	m := t.Truncate(time.Minute)
	for range horizon {
		m = m.Add(time.Minute)
		if w.Contains(m) == inside {
			return m
		}
	}
	return t // never: the window is always or never open
}
