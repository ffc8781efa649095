package dateparser

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ParserType names a family of date formats. This parser treats every
// type the same: it reads the fixed layouts below.
type ParserType uint8

// The parser types go-htmldate may ask for.
const (
	Timestamp ParserType = iota
	NegativeTimestamp
	RelativeTime
	CustomFormat
	AbsoluteTime
	NoSpacesTime
)

// PreferredDateSource says how a date without a year is completed.
type PreferredDateSource uint8

// Date sources.
const (
	CurrentPeriod PreferredDateSource = iota
	Past
	Future
)

// Configuration tunes Parse.
type Configuration struct {
	// CurrentTime is "now" for dates without a year; zero means
	// time.Now().
	CurrentTime time.Time
	// DefaultTimezone is used for dates without a zone; nil means UTC.
	DefaultTimezone *time.Location
	// PreferredDateSource completes dates without a year.
	PreferredDateSource PreferredDateSource
	// StrictParsing refuses dates without a day, a month and a year.
	StrictParsing bool
}

// Date is a parsed date.
type Date struct {
	Time time.Time
}

// IsZero reports whether nothing was parsed.
func (d Date) IsZero() bool { return d.Time.IsZero() }

// Parser parses dates. The zero value is ready to use and safe for
// concurrent use.
type Parser struct {
	// ParserTypes is accepted for compatibility; every type reads the
	// same layouts.
	ParserTypes []ParserType
}

// ErrNoDate is returned when no layout matches.
var ErrNoDate = errors.New("dateparser: no date found")

// full are layouts with day, month and year; yearless lack the year.
var (
	full = []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05",
		"2006-01-02 15:04",
		"2006-01-02",
		"2006-1-2",
		"2006/01/02",
		"2006/1/2",
		"2006.01.02",
		"20060102",
		time.RFC1123Z,
		time.RFC1123,
		"Mon 2 Jan 2006 15:04:05 -0700",
		"Mon 2 Jan 2006 15:04:05 MST",
		"Monday January 2 2006 15:04",
		"Monday January 2 2006",
		"Mon January 2 2006",
		"Mon Jan 2 2006",
		"January 2 2006 3:04 PM",
		"January 2 2006 15:04",
		"January 2 2006",
		"Jan 2 2006 3:04 PM",
		"Jan 2 2006",
		"Monday 2 January 2006",
		"Mon 2 Jan 2006",
		"2 January 2006 15:04",
		"2 January 2006",
		"2 Jan 2006",
		"2.1.2006",
		"2/1/2006",
		"1/2/2006",
	}
	monthYear = []string{"January 2006", "Jan 2006", "2006-01", "01/2006", "1/2006"}
	yearless  = []string{"January 2", "Jan 2", "2 January", "2 Jan"}
)

// Parse reads str as a date. Commas, ordinal suffixes ("1st") and
// repeated white space are ignored; formats, when given, are Go layouts
// tried first.
func (p *Parser) Parse(cfg *Configuration, str string, formats ...string) (Date, error) {
	if cfg == nil {
		cfg = &Configuration{}
	}
	if cfg.PreferredDateSource > Future {
		return Date{}, fmt.Errorf("dateparser: invalid preferred date source %d", cfg.PreferredDateSource)
	}
	s := clean(str)
	if s == "" {
		return Date{}, ErrNoDate
	}
	loc := cfg.DefaultTimezone
	if loc == nil {
		loc = time.UTC
	}
	for _, layouts := range [][]string{formats, full} {
		for _, l := range layouts {
			if t, err := time.ParseInLocation(l, s, loc); err == nil {
				return Date{Time: t}, nil
			}
		}
	}
	if cfg.StrictParsing {
		return Date{}, fmt.Errorf("%w in %q", ErrNoDate, str)
	}
	for _, l := range monthYear {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return Date{Time: t}, nil
		}
	}
	now := cfg.CurrentTime
	if now.IsZero() {
		now = time.Now()
	}
	now = now.In(loc)
	for _, l := range yearless {
		t, err := time.ParseInLocation(l, s, loc)
		if err != nil {
			continue
		}
		t = t.AddDate(now.Year()-t.Year(), 0, 0)
		switch {
		case cfg.PreferredDateSource == Past && t.After(now):
			t = t.AddDate(-1, 0, 0)
		case cfg.PreferredDateSource == Future && t.Before(now):
			t = t.AddDate(1, 0, 0)
		}
		return Date{Time: t}, nil
	}
	return Date{}, fmt.Errorf("%w in %q", ErrNoDate, str)
}

// clean drops commas, dots after month abbreviations and ordinal
// suffixes, and collapses white space, in one pass over the words.
func clean(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
		w = strings.TrimSuffix(w, ".")
		if n := len(w); n > 2 && w[0] >= '0' && w[0] <= '9' {
			switch strings.ToLower(w[n-2:]) {
			case "st", "nd", "rd", "th":
				if c := w[n-3]; c >= '0' && c <= '9' {
					w = w[:n-2]
				}
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}
