package opml

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/fetch"
)

// Namespace is the namespace of the attributes that carry what OPML has no
// place for (written with the prefix "tw").
const Namespace = "https://github.com/treatywatch/treatywatch/opml"

// Outline is an OPML outline as Export writes it. The tw: attributes
// keep a source's id, kind, schedule, actor, page selectors, archive and
// active window, so that an import gives back the same source.
type Outline struct {
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

	Outlines []Outline `xml:"outline"`
}

// Document is an OPML document as Export writes it.
type Document struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	NS      string   `xml:"xmlns:tw,attr,omitempty"`
	Head    struct {
		Title       string `xml:"title"`
		DateCreated string `xml:"dateCreated,omitempty"`
		Docs        string `xml:"docs,omitempty"`
	} `xml:"head"`
	Body struct {
		Outlines []Outline `xml:"outline"`
	} `xml:"body"`
}

// Export writes sources as an OPML 2.0 subscription list: feeds as
// type="rss" outlines, page sources as type="link".
func Export(w io.Writer, srcs []config.Source, title string, now time.Time) error {
	var doc Document
	doc.Version = "2.0"
	doc.NS = Namespace
	doc.Head.Title = title
	doc.Head.DateCreated = now.UTC().Format(time.RFC1123Z)
	doc.Head.Docs = "https://opml.org/spec2.opml"
	for _, s := range srcs {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		o := Outline{Text: name, Title: name, Language: s.Lang, ID: s.ID, Kind: string(s.Kind), Schedule: s.Schedule, Actor: s.Actor}
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
