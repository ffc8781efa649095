package page

import (
	"regexp"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/fetch/normalize"
)

// commonLayouts are tried, in order, on a date whose text was normalised
// by normalizeDate (commas dropped, ordinals and month dots removed, white
// space collapsed). Slashed dates are read month first (US), dotted dates
// day first (European), each then the other way round.
var commonLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02",
	"Mon 02 Jan 2006 15:04:05 -0700",
	"Mon 02 Jan 2006 15:04:05 MST",
	"Mon 2 Jan 2006 15:04:05 -0700",
	"Mon 2 Jan 2006 15:04:05 MST",
	"Monday January 2 2006 3:04 PM",
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
	"January 2006",
	"Jan 2006",
	"1/2/2006 3:04 PM",
	"1/2/2006",
	"1/2/06",
	"2/1/2006",
	"2/1/06",
	"2.1.2006",
	"2.1.06",
	"1.2.2006",
	"1.2.06",
}

var (
	ordinal  = regexp.MustCompile(`(?i)\b(\d{1,2})(st|nd|rd|th)\b`)
	monthDot = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.`)
	sept     = regexp.MustCompile(`(?i)\bsept\b`)
	// embedded finds a date inside longer text ("media release, February
	// 28, 2013").
	embedded = regexp.MustCompile(`(?i)\b(?:` +
		`\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?` +
		`|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}` +
		`|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}` +
		`|\d{1,2}[/.]\d{1,2}[/.]\d{2}(?:\d{2})?` +
		`)\b`)
)

// normalizeDate rewrites the spellings time.Parse cannot read: commas,
// ordinal suffixes, dots after abbreviated months, "Sept".
func normalizeDate(s string) string {
	s = strings.ReplaceAll(s, ",", " ")
	s = ordinal.ReplaceAllString(s, "$1")
	s = monthDot.ReplaceAllString(s, "$1")
	s = sept.ReplaceAllString(s, "Sep")
	return normalize.Collapse(s)
}

// parseDate reads a date: with the configured Go layout first (on the
// text as it is, then normalised), then with the common layouts, then by
// looking for a date inside the text. A date without a zone is taken as
// UTC; one with a zone keeps it.
func parseDate(s, layout string) (time.Time, bool) {
	s = normalize.Collapse(s)
	if s == "" {
		return time.Time{}, false
	}
	if layout != "" {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if t, ok := parseCommon(s); ok {
		return t, true
	}
	for _, m := range embedded.FindAllString(s, -1) {
		if layout != "" {
			if t, err := time.Parse(layout, m); err == nil {
				return t, true
			}
		}
		if t, ok := parseCommon(m); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseCommon(s string) (time.Time, bool) {
	for _, cand := range []string{s, normalizeDate(s)} {
		for _, l := range commonLayouts {
			if t, err := time.Parse(l, cand); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
