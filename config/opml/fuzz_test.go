package opml

import (
	"testing"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// FuzzParseOPML gives the OPML importer arbitrary bytes: real OPML, real
// XML that is not OPML, and mutations.
func FuzzParseOPML(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
<outline text="Policy"><outline type="rss" text="EFF" xmlUrl="https://www.eff.org/rss/updates.xml" htmlUrl="https://www.eff.org/"/></outline>
</body></opml>`))
	for _, b := range corpustest.Seeds(f, 64<<10, "feeds") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse(data)
		if err != nil {
			return
		}
		for _, e := range entries {
			_ = SourceID(e.Text + e.XMLURL)
		}
	})
}
