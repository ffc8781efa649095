package archive

import (
	"testing"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// FuzzParseSitemap gives the sitemap parser arbitrary bytes (plain or
// gzip): an error is fine, a panic is not.
func FuzzParseSitemap(f *testing.F) {
	f.Add([]byte(urlsetXML))
	f.Add([]byte(`<sitemapindex><sitemap><loc>https://ex.org/s1.xml</loc><lastmod>2024-05-01</lastmod></sitemap></sitemapindex>`))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	// Real XML that is not a sitemap.
	for _, b := range corpustest.Seeds(f, 128<<10, "feeds") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = ParseSitemap(body)
	})
}

// FuzzParseDate checks the W3C date parser on arbitrary text.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-05-01", "2024-05-01T10:00:00+02:00", "2024-05", "2024", "2024-05-01T10:00Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseDate(s)
	})
}
