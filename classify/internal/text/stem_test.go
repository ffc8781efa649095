package text

import "testing"

func TestStemRU(t *testing.T) {
	tests := []struct{ in, want string }{
		{"международное", "международн"},
		{"международного", "международн"},
		{"сотрудничество", "сотрудничеств"},
		{"сотрудничества", "сотрудничеств"},
		{"доказательствами", "доказательств"},
		{"конвенция", "конвенц"},
		{"конвенцию", "конвенц"},
		{"конвенции", "конвенц"},
		{"персональных", "персональн"},
		{"гарантий", "гарант"},
		{"оон", "оон"},               // short words stay
		{"силу", "силу"},             // at most minStem letters: unchanged
		{"против", "против"},         // no ending
		{"convention", "convention"}, // not Cyrillic
	}
	for _, tt := range tests {
		if got := string(stemRU([]byte(tt.in))); got != tt.want {
			t.Errorf("stemRU(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInflectedFormsMeet(t *testing.T) {
	f := NewFolder()
	pairs := [][2]string{
		{"Международное сотрудничество", "международного сотрудничества"},
		{"права человека", "правам человека"},
		{"электронные доказательства", "электронных доказательств"},
		{"Ханойская конвенция", "Ханойской конвенции"},
	}
	for _, p := range pairs {
		a, b := Words(f, p[0]), Words(f, p[1])
		if len(a) != len(b) {
			t.Fatalf("%q vs %q: %v %v", p[0], p[1], a, b)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%q and %q do not meet: %v vs %v", p[0], p[1], a, b)
				break
			}
		}
	}
}
