package treaty

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
)

// Action is what a participant did.
type Action string

// Actions. A participant is a party once it did one of the consent
// actions (ratification, acceptance, approval, accession).
const (
	Signature    Action = "signature"
	Ratification Action = "ratification"
	Acceptance   Action = "acceptance"
	Approval     Action = "approval"
	Accession    Action = "accession"
	Succession   Action = "succession"
)

// Consent reports whether the action binds the participant.
func (a Action) Consent() bool { return a != Signature }

// Verb is the action as a past-tense verb phrase.
func (a Action) Verb() string {
	switch a {
	case Signature:
		return "signed"
	case Ratification:
		return "ratified"
	case Acceptance:
		return "accepted"
	case Approval:
		return "approved"
	case Accession:
		return "acceded to"
	case Succession:
		return "succeeded to"
	}
	return string(a)
}

// Event is one dated action of one participant.
type Event struct {
	Participant string
	Action      Action
	Date        time.Time // midnight UTC of the day
}

// Status is what the depositary's document says.
type Status struct {
	Title       string
	Participant []Participant
}

// Participant is one row of the participants table.
type Participant struct {
	Name      string
	Signature time.Time
	Consent   time.Time
	// ConsentAction is the kind of Consent (zero Consent: empty).
	ConsentAction Action
}

// Events returns every dated action of the status, in row order.
func (s Status) Events() []Event {
	var out []Event
	for _, p := range s.Participant {
		if !p.Signature.IsZero() {
			out = append(out, Event{p.Name, Signature, p.Signature})
		}
		if !p.Consent.IsZero() {
			out = append(out, Event{p.Name, p.ConsentAction, p.Consent})
		}
	}
	return out
}

// Counts returns how many participants signed and how many are parties.
func (s Status) Counts() (signatories, parties int) {
	for _, p := range s.Participant {
		if !p.Signature.IsZero() {
			signatories++
		}
		if !p.Consent.IsZero() {
			parties++
		}
	}
	return signatories, parties
}

// The document's table, as far as we read it: any <Participants> element
// with a table of header and body rows of entries.
type xmlEntry struct {
	Text string `xml:",innerxml"`
}

type xmlRow struct {
	Entries []xmlEntry `xml:"Entry"`
}

type xmlParticipants struct {
	Head []xmlRow `xml:"Table>TGroup>Thead>Row"`
	Body []xmlRow `xml:"Table>TGroup>Tbody>Rows>Row"`
}

// ErrNoTable means the document has no participants table: the depositary
// changed its format, or the URL is not a status document.
var ErrNoTable = errors.New("treaty: no participants table in the document (is the URL a UN Treaty Collection MTDSG XML document?)")

// Parse reads a status document. Rows it cannot read (an unknown date)
// are skipped and reported in the joined error next to the status.
func Parse(body []byte) (Status, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = charset.NewReaderLabel // the depositary serves ISO-8859-1
	var st Status
	var parts *xmlParticipants
	for parts == nil {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return st, ErrNoTable
		}
		if err != nil {
			return st, fmt.Errorf("treaty: read document: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "Title", "Name":
			if st.Title == "" {
				var t xmlEntry
				if err := dec.DecodeElement(&t, &se); err == nil {
					st.Title = cleanText(t.Text)
				}
			}
		case "Participants":
			parts = &xmlParticipants{}
			if err := dec.DecodeElement(parts, &se); err != nil {
				return st, fmt.Errorf("treaty: read participants table: %w", err)
			}
		}
	}
	if len(parts.Head) == 0 || len(parts.Body) == 0 {
		return st, ErrNoTable
	}
	cols := columnsOf(parts.Head[0])
	if cols.participant < 0 || cols.signature < 0 && cols.consent < 0 {
		return st, fmt.Errorf("treaty: participants table has unexpected columns %q", headers(parts.Head[0]))
	}
	var errs []error
	for i, row := range parts.Body {
		p, err := cols.participantOf(row)
		if err != nil {
			errs = append(errs, fmt.Errorf("treaty: row %d: %w", i+1, err))
			continue
		}
		if p.Name != "" {
			st.Participant = append(st.Participant, p)
		}
	}
	return st, errors.Join(errs...)
}

type columns struct{ participant, signature, consent int }

func headers(r xmlRow) []string {
	var hs []string
	for _, e := range r.Entries {
		hs = append(hs, cleanText(e.Text))
	}
	return hs
}

// columnsOf finds the columns by their headers ("Participant",
// "Signature", "Ratification, Acceptance(A), Approval(AA), Accession(a)").
func columnsOf(head xmlRow) columns {
	c := columns{-1, -1, -1}
	for i, h := range headers(head) {
		h = strings.ToLower(h)
		switch {
		case strings.HasPrefix(h, "participant"):
			c.participant = i
		case strings.HasPrefix(h, "signature") && !strings.Contains(h, "ratification"):
			c.signature = i
		case strings.Contains(h, "ratification") || strings.Contains(h, "accession") || strings.Contains(h, "acceptance"):
			c.consent = i
		}
	}
	return c
}

func (c columns) participantOf(row xmlRow) (Participant, error) {
	cell := func(i int) string {
		if i < 0 || i >= len(row.Entries) {
			return ""
		}
		return cleanText(row.Entries[i].Text)
	}
	p := Participant{Name: stripFootnote(cell(c.participant))}
	var err error
	if s := cell(c.signature); s != "" {
		if p.Signature, _, err = parseDate(s); err != nil {
			return p, fmt.Errorf("%s: signature: %w", p.Name, err)
		}
	}
	if s := cell(c.consent); s != "" {
		var mark string
		if p.Consent, mark, err = parseDate(s); err != nil {
			return p, fmt.Errorf("%s: consent: %w", p.Name, err)
		}
		p.ConsentAction = consentAction(mark)
	}
	return p, nil
}

var (
	reTags        = regexp.MustCompile(`<[^>]*>`)
	reSuperscript = regexp.MustCompile(`(?i)<superscript>[^<]*</superscript>`)
	reSpace       = regexp.MustCompile(`\s+`)
	reFootnote    = regexp.MustCompile(`(?:\s*\d+(?:\s*,\s*\d+)*)$`)
	// a date and an optional mark: "25 Oct 2025", "10 Feb 2026 a", "3 Mar 2026 AA"
	reDate = regexp.MustCompile(`^(\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4})\s*(AA|A|a|d)?\s*(?:\d+(?:\s*,\s*\d+)*)?$`)
)

// cleanText turns an entry's inner XML into text: entities decoded,
// footnote markers (<superscript>, as elements or escaped in the text)
// and other tags removed, spaces collapsed.
func cleanText(inner string) string {
	s := inner
	d := xml.NewDecoder(strings.NewReader("<x>" + inner + "</x>"))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	var v struct {
		Text string `xml:",chardata"`
	}
	if err := d.Decode(&v); err == nil {
		s = v.Text
	}
	s = reSuperscript.ReplaceAllString(s, "")
	s = reTags.ReplaceAllString(s, "")
	return strings.TrimSpace(reSpace.ReplaceAllString(s, " "))
}

// stripFootnote drops trailing footnote numbers from a participant name
// ("United States of America 7" -> "United States of America").
func stripFootnote(name string) string {
	return strings.TrimSpace(reFootnote.ReplaceAllString(name, ""))
}

func parseDate(s string) (time.Time, string, error) {
	m := reDate.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return time.Time{}, "", fmt.Errorf("unknown date %q", s)
	}
	d := strings.TrimSuffix(m[1], ".")
	for _, layout := range []string{"2 Jan 2006", "2 January 2006"} {
		if t, err := time.Parse(layout, reSpace.ReplaceAllString(d, " ")); err == nil {
			return t, m[2], nil
		}
	}
	return time.Time{}, "", fmt.Errorf("unknown date %q", s)
}

// consentAction reads the depositary's marks: A acceptance, AA approval,
// a accession, d succession, none ratification.
func consentAction(mark string) Action {
	switch mark {
	case "A":
		return Acceptance
	case "AA":
		return Approval
	case "a":
		return Accession
	case "d":
		return Succession
	}
	return Ratification
}
