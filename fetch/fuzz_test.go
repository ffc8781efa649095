package fetch

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// FuzzDecode runs charset detection and decoding over arbitrary bytes
// with arbitrary Content-Type headers and overrides: what it returns is
// valid UTF-8, or an error.
func FuzzDecode(f *testing.F) {
	for _, b := range corpustest.Seeds(f, 256<<10, "feeds", "pages") {
		f.Add(b, "", "")
	}
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>\xcf\xf0\xe8</rss>"), "text/xml; charset=utf-8", "")
	f.Add([]byte("<meta charset=\"iso-8859-1\">caf\xe9"), "text/html", "windows-1252")
	f.Fuzz(func(t *testing.T, body []byte, contentType, override string) {
		for _, decode := range []func([]byte, string, string) ([]byte, string, error){DecodeXML, DecodeHTML} {
			out, _, err := decode(body, contentType, override)
			if err == nil && !utf8.Valid(out) {
				t.Fatalf("decoded text is not UTF-8: %q", out)
			}
		}
	})
}

// FuzzParseRetryAfter checks the Retry-After parser on arbitrary values:
// a wait it accepts is never negative.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"120", "0", "-5", "Sun, 01 Nov 2026 12:05:00 GMT", "Sunday, 01-Nov-26 12:05:00 GMT", "99999999999999999999", " 30 ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := ParseRetryAfter(v, now); ok && d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v", v, d)
		}
	})
}
