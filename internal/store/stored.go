package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// storedItem is an item as item_json keeps it. An irrelevant item is kept
// lean: what dedupe and audits need (key, URL, title, dates, the label
// summary and a hash of its text), not its summary, content or the
// provenance of the document it came in.
type storedItem struct {
	fetch.Item
	// The item's source, key, URL and title are columns of its row: these
	// fields hide the item's own so that item_json does not repeat them.
	// Rows written before read them back from here.
	SourceID string `json:"source_id,omitempty"`
	Key      string `json:"key,omitempty"`
	URL      string `json:"url,omitempty"`
	Title    string `json:"title,omitempty"`
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

// storedMatch is a classify.Match whose sentence is either At-1 and Len
// bytes into its field's text (stored with the item), or S-1 in
// Sentences (a sentence the classifier shortened), or none.
type storedMatch struct {
	Rule   string   `json:"rule"`
	Kind   string   `json:"kind"`
	Label  string   `json:"label,omitempty"`
	Words  []string `json:"words"`
	At     int      `json:"at,omitempty"`
	Len    int      `json:"len,omitempty"`
	S      int      `json:"s,omitempty"`
	Field  string   `json:"field"`
	Weight float64  `json:"weight,omitempty"`
	// Sentence is read from rows written before sentences were shared.
	Sentence string `json:"sentence,omitempty"`
}

// textHash is the TextSHA256 of it.
func textHash(it fetch.Item) string {
	text := make([]byte, 0, len(it.Title)+len(it.Summary)+len(it.Content)+2)
	text = append(append(text, it.Title...), 0)
	text = append(append(text, it.Summary...), 0)
	text = append(text, it.Content...)
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:16])
}

// encodeLabeled is the item_json and result_json of l. Those of a lean
// item are written directly when they can be (leanjson.go), else, like
// every other, by encoding/json.
func encodeLabeled(l Labeled) (itemJSON, resultJSON []byte, err error) {
	si := storedItem{Item: l.Item}
	if !l.Result.Relevant {
		si.Lean, si.TextSHA256 = true, textHash(l.Item)
		buf := make([]byte, 0, 384)
		if ij, ok := appendLeanItem(buf, l.Item, si.TextSHA256); ok {
			if rj, ok := appendLeanResult(ij[len(ij):], l.Result); ok {
				return ij, rj, nil
			}
		}
		si.Summary, si.Content = "", ""
		// How the document holding it was fetched is the same for
		// every item of a run; the text hash is what tells this item.
		si.Provenance = fetch.Provenance{Extracted: l.Item.Provenance.Extracted}
	}
	if itemJSON, err = json.Marshal(si); err != nil {
		return nil, nil, err
	}
	if resultJSON, err = encodeResult(l.Result, l.Item); err != nil {
		return nil, nil, err
	}
	return itemJSON, resultJSON, nil
}

// encodeResult is the result_json of r, the labels of it: the evidence
// of a relevant result with each sentence as a place in the item's text
// or written once, none for an irrelevant one.
func encodeResult(r classify.Result, it fetch.Item) ([]byte, error) {
	sr := storedResult{Result: r, Evidence: []storedMatch{}}
	if r.Relevant {
		at := map[string]int{}
		for _, m := range r.Evidence {
			sm := storedMatch{Rule: m.Rule, Kind: m.Kind, Label: m.Label, Words: m.Words, Field: m.Field, Weight: m.Weight}
			if i := strings.Index(fieldText(it, m.Field), m.Sentence); m.Sentence != "" && i >= 0 {
				sm.At, sm.Len = i+1, len(m.Sentence)
			} else if m.Sentence != "" {
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

// labeledCols are the columns decodeLabeled reads, from an items row
// aliased i.
const labeledCols = `i.source_id, i.key, i.url, i.title, i.item_json, i.result_json`

// fieldText is the text of the item field an evidence match names.
func fieldText(it fetch.Item, field string) string {
	switch field {
	case classify.FieldTitle:
		return it.Title
	case classify.FieldSummary:
		return it.Summary
	case classify.FieldContent:
		return it.Content
	}
	return ""
}

// decodeLabeled reads the labeledCols of a row, written now or before
// items were kept lean, without their columns, and sentences shared.
func decodeLabeled(sourceID, key, url, title, itemJSON, resultJSON string) (Labeled, error) {
	var si storedItem
	if err := json.Unmarshal([]byte(itemJSON), &si); err != nil {
		return Labeled{}, fmt.Errorf("store: decode item %s/%s: %w", sourceID, key, err)
	}
	si.Item.SourceID, si.Item.Key, si.Item.URL, si.Item.Title = sourceID, key, url, title
	var sr storedResult
	if err := json.Unmarshal([]byte(resultJSON), &sr); err != nil {
		return Labeled{}, fmt.Errorf("store: decode labels of %s/%s: %w", sourceID, key, err)
	}
	l := Labeled{Item: si.Item, Result: sr.Result, Lean: si.Lean, TextSHA256: si.TextSHA256}
	l.Result.Evidence = make([]classify.Match, 0, len(sr.Evidence))
	for _, m := range sr.Evidence {
		cm := classify.Match{Rule: m.Rule, Kind: m.Kind, Label: m.Label, Words: m.Words, Sentence: m.Sentence, Field: m.Field, Weight: m.Weight}
		if m.S > 0 && m.S <= len(sr.Sentences) {
			cm.Sentence = sr.Sentences[m.S-1]
		}
		if t := fieldText(l.Item, m.Field); m.At > 0 && m.At-1+m.Len <= len(t) {
			cm.Sentence = t[m.At-1 : m.At-1+m.Len]
		}
		l.Result.Evidence = append(l.Result.Evidence, cm)
	}
	return l, nil
}
