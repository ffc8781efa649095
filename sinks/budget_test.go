package sinks

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify/rules"
)

func longEnvelope() Envelope {
	return Envelope{
		SchemaVersion: SchemaVersion, EventType: EventLabelled, EventID: "5f0c1e2d3c4b5a69788796a5b4c3d2e1",
		Source: SourceRef{ID: "eff", Name: "EFF"},
		Item: ItemFields{Key: "k1", URL: "https://www.eff.org/deeplinks/2026/11/long",
			Title:   strings.Repeat("Титул & <title> ", 40),
			Summary: strings.Repeat("The convention's scope <b>is</b> broad; ", 200),
			Author:  "Katitza Rodriguez"},
		Labels: Labels{Relevant: true, Topics: []rules.Topic{"human-rights"}, Stance: "critical", Rules: "2026.11-1"},
		Evidence: []Evidence{
			{Rule: "stance.critical.1", Kind: "stance", Words: []string{"urge"}, Sentence: strings.Repeat("We urge states not to ratify. ", 50), Field: "content"},
			{Rule: "topic.hr.1", Kind: "topic", Words: []string{"human rights"}, Sentence: strings.Repeat("Human rights safeguards are weak. ", 50), Field: "content"},
		},
	}
}

func TestFitEnvelope(t *testing.T) {
	full, _ := json.Marshal(longEnvelope())
	noSummary := longEnvelope()
	noSummary.Item.Summary = Marker
	short, _ := json.Marshal(noSummary)
	tests := []struct {
		name string
		max  int
		// which fields end in the marker
		cutSummary, cutLastSentence, cutFirstSentence, cutTitle bool
		wantErr                                                 bool
	}{
		{"no budget", 0, false, false, false, false, false},
		{"room to spare", len(full) + 10, false, false, false, false, false},
		{"exactly the size", len(full), false, false, false, false, false},
		{"one byte short cuts the summary only", len(full) - 1, true, false, false, false, false},
		{"summary then the last evidence sentence", len(short) - 100, true, true, false, false, false},
		{"down to the title", 1200, true, true, true, true, false},
		{"too small for the envelope", 300, true, true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := longEnvelope()
			body, err := FitEnvelope(&e, tt.max, func(e Envelope) ([]byte, error) { return json.Marshal(e) })
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "raise max_bytes") || !strings.Contains(err.Error(), e.EventID) {
					t.Fatalf("err = %v, want a 'raise max_bytes' error naming the event", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.max > 0 && len(body) > tt.max {
				t.Fatalf("body is %d bytes, budget %d", len(body), tt.max)
			}
			var got Envelope
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if got.EventID != longEnvelope().EventID || got.Item.URL != longEnvelope().Item.URL || got.Item.Key != "k1" {
				t.Errorf("ids or URL changed: %+v", got.Item)
			}
			for _, f := range []struct {
				name string
				s    string
				cut  bool
			}{
				{"summary", got.Item.Summary, tt.cutSummary},
				{"last sentence", got.Evidence[1].Sentence, tt.cutLastSentence},
				{"first sentence", got.Evidence[0].Sentence, tt.cutFirstSentence},
				{"title", got.Item.Title, tt.cutTitle},
			} {
				if strings.HasSuffix(f.s, Marker) != f.cut {
					t.Errorf("%s cut = %v, want %v", f.name, !f.cut, f.cut)
				}
				if !utf8.ValidString(f.s) {
					t.Errorf("%s is not valid UTF-8 after the cut", f.name)
				}
			}
			if tt.max > 0 && tt.cutSummary && len(body) < tt.max-closeEnough-4 && !tt.cutTitle {
				t.Errorf("cut too much: %d bytes for a budget of %d", len(body), tt.max)
			}
		})
	}
}

func TestCutHTML(t *testing.T) {
	tests := []struct {
		in   string
		keep int
		want string
	}{
		{"<p>abc <a href=\"x\">link</a></p>", 12, "<p>abc " + Marker},
		{"<p>a &amp; b</p>", 7, "<p>a " + Marker},
		{"<p>plain text here</p>", 12, "<p>plain tex" + Marker},
	}
	for _, tt := range tests {
		if got := cut(tt.in, tt.keep, true); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.keep, got, tt.want)
		}
	}
	if got := cut("ééé", 3, false); got != "é"+Marker {
		t.Errorf("cut at a rune boundary = %q", got)
	}
}
