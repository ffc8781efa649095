package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"
)

// parseJSON parses a JSON Feed, repairing what real feeds get wrong, or
// an RSS-in-JSON document.
func parseJSON(body []byte) (*gofeed.Feed, error) {
	f, err := newParser().Parse(bytes.NewReader(body))
	if err == nil && len(f.Items) > 0 {
		return f, nil
	}
	doc, truncated, serr := salvageJSON(body)
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
	repairJSONFeed(doc)
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
func salvageJSON(body []byte) (doc map[string]any, truncated bool, err error) {
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

// escapeControls escapes raw control characters inside JSON strings,
// which the JSON grammar forbids but hand-made feeds contain.
func escapeControls(b []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for i, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString && c < 0x20:
			if out == nil {
				out = append(make([]byte, 0, len(b)+64), b[:i]...)
			}
			switch c {
			case '\n':
				out = append(out, `\n`...)
			case '\r':
				out = append(out, `\r`...)
			case '\t':
				out = append(out, `\t`...)
			default:
				out = append(out, fmt.Sprintf(`\u%04x`, c)...)
			}
			continue
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return b
	}
	return out
}

// repairJSONFeed fixes fields of the wrong type: tags given as one
// comma-separated string, text fields given as numbers, an author given
// as a string.
func repairJSONFeed(doc map[string]any) {
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

// rssInJSON reads Dave Winer's RSS-in-JSON ({"rss":{"channel":{...}}}) by
// writing it back as RSS 2.0 and parsing that.
func rssInJSON(rss map[string]any) (*gofeed.Feed, error) {
	ch, ok := rss["channel"].(map[string]any)
	if !ok {
		return nil, errors.New("not a feed: RSS-in-JSON without a channel")
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>`)
	for _, k := range []string{"title", "link", "description", "language", "pubDate", "lastBuildDate", "ttl"} {
		writeElem(&b, k, jsonText(ch[k]))
	}
	var items []any
	switch v := ch["item"].(type) {
	case []any:
		items = v
	case map[string]any:
		items = []any{v}
	}
	for _, raw := range items {
		it, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		b.WriteString("<item>")
		for _, k := range []string{"title", "link", "description", "pubDate", "guid", "author", "comments"} {
			writeElem(&b, k, jsonText(it[k]))
		}
		b.WriteString("</item>")
	}
	b.WriteString("</channel></rss>")
	return newParser().Parse(&b)
}

func writeElem(b *bytes.Buffer, name, text string) {
	if text == "" {
		return
	}
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">")
}

// jsonText is the text of an RSS-in-JSON value: a string, a number, or an
// element with attributes whose text is under "#value".
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any:
		return jsonText(v["#value"])
	}
	return ""
}
