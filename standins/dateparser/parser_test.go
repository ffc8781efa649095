package dateparser

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		cfg    Configuration
		want   time.Time
		wantOK bool
	}{
		{"2024-11-05", Configuration{}, time.Date(2024, 11, 5, 0, 0, 0, 0, time.UTC), true},
		{"  December 24th,  2024 ", Configuration{}, time.Date(2024, 12, 24, 0, 0, 0, 0, time.UTC), true},
		{"Tue, 05 Nov 2024 10:00:00 +0000", Configuration{}, time.Date(2024, 11, 5, 10, 0, 0, 0, time.UTC), true},
		{"5 Nov. 2024", Configuration{}, time.Date(2024, 11, 5, 0, 0, 0, 0, time.UTC), true},
		{"November 2024", Configuration{StrictParsing: true}, time.Time{}, false},
		{"November 2024", Configuration{}, time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), true},
		{"December 24", Configuration{CurrentTime: now, PreferredDateSource: Past}, time.Date(2025, 12, 24, 0, 0, 0, 0, time.UTC), true},
		{"January 24", Configuration{CurrentTime: now, PreferredDateSource: Future}, time.Date(2027, 1, 24, 0, 0, 0, 0, time.UTC), true},
		{"no date here", Configuration{}, time.Time{}, false},
		{"", Configuration{}, time.Time{}, false},
	}
	p := &Parser{ParserTypes: []ParserType{CustomFormat, AbsoluteTime}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := p.Parse(&tt.cfg, tt.in)
			if (err == nil) != tt.wantOK {
				t.Fatalf("Parse(%q) error = %v, want ok %v", tt.in, err, tt.wantOK)
			}
			if !got.Time.Equal(tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got.Time, tt.want)
			}
		})
	}
}
