package sinks_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// TestEnvelopeWire locks the wire format: a change here is a change of
// schema_version and of the README.
func TestEnvelopeWire(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	fetched := time.Date(2025, 10, 25, 9, 47, 0, 0, time.UTC)
	tests := []struct {
		name string
		rec  sinks.Record
		want string
	}{
		{
			name: "full",
			rec: sinks.Record{
				EventID: "e1",
				Item: fetch.Item{
					Key: "k1", SourceID: "eff", SourceName: "EFF Deeplinks", SourceActor: "Electronic Frontier Foundation",
					URL: "https://example.org/a?x=1&y=<2>", Title: "Treaty signed", Summary: "S", Content: "not on the wire",
					Lang: "en", Author: "A", Published: time.Date(2025, 10, 25, 15, 0, 0, 500_000_000, ist), Fetched: fetched,
					Provenance: fetch.Provenance{FinalURL: "https://example.org/a", Status: 200, ETag: `"x"`, LastModified: "Sat, 25 Oct 2025 09:00:00 GMT",
						BodySHA256: "ab", FetchedAt: fetched, Extracted: true},
				},
				Result: classify.Result{
					Relevant: true, Score: 0.75, Topics: []rules.Topic{"human-rights"}, Stance: classify.StanceCritical, Actor: "EFF",
					Evidence: []classify.Match{{Rule: "r1", Kind: "stance", Label: "critical", Words: []string{"threat"}, Sentence: "A threat.", Field: "summary", Weight: 0.5}},
					Rules:    "v1",
				},
			},
			want: `{"schema_version":1,"event_type":"item.labelled","event_id":"e1",` +
				`"source":{"id":"eff","name":"EFF Deeplinks","actor":"Electronic Frontier Foundation"},` +
				`"item":{"key":"k1","url":"https://example.org/a?x=1&y=<2>","title":"Treaty signed","summary":"S","lang":"en","author":"A","published":"2025-10-25T15:00:00.5+05:30","fetched":"2025-10-25T09:47:00Z"},` +
				`"labels":{"relevant":true,"score":0.75,"topics":["human-rights"],"stance":"critical","actor":"EFF","rules":"v1"},` +
				`"evidence":[{"rule":"r1","kind":"stance","label":"critical","words":["threat"],"sentence":"A threat.","field":"summary","weight":0.5}],` +
				`"provenance":{"final_url":"https://example.org/a","status":200,"etag":"\"x\"","last_modified":"Sat, 25 Oct 2025 09:00:00 GMT","body_sha256":"ab","fetched_at":"2025-10-25T09:47:00Z","extracted":true}}`,
		},
		{
			name: "sparse: no date, no topics, no evidence",
			rec: sinks.Record{
				EventID: "e2",
				Item:    fetch.Item{Key: "k2", SourceID: "un", Fetched: fetched},
				Result:  classify.Result{Relevant: true, Score: 1, Rules: "v1", Evidence: []classify.Match{{Rule: "alias", Kind: "alias", Field: "title"}}},
			},
			want: `{"schema_version":1,"event_type":"item.labelled","event_id":"e2","source":{"id":"un"},` +
				`"item":{"key":"k2","fetched":"2025-10-25T09:47:00Z"},` +
				`"labels":{"relevant":true,"score":1,"topics":[],"stance":"","rules":"v1"},` +
				`"evidence":[{"rule":"alias","kind":"alias","words":[],"field":"title"}],"provenance":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sinks.NewEnvelope(tt.rec)
			b, err := marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("wire form\n got %s\nwant %s", b, tt.want)
			}
			var back sinks.Envelope
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			b2, _ := marshal(back)
			if string(b2) != string(b) {
				t.Errorf("does not survive a round trip:\n got %s\nwant %s", b2, b)
			}
		})
	}
}

// marshal encodes as the sinks do: without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSpace(buf.Bytes()), err
}

func TestEvidenceSentence(t *testing.T) {
	tests := []struct {
		ev   []sinks.Evidence
		want string
	}{
		{nil, ""},
		{[]sinks.Evidence{{Kind: "alias"}}, ""},
		{[]sinks.Evidence{{Kind: "alias", Sentence: "a"}, {Kind: "topic", Sentence: "b"}}, "a"},
		{[]sinks.Evidence{{Kind: "alias", Sentence: "a"}, {Kind: "stance", Sentence: "s"}}, "s"},
	}
	for _, tt := range tests {
		if got := (sinks.Envelope{Evidence: tt.ev}).EvidenceSentence(); got != tt.want {
			t.Errorf("EvidenceSentence(%v) = %q, want %q", tt.ev, got, tt.want)
		}
	}
}
