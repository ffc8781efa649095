package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultPackLoads(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	if p.Version == "" || len(p.Aliases) == 0 || len(p.Topics) == 0 || len(p.Stance.Cues) == 0 || len(p.Actors) == 0 {
		t.Fatalf("default pack incomplete: version %q, %d aliases, %d topic rules, %d cues, %d actors",
			p.Version, len(p.Aliases), len(p.Topics), len(p.Stance.Cues), len(p.Actors))
	}
	seen := map[Topic]bool{}
	for _, r := range p.Topics {
		seen[r.Topic] = true
	}
	for _, id := range p.Taxonomy.IDs() {
		if !seen[id] {
			t.Errorf("no rule for topic %q", id)
		}
	}
	langs := map[string]bool{}
	for _, a := range p.Aliases {
		langs[a.Lang] = true
	}
	for _, l := range []string{"en", "fr", "es", "ru"} {
		if !langs[l] {
			t.Errorf("no alias rule for language %q", l)
		}
	}
}

func TestLoadGood(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("good.yaml", data)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if p.Version != "test-1" || p.Topics[0].Line != 14 || p.Topics[0].Terms[1].Line != 16 {
		t.Fatalf("got version %q, topic rule line %d, term line %d", p.Version, p.Topics[0].Line, p.Topics[0].Terms[1].Line)
	}
}

func TestLoadBroken(t *testing.T) {
	tests := []struct {
		file string
		line int
		want string
	}{
		{"bad_yaml.yaml", 15, "rules: bad_yaml.yaml:15: bad YAML: did not find expected ',' or ']'"},
		{"unknown_topic.yaml", 14, `rules: unknown_topic.yaml:14: rule "topic.rat": unknown topic id "ratifications"`},
		{"empty_aliases.yaml", 6, "rules: empty_aliases.yaml:6: empty alias list"},
		{"duplicate_id.yaml", 17, `rules: duplicate_id.yaml:17: duplicate rule id "topic.rat" (first at line 14)`},
		{"never_match.yaml", 10, `rules: never_match.yaml:10: rule "alias.en": term "—" can never match: no word left after normalisation`},
		{"bad_prefix.yaml", 10, `rules: bad_prefix.yaml:10: rule "gate.cyber": term "*" can never match: a "*" must follow a word`},
		{"empty_terms.yaml", 19, `rules: empty_terms.yaml:19: rule "cue.sup": empty term list`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(tt.file, data)
			if err == nil {
				t.Fatal("Load accepted a broken pack")
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var le *LoadError
			if !errors.As(err, &le) || le.File != tt.file || le.Line != tt.line {
				t.Errorf("LoadError = %+v, want file %s line %d", le, tt.file, tt.line)
			}
		})
	}
}

func TestParseTerm(t *testing.T) {
	f := newFolderForTest()
	tests := []struct {
		in     string
		words  []string
		prefix bool
		bad    bool
	}{
		{"UN Convention against Cybercrime", []string{"un", "convention", "against", "cybercrime"}, false, false},
		{"Convention de Hanoï", []string{"convention", "de", "hanoi"}, false, false},
		{"Конвенция ООН против киберпреступности", []string{"конвенц", "оон", "против", "киберпреступност"}, false, false}, // Russian words are stemmed
		{"ратифик*", []string{"ратифик"}, true, false},                                                                     // a prefix keeps its chosen stem
		{"ратифик*", []string{"ратифик"}, true, false},
		{"A/AC.291", []string{"a", "ac", "291"}, false, false},
		{"ＵＮ", []string{"un"}, false, false}, // NFKC: full-width letters
		{"...", nil, false, true},
		{"ab*", nil, false, true},
		{"cyber*crime", nil, false, true},
	}
	for _, tt := range tests {
		w, p, err := ParseTerm(f, tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseTerm(%q) accepted", tt.in)
			}
			continue
		}
		if err != nil || p != tt.prefix || len(w) != len(tt.words) {
			t.Errorf("ParseTerm(%q) = %q, %v, %v; want %q, %v", tt.in, w, p, err, tt.words, tt.prefix)
			continue
		}
		for i := range w {
			if w[i] != tt.words[i] {
				t.Errorf("ParseTerm(%q) = %q; want %q", tt.in, w, tt.words)
			}
		}
	}
}
