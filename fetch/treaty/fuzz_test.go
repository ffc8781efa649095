package treaty

import (
	"testing"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// FuzzParse gives the treaty status parser arbitrary bytes: real status
// documents, real XML that is something else, and mutations of both.
func FuzzParse(f *testing.F) {
	f.Add(statusDoc(f, baseRows))
	for _, b := range corpustest.Seeds(f, 128<<10, "feeds") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := Parse(body)
		if err != nil {
			return
		}
		_ = st
	})
}
