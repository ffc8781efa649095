package classify

import (
	"strings"
	"unicode/utf8"

	"github.com/RadhiFadlillah/whatlanggo"
	"github.com/treatywatch/treatywatch/fetch"
)

// langDetector guesses an item's language from its own words; the
// source's language is only a hint, used when the text is too short or
// too mixed to tell.
type langDetector struct {
	opts whatlanggo.Options
}

func newLangDetector() *langDetector {
	wl := map[whatlanggo.Lang]bool{}
	for _, l := range []whatlanggo.Lang{
		whatlanggo.Eng, whatlanggo.Fra, whatlanggo.Spa, whatlanggo.Rus, whatlanggo.Deu,
		whatlanggo.Por, whatlanggo.Ita, whatlanggo.Nld, whatlanggo.Ukr, whatlanggo.Bel,
		whatlanggo.Vie, whatlanggo.Arb, whatlanggo.Cmn, whatlanggo.Jpn, whatlanggo.Kor,
		whatlanggo.Tur, whatlanggo.Pol, whatlanggo.Ind,
	} {
		wl[l] = true
	}
	return &langDetector{opts: whatlanggo.Options{Whitelist: wl}}
}

// langSample is how much text the detector reads: the headline and the
// start of the body tell the language as well as the whole.
const langSample = 400

// minLangConfidence below which the source's language is kept.
const minLangConfidence = 0.2

// detect returns the ISO 639-1 code of the item's language.
func (d *langDetector) detect(it fetch.Item) string {
	var b strings.Builder
	b.WriteString(it.Title)
	b.WriteString(". ")
	body := it.Content
	if body == "" {
		body = it.Summary
	}
	body = withoutTitle(body, it.Title)
	if len(body) > langSample {
		cut := langSample
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = body[:cut]
	}
	b.WriteString(body)
	text := b.String()
	if utf8.RuneCountInString(strings.TrimSpace(text)) < 20 {
		return it.Lang
	}
	info := whatlanggo.DetectWithOptions(text, d.opts)
	code := info.Lang.Iso6391()
	if code == "" || info.Confidence < minLangConfidence && it.Lang != "" {
		return it.Lang
	}
	return code
}
