package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// storedItem is an item as item_json keeps it. An irrelevant item is kept
// lean: what dedupe and audits need (key, URL, title, dates, provenance,
// the label summary and a hash of its text), not its summary or content.
type storedItem struct {
	fetch.Item
	// Lean marks an item stored without its text.
	Lean bool `json:"lean,omitempty"`
	// TextSHA256 is the first 16 bytes, in hex, of the SHA-256 of the
	// lean item's title, summary and content (NUL-separated): proof of
	// what the text was, without the text.
	TextSHA256 string `json:"text_sha256,omitempty"`
}

// storedResult is a result as result_json keeps it: each evidence
// sentence once, the matches pointing at it (a sentence that holds
// several matches was written once per match). An irrelevant item keeps
// no evidence.
type storedResult struct {
	classify.Result
	Evidence  []storedMatch `json:"evidence"`
	Sentences []string      `json:"sentences,omitempty"`
}

// storedMatch is a classify.Match whose sentence is S-1 in Sentences (0:
// none).
type storedMatch struct {
	Rule   string   `json:"rule"`
	Kind   string   `json:"kind"`
	Label  string   `json:"label,omitempty"`
	Words  []string `json:"words"`
	S      int      `json:"s,omitempty"`
	Field  string   `json:"field"`
	Weight float64  `json:"weight,omitempty"`
	// Sentence is read from rows written before sentences were shared.
	Sentence string `json:"sentence,omitempty"`
}

// textHash is the TextSHA256 of it.
func textHash(it fetch.Item) string {
	h := sha256.New()
	h.Write([]byte(it.Title))
	h.Write([]byte{0})
	h.Write([]byte(it.Summary))
	h.Write([]byte{0})
	h.Write([]byte(it.Content))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// encodeLabeled is the item_json and result_json of l.
func encodeLabeled(l Labeled) (itemJSON, resultJSON []byte, err error) {
	si := storedItem{Item: l.Item}
	if !l.Result.Relevant {
		si.Lean, si.TextSHA256 = true, textHash(l.Item)
		si.Summary, si.Content = "", ""
	}
	if itemJSON, err = json.Marshal(si); err != nil {
		return nil, nil, err
	}
	if resultJSON, err = encodeResult(l.Result); err != nil {
		return nil, nil, err
	}
	return itemJSON, resultJSON, nil
}

// encodeResult is the result_json of r: the evidence of a relevant
// result with each sentence once, none for an irrelevant one.
func encodeResult(r classify.Result) ([]byte, error) {
	sr := storedResult{Result: r, Evidence: []storedMatch{}}
	if r.Relevant {
		at := map[string]int{}
		for _, m := range r.Evidence {
			sm := storedMatch{Rule: m.Rule, Kind: m.Kind, Label: m.Label, Words: m.Words, Field: m.Field, Weight: m.Weight}
			if m.Sentence != "" {
				if at[m.Sentence] == 0 {
					sr.Sentences = append(sr.Sentences, m.Sentence)
					at[m.Sentence] = len(sr.Sentences)
				}
				sm.S = at[m.Sentence]
			}
			sr.Evidence = append(sr.Evidence, sm)
		}
	}
	return json.Marshal(sr)
}

// decodeLabeled reads an item_json and result_json pair, as written now
// or before items were kept lean and sentences shared.
func decodeLabeled(itemJSON, resultJSON string) (Labeled, error) {
	var si storedItem
	if err := json.Unmarshal([]byte(itemJSON), &si); err != nil {
		return Labeled{}, fmt.Errorf("store: decode item: %w", err)
	}
	var sr storedResult
	if err := json.Unmarshal([]byte(resultJSON), &sr); err != nil {
		return Labeled{}, fmt.Errorf("store: decode labels: %w", err)
	}
	l := Labeled{Item: si.Item, Result: sr.Result, Lean: si.Lean, TextSHA256: si.TextSHA256}
	l.Result.Evidence = make([]classify.Match, 0, len(sr.Evidence))
	for _, m := range sr.Evidence {
		cm := classify.Match{Rule: m.Rule, Kind: m.Kind, Label: m.Label, Words: m.Words, Sentence: m.Sentence, Field: m.Field, Weight: m.Weight}
		if m.S > 0 && m.S <= len(sr.Sentences) {
			cm.Sentence = sr.Sentences[m.S-1]
		}
		l.Result.Evidence = append(l.Result.Evidence, cm)
	}
	return l, nil
}
