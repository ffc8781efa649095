package sinks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Marker ends a text field that was cut to fit a receiver's size budget.
const Marker = "… [truncated]"

// Field is one text field a size budget may cut. HTML fields are cut
// outside a tag, so that the marker is shown.
type Field struct {
	Text *string
	HTML bool
}

// Fit cuts fields, in the order given and each only as far as needed,
// until size reports at most limit bytes. size measures the whole encoded
// body with the fields as they are now; it must not shrink by less than
// the bytes removed from a field (JSON, MIME and plain text all hold to
// that). Everything not listed (the envelope, ids, URLs) is never
// touched. Fit returns an error when the body is still too large with
// every field cut down to the marker.
func Fit(limit int, size func() (int, error), fields ...Field) error {
	n, err := size()
	if err != nil {
		return err
	}
	for _, f := range fields {
		if n <= limit {
			return nil
		}
		if n, err = fitField(limit, n, size, f); err != nil {
			return err
		}
	}
	if n > limit {
		return fmt.Errorf("%d bytes do not fit the budget of %d even with every text field cut: raise max_bytes", n, limit)
	}
	return nil
}

// closeEnough is how far under the budget a cut may end without a search
// for a longer one.
const closeEnough = 16

// fitField cuts one field until the body fits or the field is down to the
// marker, and returns the body's size. Cutting by the overflow removes at
// least that many encoded bytes, unless the cut text was not shown (a
// renderer with its own limits), so it repeats; when escapes made the
// cut too deep, a search finds the longest cut that fits.
func fitField(limit, n int, size func() (int, error), f Field) (int, error) {
	orig := *f.Text
	if len(orig) <= len(Marker) {
		return n, nil
	}
	var err error
	// hi is the shortest cut known too long, nHi its size; keep the
	// current cut.
	hi, nHi, keep := len(orig), n, len(orig)-len(Marker)
	for n > limit {
		keep = max(keep-(n-limit), 0)
		*f.Text = cut(orig, keep, f.HTML)
		if n, err = size(); err != nil {
			return n, err
		}
		if n > limit && keep == 0 {
			return n, nil // only the marker is left, and still too big
		}
		if n > limit {
			hi, nHi = keep, n
		}
	}
	// Escapes or an encoding (base64, quoted-printable) made the cut too
	// deep: search for the longest cut that fits, by interpolation, as
	// the size grows about linearly with the bytes kept.
	lo, nLo := keep, n
	for hi-lo > 1 && limit-nLo > closeEnough {
		mid := lo + int(int64(limit-nLo)*int64(hi-lo)/int64(nHi-nLo))
		mid = min(mid, hi-1)
		if mid <= lo {
			mid = lo + 1
		}
		*f.Text = cut(orig, mid, f.HTML)
		m, err := size()
		if err != nil {
			return m, err
		}
		if m <= limit {
			lo, nLo = mid, m
		} else {
			hi, nHi = mid, m
		}
	}
	*f.Text = cut(orig, lo, f.HTML)
	return size() // leave the caller's body at the cut that fits
}

// cut returns s cut to at most keep bytes at a rune boundary, plus the
// marker; with keep <= 0 only the marker is left.
func cut(s string, keep int, html bool) string {
	if keep <= 0 {
		return Marker
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	s = s[:keep]
	if html {
		// Do not end inside a tag or an entity, where the marker would
		// not show.
		if lt := strings.LastIndexByte(s, '<'); lt > strings.LastIndexByte(s, '>') {
			s = s[:lt]
		}
		if amp := strings.LastIndexByte(s, '&'); amp > strings.LastIndexByte(s, ';') {
			s = s[:amp]
		}
	}
	return s + Marker
}

// FitEnvelope cuts e's text fields until encode(e) is at most max bytes:
// the item's summary first, then the evidence sentences from the last to
// the first, then the title, then the author. Ids, URLs, labels and
// provenance are never cut. max <= 0 means no budget. It returns the
// encoded body.
func FitEnvelope(e *Envelope, max int, encode func(Envelope) ([]byte, error)) ([]byte, error) {
	var body []byte
	size := func() (int, error) {
		var err error
		body, err = encode(*e)
		return len(body), err
	}
	if max <= 0 {
		_, err := size()
		return body, err
	}
	e.Evidence = append([]Evidence(nil), e.Evidence...) // do not cut the caller's
	fields := []Field{{Text: &e.Item.Summary}}
	for i := len(e.Evidence) - 1; i >= 0; i-- {
		fields = append(fields, Field{Text: &e.Evidence[i].Sentence})
	}
	fields = append(fields, Field{Text: &e.Item.Title}, Field{Text: &e.Item.Author})
	if err := Fit(max, size, fields...); err != nil {
		return nil, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	return body, nil
}
