package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad gives the rule pack loader arbitrary YAML, seeded with the
// small test packs and with pieces of the built-in pack: each top-level
// section on its own, cut to its first lines. The whole built-in pack
// (tens of kilobytes) would be a slow seed: every mutation of it is a
// full parse, which kept the fuzzer to a few executions a second.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range packSections(DefaultYAML(), 60) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Load("fuzz.yaml", data)
	})
}

// packSections splits a pack at its top-level keys and returns each
// section, cut to at most maxLines lines, after the pack's version line.
func packSections(pack []byte, maxLines int) [][]byte {
	var version []byte
	var out [][]byte
	var cur [][]byte
	flush := func() {
		if len(cur) == 0 {
			return
		}
		s := append(append([]byte{}, version...), bytes.Join(cur[:min(len(cur), maxLines)], []byte("\n"))...)
		out = append(out, s)
		cur = nil
	}
	for _, line := range bytes.Split(pack, []byte("\n")) {
		topLevel := len(line) > 0 && line[0] != ' ' && line[0] != '#' && line[0] != '-'
		if topLevel && bytes.HasPrefix(line, []byte("version:")) {
			version = append(append([]byte{}, line...), '\n')
			continue
		}
		if topLevel {
			flush()
		}
		if topLevel || len(cur) > 0 {
			cur = append(cur, line)
		}
	}
	flush()
	return out
}

func TestPackSections(t *testing.T) {
	pack := []byte("# c\nversion: \"1\"\nsettings:\n  a: 1\n  b: 2\n  c: 3\ntopics:\n  - id: x\n")
	got := packSections(pack, 2)
	want := []string{"version: \"1\"\nsettings:\n  a: 1", "version: \"1\"\ntopics:\n  - id: x"}
	if len(got) != len(want) {
		t.Fatalf("got %d sections %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("section %d = %q, want %q", i, got[i], want[i])
		}
	}
	if n := len(packSections(DefaultYAML(), 60)); n < 5 {
		t.Errorf("the built-in pack splits into %d sections, want at least 5", n)
	}
}
