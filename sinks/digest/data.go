package digest

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/trend"
	"github.com/treatywatch/treatywatch/sinks"
)

// Data is what every template, built-in or user-supplied, is executed
// with. Times are in the sink's Location.
type Data struct {
	// Name is the sink name, ID the digest id (see Message.ID).
	Name, ID string
	// Subject is the subject line of the message.
	Subject string
	// Start and End bound the window: records queued after Start and at
	// or before End.
	Start, End time.Time
	// Date is End as 2006-01-02.
	Date string
	// Total is the number of distinct records in the window; Empty is
	// Total == 0.
	Total int
	Empty bool
	// Stances counts the window's records by stance, in the fixed order
	// critical, supportive, mixed, neutral, unlabelled; zero counts are left
	// out.
	Stances []StanceCount
	// Topics are the sections: the rule pack's topics in its taxonomy's
	// order, then any other topic id, then "untagged"; topics without
	// records are left out. An item tagged with several topics is listed in each.
	Topics []Topic
	// Changes compares the window with the previous digest.
	Changes Changes
	// Spikes are the topics and actors far above their trailing mean in
	// the stored history (see package trend), largest first.
	Spikes []Spike
	// Failing lists the sources whose state is "failing" or "blocked".
	Failing []Failing
	// Treaty counts signature and ratification mentions; nil when no
	// record concerns them.
	Treaty *TreatyStatus
	// PerTopic is how many items a topic section lists at most.
	PerTopic int
}

// StanceCount is how many records have one stance, with the colours the
// built-in template uses for it.
type StanceCount struct {
	Stance string // critical, supportive, mixed, neutral, unlabelled
	Label  string // "Critical"
	Count  int
	Color  string // text/border colour, e.g. "#b42318"
	Bg     string // light background colour
}

// Topic is one section of the digest.
type Topic struct {
	// ID is the taxonomy id, or "untagged"; a string, as for every field
	// templates read, so that they can hand it to string functions.
	ID    string
	Label string // "Human rights": the rule pack's label of the topic
	// Count is how many records carry the topic; Stances splits it.
	Count   int
	Stances []StanceCount
	// Items are the top records (highest score, then newest), grouped by
	// stance in the order of Stances; More is Count - len(Items).
	Items []Entry
	More  int
}

// Entry is one record as the digest shows it.
type Entry struct {
	EventID string
	Title   string
	// URL is the item's link when it is an http(s) URL, else empty.
	URL    string
	Source string // source display name, else source id
	Actor  string // the classifier's actor, if any
	// Date is the published (else fetched) date as "2 Jan 2006";
	// Published is the time itself.
	Date      string
	Published time.Time
	Stance    string // critical, supportive, mixed, neutral, unlabelled
	Label     string // "Critical"
	Color, Bg string
	// Evidence is one sentence that supports the label (a stance match
	// first), else the start of the summary; at most ~280 characters.
	Evidence string
	Score    float64
	// AlsoIn are the labels of the item's other topics.
	AlsoIn []string
	// AlsoReportedBy are the other sources that carried the same story
	// (same URL or headline); it is counted once.
	AlsoReportedBy []string
}

// Changes is what changed since the previous digest.
type Changes struct {
	// HasPrevious is false for the first digest of a sink; then Topics
	// compares with zero and NewActors is empty.
	HasPrevious bool
	Previous    time.Time // end of the previous digest's window
	PrevTotal   int
	TotalDelta  string // "+3", "-2", "±0"
	// Topics lists every topic present now or in the previous digest.
	Topics []TopicDelta
	// NewActors are actors in this window that the previous digest did
	// not name.
	NewActors []string
}

// TopicDelta is the volume of one topic now and in the previous digest.
type TopicDelta struct {
	ID, Label   string
	Now, Before int
	Delta       string // "+3", "-2", "±0"
	// Spike is set when the topic is among Data.Spikes.
	Spike bool
}

// Spike is a topic or an actor whose volume in the window is far above
// its mean over the trailing days.
type Spike struct {
	Kind  string // "topic" or "actor"
	Name  string // topic id or actor name
	Label string // "Human rights", or the actor
	Count int
	// Mean is the trailing mean for a window of this length.
	Mean float64
}

// setSpikes fills Spikes and flags the topics among them.
func (d *Data) setSpikes(spikes []trend.Spike, tax rules.Taxonomy) {
	d.Spikes = nil
	flagged := map[string]bool{}
	for _, sp := range spikes {
		label := sp.Name
		if sp.Kind == trend.KindTopic {
			label = topicLabel(tax, rules.Topic(sp.Name))
			flagged[sp.Name] = true
		}
		d.Spikes = append(d.Spikes, Spike{Kind: sp.Kind, Name: sp.Name, Label: label, Count: sp.Count, Mean: sp.Mean})
	}
	for i := range d.Changes.Topics {
		d.Changes.Topics[i].Spike = flagged[d.Changes.Topics[i].ID]
	}
}

// Failing is a source the digest reports as failing or blocked.
type Failing struct {
	ID, Name    string
	State       string
	Failures    int
	LastError   string
	LastSuccess string // "2 Jan 2006 15:04", or "never"
}

// TreatyStatus counts, among the window's records tagged "ratification",
// the ones that mention signature, ratification (or accession) and entry
// into force. These are mentions in the news, not official figures; next
// to them, the depositary's own status when a treaty status source
// reported in the window.
type TreatyStatus struct {
	Items          int
	Signature      int
	Ratification   int
	EntryIntoForce int
	// Note is shown under the counts.
	Note string
	// Official is the depositary's own status (UN Treaty Collection), when
	// a treaty status source reported in the window: the counts of
	// signatories and parties, and the actions it recorded.
	Official []string
}

// Stats is what a digest keeps of itself for the next one's deltas.
type Stats struct {
	WindowEnd time.Time           `json:"window_end"`
	Total     int                 `json:"total"`
	Topics    map[rules.Topic]int `json:"topics"`
	Stances   map[string]int      `json:"stances"`
	Actors    []string            `json:"actors"`
}

// untagged is the section of records without a topic.
const untagged rules.Topic = "untagged"

// topicLabel is the taxonomy's label of a topic (the id of one it does
// not define).
func topicLabel(tax rules.Taxonomy, id rules.Topic) string {
	if id == untagged {
		return "Untagged"
	}
	return tax.Label(id)
}

// topicRank orders the sections: the taxonomy's topics in its order, then
// the others, then untagged.
func topicRank(tax rules.Taxonomy, id rules.Topic) int {
	if i := tax.Index(id); i >= 0 {
		return i
	}
	if id == untagged {
		return len(tax) + 1
	}
	return len(tax)
}

// compareTopics orders topics by topicRank, then by id.
func compareTopics(tax rules.Taxonomy, a, b rules.Topic) int {
	return cmp.Or(cmp.Compare(topicRank(tax, a), topicRank(tax, b)), cmp.Compare(a, b))
}

var stanceStyle = []struct{ id, label, color, bg string }{
	{string(classify.StanceCritical), "Critical", "#b42318", "#fef3f2"},
	{string(classify.StanceSupportive), "Supportive", "#067647", "#ecfdf3"},
	{string(classify.StanceMixed), "Mixed", "#b54708", "#fffaeb"},
	{string(classify.StanceNeutral), "Neutral", "#475467", "#f2f4f7"},
	{string(classify.StanceUnlabelled), "Unlabelled", "#667085", "#f9fafb"},
}

func stanceKey(s classify.Stance) string {
	switch s {
	case classify.StanceCritical, classify.StanceSupportive, classify.StanceMixed, classify.StanceNeutral:
		return string(s)
	}
	return string(classify.StanceUnlabelled)
}

func stanceRank(key string) int {
	for i, s := range stanceStyle {
		if s.id == key {
			return i
		}
	}
	return len(stanceStyle)
}

func stanceCounts(m map[string]int) []StanceCount {
	var out []StanceCount
	for _, s := range stanceStyle {
		if n := m[s.id]; n > 0 {
			out = append(out, StanceCount{Stance: s.id, Label: s.label, Count: n, Color: s.color, Bg: s.bg})
		}
	}
	return out
}

// dedupe keeps the first record of each event id, in input order.
func dedupe(recs []sinks.Record) (uniq []sinks.Record, alsoBy map[string][]string) {
	type report struct{ eventID, sourceID string }
	seen := make(map[string]bool, len(recs))
	story := make(map[string]report, len(recs)) // story key -> its first report
	alsoBy = map[string][]string{}
	uniq = make([]sinks.Record, 0, len(recs))
	for _, r := range recs {
		if r.EventID != "" {
			if seen[r.EventID] {
				continue
			}
			seen[r.EventID] = true
		}
		// One source's items are distinct by their keys (a treaty status
		// source gives many events on one page): only reports from other
		// sources join a story.
		first := ""
		keys := storyKeys(r)
		for _, k := range keys {
			if rep, ok := story[k]; ok && rep.sourceID != r.Item.SourceID {
				first = rep.eventID
				break
			}
		}
		if first != "" {
			src := cmp.Or(oneLine(r.Item.SourceName), r.Item.SourceID)
			if !slices.Contains(alsoBy[first], src) {
				alsoBy[first] = append(alsoBy[first], src)
			}
			continue
		}
		for _, k := range keys {
			if _, ok := story[k]; !ok {
				story[k] = report{r.EventID, r.Item.SourceID}
			}
		}
		uniq = append(uniq, r)
	}
	return uniq, alsoBy
}

// storyKeys identify one story across sources: the same article URL, or
// the same headline (of at least five words, so that short generic
// titles do not merge). A press release syndicated by several outlets
// (UN and UNODC releases through VNA, KUNA, WAM, Xinhua, ...) is counted
// once, with the others listed as "also reported by".
func storyKeys(r sinks.Record) []string {
	var keys []string
	if u, err := url.Parse(r.Item.URL); err == nil && u.Host != "" {
		host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
		keys = append(keys, "url:"+host+strings.TrimSuffix(u.EscapedPath(), "/")+"?"+u.RawQuery)
	}
	words := strings.FieldsFunc(strings.ToLower(r.Item.Title), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	})
	if len(words) >= 5 {
		keys = append(keys, "title:"+strings.Join(words, " "))
	}
	return keys
}

func recordTopics(r sinks.Record) []rules.Topic {
	var out []rules.Topic
	for _, t := range r.Result.Topics {
		t = rules.Topic(strings.TrimSpace(string(t)))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []rules.Topic{untagged}
	}
	return out
}

// statsOf computes the stats of a window.
func statsOf(end time.Time, recs []sinks.Record) Stats {
	st := Stats{WindowEnd: end.UTC(), Total: len(recs), Topics: map[rules.Topic]int{}, Stances: map[string]int{}}
	actors := map[string]bool{}
	for _, r := range recs {
		for _, t := range recordTopics(r) {
			st.Topics[t]++
		}
		st.Stances[stanceKey(r.Result.Stance)]++
		if a := recordActor(r); a != "" && !actors[a] {
			actors[a] = true
			st.Actors = append(st.Actors, a)
		}
	}
	slices.Sort(st.Actors)
	return st
}

func recordActor(r sinks.Record) string {
	return strings.TrimSpace(oneLine(r.Result.Actor))
}

// buildData turns a window into the template data. recs must be deduped;
// alsoBy lists, per event id, the other sources of the same story.
func (s *Sink) buildData(w sinks.Window, recs []sinks.Record, alsoBy map[string][]string, prev *Stats, health []sinks.SourceStatus) Data {
	loc := s.loc
	end := w.End.In(loc)
	d := Data{
		Name:     s.name,
		Start:    w.Start.In(loc),
		End:      end,
		Date:     end.Format("2006-01-02"),
		Total:    len(recs),
		Empty:    len(recs) == 0,
		PerTopic: s.perTopic,
	}
	st := statsOf(w.End, recs)
	d.Stances = stanceCounts(st.Stances)

	// Sections.
	byTopic := map[rules.Topic][]sinks.Record{}
	for _, r := range recs {
		for _, t := range recordTopics(r) {
			byTopic[t] = append(byTopic[t], r)
		}
	}
	ids := slices.SortedFunc(maps.Keys(byTopic), func(a, b rules.Topic) int { return compareTopics(s.tax, a, b) })
	for _, id := range ids {
		rs := byTopic[id]
		counts := map[string]int{}
		for _, r := range rs {
			counts[stanceKey(r.Result.Stance)]++
		}
		top := slices.Clone(rs)
		slices.SortStableFunc(top, func(a, b sinks.Record) int {
			return cmp.Or(
				cmp.Compare(b.Result.Score, a.Result.Score),
				itemTime(b).Compare(itemTime(a)),
			)
		})
		if len(top) > s.perTopic {
			top = top[:s.perTopic]
		}
		slices.SortStableFunc(top, func(a, b sinks.Record) int {
			return cmp.Compare(stanceRank(stanceKey(a.Result.Stance)), stanceRank(stanceKey(b.Result.Stance)))
		})
		tp := Topic{ID: string(id), Label: topicLabel(s.tax, id), Count: len(rs), Stances: stanceCounts(counts), More: len(rs) - len(top)}
		for _, r := range top {
			e := s.entry(r, id)
			e.AlsoReportedBy = alsoBy[r.EventID]
			tp.Items = append(tp.Items, e)
		}
		d.Topics = append(d.Topics, tp)
	}

	// Changes.
	d.Changes = changes(st, prev, loc, s.tax)

	// Failing sources.
	for _, h := range health {
		if !h.State.Bad() {
			continue
		}
		f := Failing{ID: h.ID, Name: cmp.Or(oneLine(h.Name), h.ID), State: string(h.State), Failures: h.Failures,
			LastError: truncate(oneLine(h.LastError), 200), LastSuccess: "never"}
		if !h.LastSuccess.IsZero() {
			f.LastSuccess = h.LastSuccess.In(loc).Format("2 Jan 2006 15:04")
		}
		d.Failing = append(d.Failing, f)
	}
	slices.SortFunc(d.Failing, func(a, b Failing) int {
		return cmp.Or(strings.Compare(a.State, b.State), strings.Compare(a.Name, b.Name))
	})

	d.Treaty = treatyBox(recs)
	return d
}

func changes(now Stats, prev *Stats, loc *time.Location, tax rules.Taxonomy) Changes {
	c := Changes{}
	before := map[rules.Topic]int{}
	if prev != nil {
		c.HasPrevious = true
		c.Previous = prev.WindowEnd.In(loc)
		c.PrevTotal = prev.Total
		before = prev.Topics
	}
	c.TotalDelta = signed(now.Total - c.PrevTotal)
	ids := map[rules.Topic]bool{}
	for id := range now.Topics {
		ids[id] = true
	}
	for id, n := range before {
		if n > 0 {
			ids[id] = true
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(ids), func(a, b rules.Topic) int { return compareTopics(tax, a, b) }) {
		n, b := now.Topics[id], before[id]
		c.Topics = append(c.Topics, TopicDelta{ID: string(id), Label: topicLabel(tax, id), Now: n, Before: b,
			Delta: signed(n - b)})
	}
	if prev != nil {
		known := map[string]bool{}
		for _, a := range prev.Actors {
			known[a] = true
		}
		for _, a := range now.Actors {
			if !known[a] {
				c.NewActors = append(c.NewActors, a)
			}
		}
	}
	return c
}

func signed(n int) string {
	switch {
	case n > 0:
		return fmt.Sprintf("+%d", n)
	case n < 0:
		return fmt.Sprintf("-%d", -n)
	}
	return "±0"
}

func itemTime(r sinks.Record) time.Time {
	if !r.Item.Published.IsZero() {
		return r.Item.Published
	}
	return r.Item.Fetched
}

func (s *Sink) entry(r sinks.Record, topic rules.Topic) Entry {
	key := stanceKey(r.Result.Stance)
	st := stanceStyle[stanceRank(key)]
	e := Entry{
		EventID: r.EventID,
		Title:   truncate(oneLine(r.Item.Title), 240),
		URL:     safeURL(r.Item.URL),
		Source:  cmp.Or(oneLine(r.Item.SourceName), oneLine(r.Item.SourceID)),
		Actor:   recordActor(r),
		Stance:  key, Label: st.label, Color: st.color, Bg: st.bg,
		Evidence: evidence(r),
		Score:    r.Result.Score,
	}
	if e.Title == "" {
		e.Title = cmp.Or(e.URL, "(untitled)")
	}
	if t := itemTime(r); !t.IsZero() {
		e.Published = t.In(s.loc)
		e.Date = e.Published.Format("2 Jan 2006")
	}
	for _, t := range recordTopics(r) {
		if t != topic {
			e.AlsoIn = append(e.AlsoIn, topicLabel(s.tax, t))
		}
	}
	return e
}

// evidence picks one sentence: a stance match first, then any match with
// a sentence, then the start of the summary or content.
func evidence(r sinks.Record) string {
	best := ""
	for _, kind := range []string{"stance", "topic", ""} {
		for _, m := range r.Result.Evidence {
			if m.Sentence != "" && (kind == "" || m.Kind == kind) {
				best = m.Sentence
				break
			}
		}
		if best != "" {
			break
		}
	}
	if best == "" {
		best = cmp.Or(r.Item.Summary, r.Item.Content)
		best = firstSentence(oneLine(best))
	}
	return truncate(oneLine(best), 280)
}

func firstSentence(s string) string {
	for i, r := range s {
		if (r == '.' || r == '!' || r == '?') && i > 40 {
			if i+1 == len(s) || s[i+1] == ' ' {
				return s[:i+1]
			}
		}
	}
	return s
}

// oneLine folds whitespace and drops control characters.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || r == utf8.RuneError:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	cut := strings.TrimRightFunc(string(runes[:n-1]), unicode.IsSpace)
	return cut + "…"
}

func safeURL(u string) string {
	u = strings.TrimSpace(u)
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		if strings.ContainsAny(u, " \t\r\n\"<>") {
			return ""
		}
		return u
	}
	return ""
}

var (
	reSignature  = regexp.MustCompile(`(?i)\b(sign(s|ed|ing|ature|atures|atory|atories)?|firm[óa]|suscrib|подпис)`)
	reRatify     = regexp.MustCompile(`(?i)(ratif|accession|accede|ратифик)`)
	reEntryForce = regexp.MustCompile(`(?i)(entry into force|enter into force|entr[ée]e en vigueur|entrada en vigor|вступлени[ея] в силу)`)
)

// treatyBox is the digest's treaty box: mentions in the news, and, when
// a treaty status source reported in the window (its items carry a
// fetch.TreatyEvent), the depositary's latest status and the actions it
// recorded.
func treatyBox(recs []sinks.Record) *TreatyStatus {
	const maxEvents = 10
	ts := CountTreatyMentions(recs)
	var events []string
	var latest *fetch.TreatyEvent
	var at time.Time
	for _, r := range recs {
		ev := r.Item.Treaty
		if ev == nil {
			continue
		}
		if latest == nil || r.Item.Fetched.After(at) {
			latest, at = ev, r.Item.Fetched
		}
		if len(events) < maxEvents {
			events = append(events, r.Item.Title+" ("+ev.Date.Format("2 Jan 2006")+")")
		} else if len(events) == maxEvents {
			events = append(events, "and more: see the ratification section")
		}
	}
	if latest == nil {
		return ts
	}
	if ts == nil {
		ts = &TreatyStatus{}
	}
	ts.Official = append([]string{latest.Status}, events...)
	return ts
}

// CountTreatyMentions counts, among records tagged "ratification", those
// whose title or summary mentions signature, ratification/accession and
// entry into force. It returns nil when no record is tagged
// "ratification".
func CountTreatyMentions(recs []sinks.Record) *TreatyStatus {
	var ts TreatyStatus
	for _, r := range recs {
		if !slices.Contains(r.Result.Topics, rules.TopicRatification) {
			continue
		}
		ts.Items++
		text := r.Item.Title + " " + r.Item.Summary
		if reSignature.MatchString(text) {
			ts.Signature++
		}
		if reRatify.MatchString(text) {
			ts.Ratification++
		}
		if reEntryForce.MatchString(text) {
			ts.EntryIntoForce++
		}
	}
	if ts.Items == 0 {
		return nil
	}
	ts.Note = "Mentions in this window's news, not official figures: the UN Treaty Collection is authoritative (entry into force needs 40 ratifications)."
	return &ts
}
