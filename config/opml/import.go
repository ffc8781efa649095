package opml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/fetch"
)

// Entry is one leaf outline of an imported file.
type Entry struct {
	Text, Title, XMLURL, HTMLURL, URL, Type, Language string
	// Path names the categories the outline sits in ("News / Tech").
	Path string
	// TW holds the tw: attributes by local name ("kind", "page-item").
	TW map[string]string
}

// inOutline reads any outline: attribute names are matched without
// regard to case (xmlUrl, xmlURL and xmlurl are all seen in the wild).
type inOutline struct {
	Attrs    []xml.Attr  `xml:",any,attr"`
	Outlines []inOutline `xml:"outline"`
}

func (o inOutline) attr(name string) string {
	for _, a := range o.Attrs {
		if !isTW(a.Name) && strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// isTW reports whether an attribute is one of ours: in our namespace, or
// written with the tw prefix by a tool that dropped the declaration.
func isTW(n xml.Name) bool { return n.Space == Namespace || n.Space == "tw" }

// tw returns the tw: attributes by local name.
func (o inOutline) tw() map[string]string {
	m := map[string]string{}
	for _, a := range o.Attrs {
		if isTW(a.Name) {
			m[a.Name.Local] = strings.TrimSpace(a.Value)
		}
	}
	return m
}

// Parse reads an OPML document (any version) and returns its leaf
// outlines with nested categories flattened.
func Parse(data []byte) ([]Entry, error) {
	data, _, err := fetch.DecodeXML(data, "", "")
	if err != nil {
		return nil, err
	}
	var doc struct {
		XMLName xml.Name
		Body    struct {
			Outlines []inOutline `xml:"outline"`
		} `xml:"body"`
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false // OPML exporters write HTML entities and stray ampersands
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not OPML: %w", err)
	}
	if !strings.EqualFold(doc.XMLName.Local, "opml") {
		return nil, fmt.Errorf("not OPML: the root element is <%s>", doc.XMLName.Local)
	}
	var out []Entry
	var walk func(outs []inOutline, path []string)
	walk = func(outs []inOutline, path []string) {
		for _, o := range outs {
			e := Entry{
				Text: o.attr("text"), Title: o.attr("title"), XMLURL: o.attr("xmlUrl"), HTMLURL: o.attr("htmlUrl"),
				URL: o.attr("url"), Type: o.attr("type"), Language: o.attr("language"), Path: strings.Join(path, " / "),
				TW: o.tw(),
			}
			if len(o.Outlines) > 0 && e.XMLURL == "" && e.TW["kind"] == "" {
				walk(o.Outlines, append(path[:len(path):len(path)], firstNonEmpty(e.Title, e.Text)))
				continue
			}
			out = append(out, e)
			walk(o.Outlines, path) // an odd feed with children: keep both
		}
	}
	walk(doc.Body.Outlines, nil)
	return out, nil
}

// Source is one entry of the printed sources block.
type Source struct {
	ID       string          `yaml:"id"`
	Name     string          `yaml:"name,omitempty"`
	Kind     fetch.Kind      `yaml:"kind"`
	URL      string          `yaml:"url"`
	Schedule string          `yaml:"schedule,omitempty"`
	Lang     string          `yaml:"lang,omitempty"`
	Actor    string          `yaml:"actor,omitempty"`
	Page     *config.Page    `yaml:"page,omitempty"`
	Archive  *config.Archive `yaml:"archive,omitempty"`
	Active   *config.Window  `yaml:"active,omitempty"`
}

// carried fills what the tw: attributes of e carry.
func (s *Source) carried(e Entry) {
	tw := e.TW
	s.Schedule, s.Actor = tw["schedule"], tw["actor"]
	if tw["page-item"] != "" || tw["page-link"] != "" {
		s.Page = &config.Page{Item: tw["page-item"], Link: tw["page-link"], Title: tw["page-title"],
			Date: tw["page-date"], DateLayout: tw["page-date-layout"], Summary: tw["page-summary"]}
	}
	a := config.Archive{PageParam: tw["archive-page-param"], Sitemap: tw["archive-sitemap"], Query: tw["archive-query"]}
	a.MaxPages, _ = strconv.Atoi(tw["archive-max-pages"])
	if a != (config.Archive{}) {
		s.Archive = &a
	}
	if w := (config.Window{Days: tw["active-days"], Hours: tw["active-hours"], Timezone: tw["active-timezone"]}); w != (config.Window{}) {
		s.Active = &w
	}
}

// Import turns OPML entries into feed sources with unique ids,
// skipping what has no feed URL and what the config watches already.
func Import(entries []Entry, existing []config.Source) ([]Source, []string) {
	taken := map[string]bool{}
	have := map[string]string{}
	for _, s := range existing {
		taken[s.ID] = true
		have[s.URL] = s.ID
	}
	var out []Source
	var warnings []string
	for _, e := range entries {
		name := firstNonEmpty(e.Title, e.Text)
		label := firstNonEmpty(name, e.URL, e.HTMLURL, "(untitled)")
		if e.Path != "" {
			label = e.Path + " / " + label
		}
		kind := fetch.Kind(e.TW["kind"])
		if kind == "" {
			kind = fetch.KindFeed
		}
		feedURL := e.XMLURL
		if kind != fetch.KindFeed {
			feedURL = firstNonEmpty(e.URL, e.XMLURL) // pages and treaty documents, as export writes them
		}
		if feedURL == "" {
			if e.URL != "" || e.HTMLURL != "" {
				warnings = append(warnings, fmt.Sprintf("%q skipped: no xmlUrl (a page without a feed needs CSS selectors: add it by hand as kind: page)", label))
			} else {
				warnings = append(warnings, fmt.Sprintf("%q skipped: no xmlUrl", label))
			}
			continue
		}
		u, err := url.Parse(feedURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			warnings = append(warnings, fmt.Sprintf("%q skipped: xmlUrl %q is not an absolute http(s) URL", label, feedURL))
			continue
		}
		if id, ok := have[feedURL]; ok {
			warnings = append(warnings, fmt.Sprintf("%q skipped: the config has it already as source %s", label, id))
			continue
		}
		have[feedURL] = ""
		// The id the source had, when it came from treatywatch and is free.
		base := e.TW["id"]
		if base == "" || SourceID(base) != base {
			base = firstNonEmpty(SourceID(name), SourceID(strings.TrimPrefix(u.Hostname(), "www.")), "source")
		}
		id := UniqueID(base, taken)
		taken[id] = true
		s := Source{ID: id, Name: name, Kind: kind, URL: feedURL}
		s.carried(e)
		if tag, err := language.Parse(e.Language); err == nil && e.Language != "" {
			s.Lang = tag.String()
		}
		out = append(out, s)
	}
	return out, warnings
}

// SourceID makes an id out of a title: accents dropped, lower case,
// [a-z0-9._-] only, other runs as one "-", at most 64 characters,
// starting with a letter or digit. It returns "" when nothing is left
// (a title in another script).
func SourceID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	id := strings.TrimLeft(b.String(), "._")
	if len(id) > 64 {
		id = id[:64]
	}
	return strings.TrimRight(id, "-._")
}

// UniqueID appends -2, -3… to base until the id is free.
func UniqueID(base string, taken map[string]bool) string {
	if !taken[base] {
		return base
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		b := base
		if len(b)+len(suffix) > 64 {
			b = strings.TrimRight(b[:64-len(suffix)], "-._")
		}
		if id := b + suffix; !taken[id] {
			return id
		}
	}
}

// WriteYAML prints the sources as a block ready to paste into the
// config.
func WriteYAML(w io.Writer, srcs []Source, from string) error {
	fmt.Fprintf(w, "# %d source(s) imported from %s by treatywatch opml import.\n", len(srcs), from)
	fmt.Fprintln(w, "# Paste the entries under the sources: key of your config, then run treatywatch check.")
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		Sources []Source `yaml:"sources"`
	}{srcs}); err != nil {
		return fmt.Errorf("opml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("opml: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
