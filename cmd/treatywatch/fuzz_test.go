package main

import (
	"bytes"
	"context"
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
		entries, err := parseOPML(data)
		if err != nil {
			return
		}
		for _, e := range entries {
			_ = sourceID(e.Text + e.XMLURL)
		}
	})
}

// FuzzClassifyInput gives the labelled JSONL reader (classify --eval's
// input) arbitrary lines.
func FuzzClassifyInput(f *testing.F) {
	f.Add([]byte(`{"id":"a","title":"UN cybercrime convention signed","summary":"States sign in Hanoi.","labels":{"relevant":true,"topics":["ratification"],"stance":"neutral"}}` + "\n\n{\"id\":2}\n"))
	f.Add([]byte("{\n"))
	f.Add([]byte(`{"title":` + "\"\xff\xfe\"" + `}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readRecords(context.Background(), bytes.NewReader(data))
	})
}
