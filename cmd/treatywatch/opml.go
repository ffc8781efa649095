package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/fetch"
)

const opmlUsage = `Usage:
  treatywatch opml export [--config FILE]          print the config's sources as OPML 2.0
  treatywatch opml import [--config FILE] FILE|-   print an OPML file's feeds as a YAML sources: block
`

// cmdOPML imports or exports sources as OPML.
func cmdOPML(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "export" && args[0] != "import") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, opmlUsage)
			return 0
		}
		fmt.Fprint(stderr, opmlUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("opml", flag.ContinueOnError)
	var c common
	c.register(fs)
	title := fs.String("title", "treatywatch sources", "export: the OPML document's title")
	if code := parseFlags(fs, args[1:], stderr); code >= 0 {
		return code
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return exitErr(stderr, "opml", err)
	}
	if sub == "export" {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "treatywatch opml export: unexpected argument %q\n", fs.Arg(0))
			return 2
		}
		if err := exportOPML(stdout, cfg.Sources, *title, time.Now()); err != nil {
			return exitErr(stderr, "opml", err)
		}
		return 0
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "treatywatch opml import: give one OPML file, or - for standard input")
		return 2
	}
	var data []byte
	if name := fs.Arg(0); name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return exitErr(stderr, "opml", err)
	}
	feeds, err := parseOPML(data)
	if err != nil {
		return exitErr(stderr, "opml", fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	srcs, warnings := importSources(feeds, cfg.Sources)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "treatywatch opml import: %s\n", w)
	}
	if err := writeSourcesYAML(stdout, srcs, fs.Arg(0)); err != nil {
		return exitErr(stderr, "opml", err)
	}
	return 0
}

// opmlNS is the namespace of the attributes that carry what OPML has no
// place for (written with the prefix "tw").
const opmlNS = "https://github.com/treatywatch/treatywatch/opml"

// outline is an OPML outline as written by export. The tw: attributes
// keep a source's id, kind, schedule, actor, page selectors, archive and
// active window, so that an import gives back the same source.
type outline struct {
	Type     string `xml:"type,attr,omitempty"`
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr,omitempty"`
	XMLURL   string `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string `xml:"htmlUrl,attr,omitempty"`
	URL      string `xml:"url,attr,omitempty"`
	Language string `xml:"language,attr,omitempty"`

	ID           string `xml:"tw:id,attr,omitempty"`
	Kind         string `xml:"tw:kind,attr,omitempty"`
	Schedule     string `xml:"tw:schedule,attr,omitempty"`
	Actor        string `xml:"tw:actor,attr,omitempty"`
	PageItem     string `xml:"tw:page-item,attr,omitempty"`
	PageLink     string `xml:"tw:page-link,attr,omitempty"`
	PageTitle    string `xml:"tw:page-title,attr,omitempty"`
	PageDate     string `xml:"tw:page-date,attr,omitempty"`
	PageLayout   string `xml:"tw:page-date-layout,attr,omitempty"`
	PageSummary  string `xml:"tw:page-summary,attr,omitempty"`
	ArchiveParam string `xml:"tw:archive-page-param,attr,omitempty"`
	ArchivePages string `xml:"tw:archive-max-pages,attr,omitempty"`
	ArchiveMap   string `xml:"tw:archive-sitemap,attr,omitempty"`
	ArchiveQuery string `xml:"tw:archive-query,attr,omitempty"`
	ActiveDays   string `xml:"tw:active-days,attr,omitempty"`
	ActiveHours  string `xml:"tw:active-hours,attr,omitempty"`
	ActiveZone   string `xml:"tw:active-timezone,attr,omitempty"`

	Outlines []outline `xml:"outline"`
}

type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	NS      string   `xml:"xmlns:tw,attr,omitempty"`
	Head    struct {
		Title       string `xml:"title"`
		DateCreated string `xml:"dateCreated,omitempty"`
		Docs        string `xml:"docs,omitempty"`
	} `xml:"head"`
	Body struct {
		Outlines []outline `xml:"outline"`
	} `xml:"body"`
}

// exportOPML writes sources as an OPML 2.0 subscription list: feeds as
// type="rss" outlines, page sources as type="link".
func exportOPML(w io.Writer, srcs []config.Source, title string, now time.Time) error {
	var doc opmlDoc
	doc.Version = "2.0"
	doc.NS = opmlNS
	doc.Head.Title = title
	doc.Head.DateCreated = now.UTC().Format(time.RFC1123Z)
	doc.Head.Docs = "https://opml.org/spec2.opml"
	for _, s := range srcs {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		o := outline{Text: name, Title: name, Language: s.Lang, ID: s.ID, Kind: s.Kind, Schedule: s.Schedule, Actor: s.Actor}
		if s.Kind == fetch.KindFeed || s.Kind == "" {
			o.Type, o.XMLURL, o.HTMLURL = "rss", s.URL, siteRoot(s.URL)
		} else {
			// A page or a treaty status document is no feed a reader
			// could subscribe to.
			o.Type, o.URL = "link", s.URL
		}
		if p := s.Page; p != nil {
			o.PageItem, o.PageLink, o.PageTitle, o.PageDate, o.PageLayout, o.PageSummary = p.Item, p.Link, p.Title, p.Date, p.DateLayout, p.Summary
		}
		if a := s.Archive; a != nil {
			o.ArchiveParam, o.ArchiveMap, o.ArchiveQuery = a.PageParam, a.Sitemap, a.Query
			if a.MaxPages != 0 {
				o.ArchivePages = strconv.Itoa(a.MaxPages)
			}
		}
		if w := s.Active; w != nil {
			o.ActiveDays, o.ActiveHours, o.ActiveZone = w.Days, w.Hours, w.Timezone
		}
		doc.Body.Outlines = append(doc.Body.Outlines, o)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("opml: %w", err)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	out = append(out, '\n')
	_, err = w.Write(out)
	return err
}

// siteRoot is the scheme and host of a feed URL: the best htmlUrl the
// config knows.
func siteRoot(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/"
}

// opmlEntry is one leaf outline of an imported file.
type opmlEntry struct {
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
func isTW(n xml.Name) bool { return n.Space == opmlNS || n.Space == "tw" }

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

// parseOPML reads an OPML document (any version) and returns its leaf
// outlines with nested categories flattened.
func parseOPML(data []byte) ([]opmlEntry, error) {
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
	var out []opmlEntry
	var walk func(outs []inOutline, path []string)
	walk = func(outs []inOutline, path []string) {
		for _, o := range outs {
			e := opmlEntry{
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

// importedSource is one entry of the printed sources block.
type importedSource struct {
	ID       string          `yaml:"id"`
	Name     string          `yaml:"name,omitempty"`
	Kind     string          `yaml:"kind"`
	URL      string          `yaml:"url"`
	Schedule string          `yaml:"schedule,omitempty"`
	Lang     string          `yaml:"lang,omitempty"`
	Actor    string          `yaml:"actor,omitempty"`
	Page     *config.Page    `yaml:"page,omitempty"`
	Archive  *config.Archive `yaml:"archive,omitempty"`
	Active   *config.Window  `yaml:"active,omitempty"`
}

// carried fills what the tw: attributes of e carry.
func (s *importedSource) carried(e opmlEntry) {
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

// importSources turns OPML entries into feed sources with unique ids,
// skipping what has no feed URL and what the config watches already.
func importSources(entries []opmlEntry, existing []config.Source) ([]importedSource, []string) {
	taken := map[string]bool{}
	have := map[string]string{}
	for _, s := range existing {
		taken[s.ID] = true
		have[s.URL] = s.ID
	}
	var out []importedSource
	var warnings []string
	for _, e := range entries {
		name := firstNonEmpty(e.Title, e.Text)
		label := firstNonEmpty(name, e.URL, e.HTMLURL, "(untitled)")
		if e.Path != "" {
			label = e.Path + " / " + label
		}
		kind := e.TW["kind"]
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
		if base == "" || sourceID(base) != base {
			base = firstNonEmpty(sourceID(name), sourceID(strings.TrimPrefix(u.Hostname(), "www.")), "source")
		}
		id := uniqueID(base, taken)
		taken[id] = true
		s := importedSource{ID: id, Name: name, Kind: kind, URL: feedURL}
		s.carried(e)
		if tag, err := language.Parse(e.Language); err == nil && e.Language != "" {
			s.Lang = tag.String()
		}
		out = append(out, s)
	}
	return out, warnings
}

// sourceID makes an id out of a title: accents dropped, lower case,
// [a-z0-9._-] only, other runs as one "-", at most 64 characters,
// starting with a letter or digit. It returns "" when nothing is left
// (a title in another script).
func sourceID(s string) string {
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

// uniqueID appends -2, -3… to base until the id is free.
func uniqueID(base string, taken map[string]bool) string {
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

// writeSourcesYAML prints the sources as a block ready to paste into the
// config.
func writeSourcesYAML(w io.Writer, srcs []importedSource, from string) error {
	fmt.Fprintf(w, "# %d source(s) imported from %s by treatywatch opml import.\n", len(srcs), from)
	fmt.Fprintln(w, "# Paste the entries under the sources: key of your config, then run treatywatch check.")
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		Sources []importedSource `yaml:"sources"`
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
