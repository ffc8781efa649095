package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	gjson "github.com/mmcdole/gofeed/json"
)

// parseJSON parses a JSON Feed, repairing what real feeds get wrong, or
// an RSS-in-JSON document.
//
// A JSON Feed is decoded once, into the fields of gofeed's json.Feed
// (read as gofeed reads them) but with the item fields publishers get
// wrong read leniently, and gofeed's JSON translator makes the
// gofeed.Feed of it: for a feed gofeed's parser accepts, the result is
// what that parser gives (without its extra passes over the document).
// A feed it refuses is salvaged in the same decode: tags given as one
// comma-separated string, text fields given as numbers, an author given
// as a string, raw control characters inside strings, a document cut off
// in its items (the complete items before the cut are kept).
func parseJSON(body []byte) (*gofeed.Feed, error) {
	if !startsObject(body) {
		return nil, errors.New("not a JSON Feed: the document is not a JSON object")
	}
	doc, salvaged, truncated := body, false, false
	jf, derr := decodeJSONFeed(doc, false)
	var syntax *json.SyntaxError
	if errors.As(derr, &syntax) {
		// Raw control characters inside strings, which gofeed's parser
		// refuses too (a valid document has none to escape).
		if doc = escapeControls(body); len(doc) != len(body) {
			salvaged = true
			jf, derr = decodeJSONFeed(doc, true)
		}
	}
	if errors.As(derr, &syntax) {
		// Cut off or broken: keep what came before the break.
		doc, truncated = cutJSON(doc)
		jf, derr = decodeJSONFeed(doc, true)
	}
	salvaged = salvaged || truncated || derr != nil || jf.repaired
	if !salvaged && len(jf.Items) > 0 {
		return translateJSON(jf)
	}
	if rss, ok := rssObject(jf.RSS); ok {
		return rssInJSON(rss)
	}
	if !jf.hasItems && salvaged {
		jf.hasItems = hasMember(doc, "items") // "items": null counts
	}
	if !jf.hasItems {
		if salvaged {
			if derr == nil {
				derr = errors.New("no items")
			}
			return nil, fmt.Errorf("not a JSON Feed: %v", derr)
		}
		return translateJSON(jf) // a JSON Feed without items
	}
	if derr != nil {
		return nil, fmt.Errorf("the JSON Feed is broken: %v", derr)
	}
	if truncated && len(jf.Items) == 0 {
		return nil, errors.New("the JSON Feed is cut off before its first complete item")
	}
	return translateJSON(jf)
}

func startsObject(doc []byte) bool {
	doc = bytes.TrimLeft(doc, " \t\r\n")
	return len(doc) > 0 && doc[0] == '{'
}

// rssObject decodes the "rss" member of a document when it is an object.
func rssObject(raw json.RawMessage) (map[string]any, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var rss map[string]any
	if err := json.Unmarshal(raw, &rss); err != nil {
		return nil, false
	}
	return rss, true
}

// decodedJSONFeed is a JSON Feed as decodeJSONFeed read it.
type decodedJSONFeed struct {
	*gjson.Feed
	RSS json.RawMessage // the member "rss" of RSS-in-JSON
	// hasItems is false when the document has no items, or null.
	hasItems bool
	// repaired is true when the document needed the salvage: a field in
	// a form gofeed's parser refuses (read as the salvage reads it), or
	// a salvage the caller already knew of (raw control characters, a
	// cut). A number id then reads as the salvage always read it.
	repaired bool
}

// decodeJSONFeed decodes doc in one pass when its text fields are all
// strings (the usual case), else in a second pass that reads them
// leniently. The error is encoding/json's (a syntax error leaves the
// result empty) or the first field it could not repair. salvage is true
// when doc is already known to need the salvage.
func decodeJSONFeed(doc []byte, salvage bool) (decodedJSONFeed, error) {
	var f jsonFeed[string]
	err := json.Unmarshal(doc, &f)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		var lf jsonFeed[looseText]
		err = json.Unmarshal(doc, &lf)
		return lf.gofeed(true), err
	}
	return f.gofeed(salvage), err
}

// hasMember reports whether the JSON object doc has the member name.
func hasMember(doc []byte, name string) bool {
	var members map[string]skipped
	if err := json.Unmarshal(doc, &members); err != nil {
		return false
	}
	_, ok := members[name]
	return ok
}

// skipped is a JSON value read and dropped.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// translateJSON makes a gofeed.Feed of a decoded JSON Feed the way
// gofeed's parser does.
func translateJSON(f decodedJSONFeed) (*gofeed.Feed, error) {
	return (&gofeed.DefaultJSONTranslator{}).Translate(f.Feed)
}

// jsonFeed has the members of gofeed's json.Feed, decoded as gofeed
// decodes them (so a wrong type fails where it fails there), and its
// items' text fields of type T: string, as gofeed reads them, or
// looseText, as the salvage does.
type jsonFeed[T ~string] struct {
	Version     string          `json:"version"`
	Title       string          `json:"title"`
	HomePageURL string          `json:"home_page_url"`
	FeedURL     string          `json:"feed_url"`
	Description string          `json:"description"`
	UserComment string          `json:"user_comment"`
	NextURL     string          `json:"next_url"`
	Icon        string          `json:"icon"`
	Favicon     string          `json:"favicon"`
	Author      *gjson.Author   `json:"author"`
	Items       []*jsonItem[T]  `json:"items"`
	Authors     []*gjson.Author `json:"authors"`
	Language    string          `json:"language"`
	// gofeed reads "expired" as anything and does not translate it.
	RSS json.RawMessage `json:"rss"`
}

// jsonItem has the members of gofeed's json.Item; those publishers get
// wrong are read leniently.
type jsonItem[T ~string] struct {
	ID            json.RawMessage      `json:"id"`
	URL           T                    `json:"url"`
	ExternalURL   T                    `json:"external_url"`
	Title         T                    `json:"title"`
	ContentHTML   T                    `json:"content_html"`
	ContentText   T                    `json:"content_text"`
	Summary       T                    `json:"summary"`
	Image         T                    `json:"image"`
	BannerImage   T                    `json:"banner_image"`
	DatePublished T                    `json:"date_published"`
	DateModified  T                    `json:"date_modified"`
	Author        looseAuthor          `json:"author"`
	Tags          looseTags            `json:"tags"`
	Attachments   *[]gjson.Attachments `json:"attachments"`
	Authors       looseAuthors         `json:"authors"`
	Language      T                    `json:"language"`
}

// gofeed returns f as gofeed's json.Feed. salvage is true when the
// document needed the salvage before its items were read (the text
// fields read leniently, raw control characters, a cut).
func (f *jsonFeed[T]) gofeed(salvage bool) decodedJSONFeed {
	out := decodedJSONFeed{
		Feed: &gjson.Feed{
			Version:     f.Version,
			Title:       f.Title,
			HomePageURL: f.HomePageURL,
			FeedURL:     f.FeedURL,
			Description: f.Description,
			UserComment: f.UserComment,
			NextURL:     f.NextURL,
			Icon:        f.Icon,
			Favicon:     f.Favicon,
			Author:      f.Author,
			Authors:     f.Authors,
			Language:    f.Language,
		},
		RSS:      f.RSS,
		hasItems: f.Items != nil,
		repaired: salvage,
	}
	for _, it := range f.Items {
		if it != nil && (it.Author.repaired || it.Tags.repaired || it.Authors.repaired) {
			out.repaired = true
		}
	}
	out.Items = make([]*gjson.Item, 0, len(f.Items))
	for _, it := range f.Items {
		if it == nil {
			continue // gofeed's translator cannot take a null item
		}
		out.Items = append(out.Items, &gjson.Item{
			ID:            coerceID(it.ID, out.repaired),
			URL:           string(it.URL),
			ExternalURL:   string(it.ExternalURL),
			Title:         string(it.Title),
			ContentHTML:   string(it.ContentHTML),
			ContentText:   string(it.ContentText),
			Summary:       string(it.Summary),
			Image:         string(it.Image),
			BannerImage:   string(it.BannerImage),
			DatePublished: string(it.DatePublished),
			DateModified:  string(it.DateModified),
			Author:        it.Author.a,
			Tags:          it.Tags.list,
			Attachments:   it.Attachments,
			Authors:       it.Authors.list,
			Language:      string(it.Language),
		})
	}
	return out
}

// coerceID reads an item id as gofeed does: a string, else the text of
// a number, else the JSON as it is. salvaged is true when the document
// needed repair: the salvage used to write the document back from
// generic values, so a number id is the text of the float64 it reads as
// (1.50 is "1.5").
func coerceID(raw json.RawMessage, salvaged bool) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return ""
	}
	if s[0] == '"' {
		if str, ok := jsonString(raw); ok {
			return str
		}
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if salvaged {
			if f, err := strconv.ParseFloat(n.String(), 64); err == nil {
				if b, err := json.Marshal(f); err == nil {
					return string(b)
				}
			}
		}
		return n.String()
	}
	return s
}

// jsonString unquotes a JSON string literal as encoding/json does.
func jsonString(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' &&
		bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true // nothing to unescape
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// looseText is a text field as the salvage reads it: a string, a number
// as its shortest decimal text, anything else as nothing.
type looseText string

func (t *looseText) UnmarshalJSON(raw []byte) error {
	switch raw[0] {
	case 'n': // null leaves the field as it is, as for a string
	case '"':
		s, ok := jsonString(raw)
		if !ok {
			return fmt.Errorf("bad JSON string %.40q", raw)
		}
		*t = looseText(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return fmt.Errorf("the number %.40s: %w", raw, err)
		}
		*t = looseText(strconv.FormatFloat(f, 'f', -1, 64))
	default: // true, false, an object or an array
		*t = ""
	}
	return nil
}

// The loose types below set repaired when they read a value gofeed's
// parser refuses, and never clear it: a member repeated in an item makes
// that parser refuse the item if any of its values is wrong.

// looseTags reads tags given as an array of strings, as gofeed does, or
// as one comma-separated string; any other value is no tags.
type looseTags struct {
	list     []string
	repaired bool
}

func (t *looseTags) UnmarshalJSON(raw []byte) error {
	t.list = nil
	switch raw[0] {
	case 'n':
	case '[':
		return json.Unmarshal(raw, &t.list)
	case '"':
		s, ok := jsonString(raw)
		if !ok {
			return fmt.Errorf("bad JSON string %.40q", raw)
		}
		for _, tag := range strings.Split(s, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				t.list = append(t.list, tag)
			}
		}
		t.repaired = true
	default:
		t.repaired = true
	}
	return nil
}

// looseAuthor reads an author object, as gofeed does, or a name given as
// a string.
type looseAuthor struct {
	a        *gjson.Author
	repaired bool
}

func (a *looseAuthor) UnmarshalJSON(raw []byte) error {
	a.a = nil
	switch raw[0] {
	case 'n':
		return nil
	case '"':
		s, ok := jsonString(raw)
		if !ok {
			return fmt.Errorf("bad JSON string %.40q", raw)
		}
		a.a, a.repaired = &gjson.Author{Name: s}, true
		return nil
	}
	return json.Unmarshal(raw, &a.a)
}

// looseAuthors reads an array of author objects, as gofeed does, or one
// author object.
type looseAuthors struct {
	list     []*gjson.Author
	repaired bool
}

func (a *looseAuthors) UnmarshalJSON(raw []byte) error {
	a.list = nil
	if raw[0] == '{' {
		var one *gjson.Author
		if err := json.Unmarshal(raw, &one); err != nil {
			return err
		}
		a.list, a.repaired = []*gjson.Author{one}, true
		return nil
	}
	return json.Unmarshal(raw, &a.list)
}

// cutJSON cuts a JSON object that is cut off or broken after its last
// complete member, or after the last complete element of its "items"
// array, and closes what is open there. truncated is always true: the
// document was not whole.
func cutJSON(doc []byte) (_ []byte, truncated bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if _, err := dec.Token(); err != nil { // '{'
		return []byte("{}"), true
	}
	end, closing := dec.InputOffset(), "}"
	var raw json.RawMessage
members:
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		if key, _ := t.(string); key != "items" {
			if err := dec.Decode(&raw); err != nil {
				break
			}
			end = dec.InputOffset()
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			break
		}
		// The items so far, with the members before them.
		itemsEnd := dec.InputOffset()
		for dec.More() {
			if err := dec.Decode(&raw); err != nil {
				end, closing = itemsEnd, "]}"
				break members
			}
			itemsEnd = dec.InputOffset()
		}
		if _, err := dec.Token(); err != nil { // ']'
			end, closing = itemsEnd, "]}"
			break
		}
		end = dec.InputOffset()
	}
	out := make([]byte, 0, end+2)
	out = append(out, doc[:end]...)
	return append(out, closing...), true
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
