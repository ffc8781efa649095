package treaty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/redact"
)

// EntryIntoForce is how many instruments of ratification, acceptance,
// approval or accession the Convention against Cybercrime needs; it
// enters into force 90 days after the last of them (Art. 65).
const EntryIntoForce = 40

// Fetcher reads treaty status documents. It is safe for concurrent use.
type Fetcher struct {
	get fetch.Getter
	log *slog.Logger
}

var _ fetch.Fetcher = (*Fetcher)(nil)

// New returns a Fetcher that GETs through g.
func New(g fetch.Getter, log *slog.Logger) *Fetcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fetcher{get: g, log: log}
}

// Fetch reads the status document of src and returns one item per
// participant action.
func (f *Fetcher) Fetch(ctx context.Context, src fetch.Source, prev fetch.Validators) (fetch.Batch, error) {
	resp, err := f.get.Get(ctx, src, src.URL, prev)
	if err != nil {
		return fetch.Batch{}, err
	}
	b := fetch.Batch{Next: resp.Next, RetryAfter: resp.RetryAfter, NotModified: resp.NotModified}
	if resp.NotModified {
		return b, nil
	}
	b.Provenance = resp.Provenance()
	st, err := Parse(resp.Body)
	if len(st.Participant) == 0 {
		if err == nil {
			err = ErrNoTable
		}
		return fetch.Batch{}, &fetch.Error{Kind: fetch.ErrParse, URL: src.URL, Status: resp.Status, Err: err}
	}
	if err != nil {
		// Rows we could not read are left out; the rest still counts.
		f.log.Warn("treaty status: some rows were not read", "source", src.ID, "url", redact.URL(src.URL), "err", err)
	}
	b.Items = Items(st, src, b.Provenance)
	return b, nil
}

// Items turns a status into one item per participant action. The key is
// participant and action, so a new row or a new action is a new item
// and a document fetched again yields nothing new.
func Items(st Status, src fetch.Source, prov fetch.Provenance) []fetch.Item {
	name := shortTitle(st.Title)
	signatories, parties := st.Counts()
	status := fmt.Sprintf(statusPrefix+" %d signatories, %d parties", signatories, parties)
	if parties < EntryIntoForce {
		status += fmt.Sprintf("; it enters into force 90 days after the %dth instrument of ratification, acceptance, approval or accession (%d more needed).",
			EntryIntoForce, EntryIntoForce-parties)
	} else {
		status += fmt.Sprintf("; the %dth instrument has been deposited: it enters into force 90 days after it.", EntryIntoForce)
	}
	page := detailsURL(src.URL)
	var out []fetch.Item
	for _, e := range st.Events() {
		title := fmt.Sprintf("%s %s the %s", e.Participant, e.Action.Verb(), name)
		out = append(out, fetch.Item{
			Key:         keyPrefix + strings.ToLower(e.Participant) + ":" + string(e.Action),
			SourceID:    src.ID,
			SourceName:  src.Name,
			SourceActor: src.Actor,
			URL:         page,
			Title:       title,
			Summary:     fmt.Sprintf("%s on %s (%s). %s", title, e.Date.Format("2 January 2006"), e.Action, status),
			Lang:        "en",
			Author:      "UN Treaty Collection",
			Published:   e.Date,
			Fetched:     prov.FetchedAt,
			Provenance:  prov,
			Treaty: &fetch.TreatyEvent{Participant: e.Participant, Action: string(e.Action), Date: e.Date,
				Signatories: signatories, Parties: parties, Status: status},
		})
	}
	return out
}

const (
	keyPrefix    = "untc:"
	statusPrefix = "Status per the UN Treaty Collection:"
)

// StatusOf returns the depositary's status line an event item carries
// ("Status per the UN Treaty Collection: 74 signatories, 3 parties; ...");
// ok is false for items that are not treaty status events.
func StatusOf(it fetch.Item) (status string, ok bool) {
	if it.Treaty == nil {
		return "", false
	}
	return it.Treaty.Status, true
}

// shortTitle is the treaty's name without its subtitle: the depositary's
// title of the Convention runs on after a semicolon.
func shortTitle(t string) string {
	if i := strings.IndexAny(t, ";:"); i > 0 {
		t = t[:i]
	}
	t = strings.TrimSpace(t)
	if t == "" {
		return "treaty"
	}
	return t
}

var reMTDSG = regexp.MustCompile(`(?i)/Chapter(?:%20|\s)+([IVXLC]+)/([IVXLC]+-\d+[A-Za-z0-9-]*)\.[a-z]{2}\.xml$`)

// detailsURL is the human-readable status page of an MTDSG XML document,
// or the document itself when its URL has another shape.
func detailsURL(xmlURL string) string {
	m := reMTDSG.FindStringSubmatch(xmlURL)
	if m == nil {
		return xmlURL
	}
	ch, err := roman(m[1])
	if err != nil {
		return xmlURL
	}
	return "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=" + m[2] + "&chapter=" + strconv.Itoa(ch) + "&clang=_en"
}

func roman(s string) (int, error) {
	val := map[byte]int{'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100}
	s = strings.ToUpper(s)
	n := 0
	for i := 0; i < len(s); i++ {
		v, ok := val[s[i]]
		if !ok {
			return 0, errors.New("not a roman numeral")
		}
		if i+1 < len(s) && val[s[i+1]] > v {
			n -= v
		} else {
			n += v
		}
	}
	return n, nil
}
