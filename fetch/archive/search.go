package archive

import (
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// searchEndpoint is Google News' RSS search.
const searchEndpoint = "https://news.google.com/rss/search"

// SearchCap is the most items one Google News RSS search returns; a
// window whose search comes back this full may hold more and is worth
// splitting.
const SearchCap = 100

const day = 24 * time.Hour

// SearchURL returns a Google News RSS search URL for query restricted to
// the window [since, until) with the "after:" and "before:" operators,
// in the edition of lang (a BCP 47 tag; empty means English, US).
//
// The operators take whole days and Google does not document whether
// they are inclusive, so the URL asks for one day more on each side:
// after: the day before since, before: the day after the last day of the
// window. The caller keeps to the exact window by the items' dates.
func SearchURL(query string, since, until time.Time, lang string) string {
	q := strings.TrimSpace(query)
	if !since.IsZero() {
		q += " after:" + since.UTC().Add(-day).Format(time.DateOnly)
	}
	if !until.IsZero() {
		u := until.UTC()
		last := u.Truncate(day)
		if last.Equal(u) { // until is exclusive: its own day is not in the window
			last = last.Add(-day)
		}
		q += " before:" + last.Add(day).Format(time.DateOnly)
	}
	hl, gl, ceid := edition(lang)
	// In the order Google's own links use (url.Values.Encode would sort).
	return searchEndpoint + "?q=" + url.QueryEscape(strings.TrimSpace(q)) +
		"&hl=" + url.QueryEscape(hl) + "&gl=" + url.QueryEscape(gl) + "&ceid=" + url.QueryEscape(ceid)
}

// edition returns Google News' hl, gl and ceid parameters for a language
// tag: "en" → en-US, US, US:en; "fr" → fr, FR, FR:fr; "en-GB" → en-GB,
// GB, GB:en. A tag without a region gets its most likely one.
func edition(lang string) (hl, gl, ceid string) {
	tag, err := language.Parse(strings.TrimSpace(lang))
	if err != nil || lang == "" {
		tag = language.AmericanEnglish
	}
	base, _ := tag.Base()
	region, conf := tag.Region()
	if conf == language.No || !region.IsCountry() {
		region = language.MustParseRegion("US")
	}
	b, r := base.String(), region.String()
	hl = b
	if conf == language.Exact || b == "en" {
		hl = b + "-" + r
	}
	return hl, r, r + ":" + b
}
