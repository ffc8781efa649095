package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// TestStoredLabeled: what encodeLabeled writes reads back as it was
// (lean items without their text), and rows written before items lost
// their repeated columns and evidence its repeated sentences still read.
func TestStoredLabeled(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	item := fetch.Item{SourceID: "s", Key: "k", URL: "https://example.org/a", Title: "Signing in Hanoi",
		Summary: "The convention opened for signature. Seventy states signed.", Content: "Long text.", Published: at, Lang: "en",
		Provenance: fetch.Provenance{FinalURL: "https://example.org/feed", Status: 200, BodySHA256: "ab12"}}
	ev := []classify.Match{
		{Rule: "alias", Kind: "alias", Words: []string{"convention"}, Sentence: "The convention opened for signature.", Field: "summary"},
		{Rule: "gate", Kind: "gate", Words: []string{"signed"}, Sentence: "Seventy states signed.", Field: "summary", Weight: 1.5},
		{Rule: "cut", Kind: "topic", Words: []string{"signed"}, Sentence: "Seventy states…", Field: "summary"},
		{Rule: "title", Kind: "topic", Words: []string{"signing"}, Sentence: "Signing in Hanoi", Field: "title"},
		{Rule: "source", Kind: "actor", Words: []string{}, Field: "source", Weight: -0.1},
	}
	tests := []struct {
		name     string
		relevant bool
		ij, rj   string // a row as an older version wrote it; empty: encodeLabeled's
		want     Labeled
	}{
		{name: "relevant", relevant: true,
			want: Labeled{Item: item, Result: classify.Result{Relevant: true, Topics: []rules.Topic{"ratification"}, Evidence: ev}}},
		{name: "irrelevant kept lean", relevant: false,
			want: Labeled{Item: fetch.Item{SourceID: "s", Key: "k", URL: item.URL, Title: item.Title, Published: at, Lang: "en"},
				Result: classify.Result{Topics: []rules.Topic{}, Evidence: []classify.Match{}}, Lean: true, TextSHA256: textHash(item)}},
		{name: "older row", relevant: true,
			ij: `{"key":"k","source_id":"s","url":"https://example.org/a","title":"Signing in Hanoi","summary":"x","published":"2026-11-23T10:00:00+01:00","fetched":"0001-01-01T00:00:00Z","provenance":{}}`,
			rj: `{"relevant":true,"score":0,"topics":["ratification"],"stance":"","rules":"","evidence":[{"rule":"alias","kind":"alias","words":["convention"],"sentence":"The convention.","field":"summary"}]}`,
			want: Labeled{Item: fetch.Item{SourceID: "s", Key: "k", URL: item.URL, Title: item.Title, Summary: "x", Published: at},
				Result: classify.Result{Relevant: true, Topics: []rules.Topic{"ratification"},
					Evidence: []classify.Match{{Rule: "alias", Kind: "alias", Words: []string{"convention"}, Sentence: "The convention.", Field: "summary"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ij, rj := tt.ij, tt.rj
			if ij == "" {
				l := Labeled{Item: item, Result: classify.Result{Relevant: tt.relevant, Topics: []rules.Topic{"ratification"}, Evidence: ev}}
				if !tt.relevant {
					l.Result.Topics = []rules.Topic{}
				}
				b1, b2, err := encodeLabeled(l)
				if err != nil {
					t.Fatal(err)
				}
				ij, rj = string(b1), string(b2)
				for _, col := range []string{`"key":`, `"source_id":`, `"url":`, `"title":`, `"sentence":`} {
					if strings.Contains(ij+rj, col) {
						t.Errorf("stored JSON repeats %s: %s %s", col, ij, rj)
					}
				}
			}
			got, err := decodeLabeled("s", "k", item.URL, item.Title, ij, rj)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Item.Published.Equal(tt.want.Item.Published) {
				t.Errorf("published %v, want %v", got.Item.Published, tt.want.Item.Published)
			}
			got.Item.Published = tt.want.Item.Published
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("read back\n%+v\nwant\n%+v\nfrom %s %s", got, tt.want, ij, rj)
			}
		})
	}
}
