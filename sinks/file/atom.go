package file

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/sinks"
)

// Identifiers in the Atom feed. Each event gets its own entry id, so a
// new label on an old article is a new entry that readers show.
const (
	AtomEntryIDPrefix = "urn:treatywatch:event:"
	AtomFeedIDPrefix  = "urn:treatywatch:feed:"
	// AtomTopicScheme and AtomStanceScheme tell topic categories from the
	// stance category.
	AtomTopicScheme  = "urn:treatywatch:topic"
	AtomStanceScheme = "urn:treatywatch:stance"
)

// atomSummaryRunes caps the item summary quoted in an entry.
const atomSummaryRunes = 600

type atomFeed struct {
	XMLName   xml.Name      `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string        `xml:"id"`
	Title     atomText      `xml:"title"`
	Updated   string        `xml:"updated"`
	Links     []atomLink    `xml:"link"`
	Authors   []atomPerson  `xml:"author"`
	Generator atomGenerator `xml:"generator"`
	Entries   []atomEntry   `xml:"entry"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Links      []atomLink     `xml:"link"`
	Published  string         `xml:"published,omitempty"`
	Updated    string         `xml:"updated"`
	Authors    []atomPerson   `xml:"author"`
	Summary    atomText       `xml:"summary"`
	Categories []atomCategory `xml:"category"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomGenerator struct {
	URI  string `xml:"uri,attr,omitempty"`
	Name string `xml:",chardata"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

// atomFile keeps the newest records as an Atom feed, rewritten whole and
// atomically on every write.
type atomFile struct {
	s       *Sink
	limit   int
	title   string
	selfURL string
	now     func() time.Time
	exists  bool
	entries []atomEntry // oldest first
	ids     map[string]struct{}
}

func openAtom(s *Sink, opts Options) (*atomFile, error) {
	a := &atomFile{
		s:       s,
		limit:   opts.AtomLimit,
		title:   opts.FeedTitle,
		selfURL: opts.FeedURL,
		now:     opts.Now,
		ids:     make(map[string]struct{}),
	}
	if a.title == "" {
		a.title = "treatywatch: " + s.name
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, s.errorf("read: %w", err)
	}
	a.exists = true
	if len(bytes.TrimSpace(b)) == 0 {
		return a, nil
	}
	var f atomFeed
	if err := xml.Unmarshal(b, &f); err != nil {
		return nil, s.errorf("read: not an Atom feed this sink wrote: %w", err)
	}
	for i := len(f.Entries) - 1; i >= 0; i-- {
		e := f.Entries[i]
		id, ok := strings.CutPrefix(e.ID, AtomEntryIDPrefix)
		if !ok {
			continue
		}
		if id, err = url.PathUnescape(id); err != nil {
			continue
		}
		if _, dup := a.ids[id]; dup {
			continue
		}
		a.ids[id] = struct{}{}
		a.entries = append(a.entries, e)
	}
	a.trim()
	return a, nil
}

func (a *atomFile) write(ctx context.Context, envs []sinks.Envelope) error {
	updated := a.now().UTC().Format(time.RFC3339)
	added := make([]string, 0, len(envs))
	entries := a.entries
	for _, env := range envs {
		if _, ok := a.ids[env.EventID]; ok {
			continue
		}
		a.ids[env.EventID] = struct{}{}
		added = append(added, env.EventID)
		entries = append(entries, atomEntryOf(env, updated))
	}
	if len(added) == 0 && a.exists {
		return nil
	}
	forget := func() {
		for _, id := range added {
			delete(a.ids, id)
		}
	}
	if err := ctx.Err(); err != nil {
		forget()
		return a.s.errorf("write: %w", err)
	}
	kept := entries
	if len(kept) > a.limit {
		kept = kept[len(kept)-a.limit:]
	}
	if err := a.save(kept, updated); err != nil {
		forget()
		return err
	}
	a.entries = entries
	a.trim()
	a.exists = true
	return nil
}

// trim drops the oldest entries beyond the limit, and their ids.
func (a *atomFile) trim() {
	if len(a.entries) <= a.limit {
		return
	}
	for _, e := range a.entries[:len(a.entries)-a.limit] {
		id, _ := strings.CutPrefix(e.ID, AtomEntryIDPrefix)
		if id, err := url.PathUnescape(id); err == nil {
			delete(a.ids, id)
		}
	}
	a.entries = append([]atomEntry(nil), a.entries[len(a.entries)-a.limit:]...)
}

// save writes the feed to a temporary file, syncs it and renames it over
// the old one, so a reader or a crash sees the old feed or the new one.
func (a *atomFile) save(entries []atomEntry, now string) error {
	feed := atomFeed{
		ID:        AtomFeedIDPrefix + url.PathEscape(a.s.name),
		Title:     atomText{Type: "text", Body: a.title},
		Updated:   now,
		Authors:   []atomPerson{{Name: "treatywatch"}},
		Generator: atomGenerator{URI: "https://github.com/treatywatch/treatywatch", Name: "treatywatch"},
	}
	if n := len(entries); n > 0 {
		feed.Updated = entries[n-1].Updated
	}
	if a.selfURL != "" {
		feed.Links = append(feed.Links, atomLink{Rel: "self", Href: a.selfURL})
	}
	feed.Entries = make([]atomEntry, len(entries))
	for i, e := range entries {
		feed.Entries[len(entries)-1-i] = e // newest first
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		return a.s.errorf("encode feed: %w", err)
	}
	buf.WriteByte('\n')

	tmp := a.s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return a.s.errorf("write: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		os.Remove(tmp)
		return a.s.errorf("write: %w", err)
	}
	if err := a.s.syncFile(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return a.s.errorf("sync: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return a.s.errorf("close: %w", err)
	}
	if err := os.Rename(tmp, a.s.path); err != nil {
		os.Remove(tmp)
		return a.s.errorf("replace: %w", err)
	}
	if err := syncDir(filepath.Dir(a.s.path)); err != nil {
		return a.s.errorf("sync directory: %w", err)
	}
	return nil
}

func atomEntryOf(env sinks.Envelope, updated string) atomEntry {
	e := atomEntry{
		ID:      AtomEntryIDPrefix + url.PathEscape(env.EventID),
		Title:   atomText{Type: "text", Body: env.Item.Title},
		Updated: updated,
		Summary: atomText{Type: "text", Body: atomSummary(env)},
	}
	if e.Title.Body == "" {
		e.Title.Body = env.Item.URL
	}
	if e.Title.Body == "" {
		e.Title.Body = "(untitled)"
	}
	if env.Item.URL != "" {
		e.Links = []atomLink{{Rel: "alternate", Href: env.Item.URL}}
	}
	if !env.Item.Published.IsZero() {
		e.Published = env.Item.Published.Format(time.RFC3339Nano)
	}
	if env.Item.Author != "" {
		e.Authors = []atomPerson{{Name: env.Item.Author}}
	}
	for _, t := range env.Labels.Topics {
		e.Categories = append(e.Categories, atomCategory{Term: string(t), Scheme: AtomTopicScheme})
	}
	if env.Labels.Stance != "" {
		e.Categories = append(e.Categories, atomCategory{Term: env.Labels.Stance, Scheme: AtomStanceScheme, Label: "stance: " + env.Labels.Stance})
	}
	return e
}

// atomSummary is the entry's text: the labels in one line, the evidence
// sentence, then the start of the item's own summary.
func atomSummary(env sinks.Envelope) string {
	var parts []string
	if env.Labels.Stance != "" {
		parts = append(parts, "Stance: "+env.Labels.Stance+".")
	}
	if len(env.Labels.Topics) > 0 {
		parts = append(parts, "Topics: "+rules.JoinTopics(env.Labels.Topics, ", ")+".")
	}
	if env.Labels.Actor != "" {
		parts = append(parts, "Actor: "+env.Labels.Actor+".")
	}
	if name := cmp.Or(env.Source.Name, env.Source.ID); name != "" {
		parts = append(parts, "Source: "+name+".")
	}
	var b strings.Builder
	b.WriteString(strings.Join(parts, " "))
	if s := env.EvidenceSentence(); s != "" {
		fmt.Fprintf(&b, "\nEvidence: “%s”", s)
	}
	if s := truncateRunes(strings.TrimSpace(env.Item.Summary), atomSummaryRunes); s != "" {
		b.WriteString("\n\n")
		b.WriteString(s)
	}
	return b.String()
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return strings.TrimSpace(s[:pos]) + "…"
		}
		i++
	}
	return s
}
