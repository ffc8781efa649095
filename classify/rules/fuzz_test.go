package rules

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad gives the rule pack loader arbitrary YAML, seeded with the
// built-in pack and the test packs.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultYAML())
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Load("fuzz.yaml", data)
	})
}
