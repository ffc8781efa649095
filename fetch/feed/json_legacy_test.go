package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// legacyParseJSON is how parseJSON read JSON Feeds before it decoded them
// in one pass: gofeed's parser, and when it refused the document, a
// salvage that decoded it into generic values, repaired them, encoded
// them again and gave that to gofeed's parser. parseJSON must give the
// same items (TestJSONFeedsAsBefore, FuzzJSONFeedAsBefore).
func legacyParseJSON(body []byte) (*gofeed.Feed, error) {
	f, err := newParser().Parse(bytes.NewReader(body))
	if err == nil && len(f.Items) > 0 {
		return f, nil
	}
	doc, truncated, serr := legacySalvageJSON(body)
	if serr != nil {
		if err != nil {
			return nil, fmt.Errorf("the JSON is broken: %v", err)
		}
		return f, nil
	}
	if rss, ok := doc["rss"].(map[string]any); ok {
		return rssInJSON(rss)
	}
	if _, ok := doc["items"]; !ok {
		if err != nil {
			return nil, fmt.Errorf("not a JSON Feed: %v", err)
		}
		return f, nil // a JSON Feed without items
	}
	legacyRepairJSONFeed(doc)
	fixed, merr := json.Marshal(doc)
	if merr != nil {
		return nil, fmt.Errorf("the JSON Feed is broken: %v", err)
	}
	f2, err2 := newParser().Parse(bytes.NewReader(fixed))
	if err2 != nil {
		if err == nil {
			err = err2
		}
		return nil, fmt.Errorf("the JSON Feed is broken: %v", err)
	}
	if truncated && len(f2.Items) == 0 {
		return nil, errors.New("the JSON Feed is cut off before its first complete item")
	}
	return f2, nil
}

// salvageJSON decodes a JSON object as far as it goes: raw control
// characters inside strings are escaped, and a document cut off in its
// items array keeps the items before the cut (truncated is then true).
func legacySalvageJSON(body []byte) (doc map[string]any, truncated bool, err error) {
	body = escapeControls(body)
	if err := json.Unmarshal(body, &doc); err == nil {
		return doc, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false, errors.New("not a JSON object")
	}
	doc = map[string]any{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return doc, true, nil
		}
		key, ok := t.(string)
		if !ok {
			return doc, true, nil
		}
		if key != "items" {
			var v any
			if err := dec.Decode(&v); err != nil {
				return doc, true, nil
			}
			doc[key] = v
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return doc, true, nil
		}
		var items []any
		for dec.More() {
			var it any
			if err := dec.Decode(&it); err != nil {
				doc["items"] = items
				return doc, true, nil
			}
			items = append(items, it)
		}
		doc["items"] = items
		if _, err := dec.Token(); err != nil { // ']'
			return doc, true, nil
		}
	}
	return doc, true, nil
}

// repairJSONFeed fixes fields of the wrong type: tags given as one
// comma-separated string, text fields given as numbers, an author given
// as a string.
func legacyRepairJSONFeed(doc map[string]any) {
	items, _ := doc["items"].([]any)
	for _, raw := range items {
		it, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		switch tags := it["tags"].(type) {
		case string:
			var list []any
			for _, t := range strings.Split(tags, ",") {
				if t = strings.TrimSpace(t); t != "" {
					list = append(list, t)
				}
			}
			it["tags"] = list
		case []any:
		default:
			delete(it, "tags")
		}
		for _, k := range []string{"url", "external_url", "title", "content_html", "content_text",
			"summary", "image", "banner_image", "date_published", "date_modified", "language"} {
			switch v := it[k].(type) {
			case string, nil:
			case float64:
				it[k] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				delete(it, k)
			}
		}
		if a, ok := it["author"].(string); ok {
			it["author"] = map[string]any{"name": a}
		}
		if a, ok := it["authors"].(map[string]any); ok {
			it["authors"] = []any{a}
		}
	}
}

// sameFeed reports whether a and b have the same items, field by field,
// and the same language and authors (what normalise reads of a feed).
func sameFeed(a, b *gofeed.Feed) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(a.Items, b.Items) && a.Language == b.Language && reflect.DeepEqual(a.Authors, b.Authors)
}

// TestJSONFeedsAsBefore parses every corpus JSON feed (those gofeed reads
// and those it refuses) and checks the items are those of the earlier
// way, and those gofeed's parser gives when it reads the feed.
func TestJSONFeedsAsBefore(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(corpustest.Dir(t), "feeds", "*.json"))
	if err != nil || len(paths) < 10 {
		t.Fatalf("%d corpus JSON feeds (%v)", len(paths), err)
	}
	salvaged := 0
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseJSON(body)
		want, werr := legacyParseJSON(body)
		name := filepath.Base(p)
		if (err == nil) != (werr == nil) {
			t.Errorf("%s: error %v, before %v", name, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		if !sameFeed(got, want) {
			t.Errorf("%s: items differ from before", name)
		}
		if g, gerr := newParser().Parse(bytes.NewReader(body)); gerr == nil && len(g.Items) > 0 {
			if !reflect.DeepEqual(got, g) {
				t.Errorf("%s: feed differs from gofeed's", name)
			}
		} else {
			salvaged++
			t.Logf("%s: salvaged, %d items (gofeed: %v)", name, len(got.Items), gerr)
		}
	}
	if salvaged < 3 {
		t.Errorf("only %d corpus feeds needed the salvage", salvaged)
	}
}

// FuzzJSONFeedAsBefore checks parseJSON against the earlier way on
// arbitrary documents, and against gofeed's parser on those it reads.
func FuzzJSONFeedAsBefore(f *testing.F) {
	for _, b := range corpustest.Seeds(f, 64<<10, "feeds") {
		if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"version":"https://jsonfeed.org/version/1","title":"t","items":[{"id":"1","title":"a","tags":"x, y"}]}`,
		`{"items":[{"id":1.50,"title":12e3,"summary":true,"author":"Ann","authors":{"name":"Bo"},"tags":["a",null]}]}`,
		`{"items":[{"id":{"a":1},"url":"https://x.org/1","content_html":"<p>a\u00e9\n</p>"}],"language":"fr"}`,
		`{"items":[{"id":"1","title":"a"},{"id":"2","title":"b"},{"id":"3","ti`,
		"{\"items\":[{\"id\":\"1\",\"content_text\":\"a\nb\"}]}",
		`{"rss":{"channel":{"title":"t","item":{"title":"a","link":"http://x.org/1"}}},"items":[]}`,
		`{"items":null,"title":"a\u0001"}`,
		`{"title":5,"items":[{"id":"1"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if caseVariants(doc) {
			return
		}
		got, err := parseJSON(doc)
		want, werr, crashed := legacyOrCrash(doc)
		if crashed {
			return // a null item crashed the earlier way
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("error %v, before %v", err, werr)
		}
		if err == nil && !sameFeed(got, want) {
			t.Fatalf("items differ from before:\n got %s\nwant %s", dumpItems(got), dumpItems(want))
		}
	})
}

// caseVariants reports whether doc names a member the salvage repairs in
// other than lower case ("Tags"): the earlier way repaired only the
// lower-case names (gofeed's parser reads any case), parseJSON any case.
func caseVariants(doc []byte) bool {
	lower := bytes.ToLower(doc)
	for _, name := range []string{"items", "rss", "tags", "author", "authors", "url", "external_url", "title",
		"content_html", "content_text", "summary", "image", "banner_image", "date_published", "date_modified", "language"} {
		q := []byte(`"` + name + `"`)
		if bytes.Count(lower, q) != bytes.Count(doc, q) {
			return true
		}
	}
	return false
}

func legacyOrCrash(doc []byte) (f *gofeed.Feed, err error, crashed bool) {
	defer func() {
		if recover() != nil {
			crashed = true
		}
	}()
	f, err = legacyParseJSON(doc)
	return f, err, false
}

func dumpItems(f *gofeed.Feed) string {
	b, _ := json.Marshal(f.Items)
	return string(b)
}
