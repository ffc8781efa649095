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
// until size reports at most max bytes. size measures the whole encoded
// body with the fields as they are now; it must not shrink by less than
// the bytes removed from a field (JSON, MIME and plain text all hold to
// that). Everything not listed (the envelope, ids, URLs) is never
// touched. Fit returns an error when the body is still too large with
// every field cut down to the marker.
func Fit(max int, size func() (int, error), fields ...Field) error {
	n, err := size()
	if err != nil {
		return err
	}
	for _, f := range fields {
		if n <= max {
			return nil
		}
		orig := *f.Text
		if len(orig) <= len(Marker) {
			continue
		}
		// Cutting by the overflow is always enough (each byte removed
		// removes at least one encoded byte), but escapes can make it too
		// much: then search for the longest cut that fits.
		lo, hi := len(orig)-(n-max)-len(Marker), len(orig)
		*f.Text = cut(orig, lo, f.HTML)
		if n, err = size(); err != nil {
			return err
		}
		if n > max {
			continue // down to the marker and still too big: next field
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			*f.Text = cut(orig, mid, f.HTML)
			m, err := size()
			if err != nil {
				return err
			}
			if m <= max {
				lo = mid
			} else {
				hi = mid
			}
		}
		*f.Text = cut(orig, lo, f.HTML)
		_, err = size() // leave size's caller with the body that fits
		return err
	}
	if n, err = size(); err != nil {
		return err
	}
	if n > max {
		return fmt.Errorf("%d bytes do not fit the budget of %d even with every text field cut: raise max_bytes", n, max)
	}
	return nil
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
