package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
)

// unlabelled is the bucket of relevant items without a stance.
const unlabelled = string(classify.StanceUnlabelled)

// Stances in the fixed order of every chart and table.
var stances = []string{string(classify.StanceSupportive), string(classify.StanceNeutral), string(classify.StanceMixed), string(classify.StanceCritical), unlabelled}

func stanceKey(s string) string {
	if s == "" {
		return unlabelled
	}
	return s
}

const dayLayout = "2006-01-02"

// Buckets.
const (
	BucketDay   = "day"
	BucketWeek  = "week"
	BucketMonth = "month"
)

// maxBuckets bounds the bars of a default chart: a longer range widens
// the default bucket. maxDayBuckets bounds an explicit bucket=day.
const (
	maxBuckets    = 200
	maxDayBuckets = 20000
)

// Range is a period of days, inclusive, and how it is bucketed.
type Range struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Bucket string `json:"bucket"`
}

func (r Range) days() (from, to time.Time) {
	from, _ = time.Parse(dayLayout, r.From)
	to, _ = time.Parse(dayLayout, r.To)
	return from, to
}

// previous is the period of the same length just before r.
func (r Range) previous() Range {
	from, to := r.days()
	n := int(to.Sub(from).Hours()/24) + 1
	return Range{From: from.AddDate(0, 0, -n).Format(dayLayout), To: from.AddDate(0, 0, -1).Format(dayLayout), Bucket: r.Bucket}
}

// bucketStart returns the first day of the bucket holding day.
func bucketStart(bucket string, day time.Time) time.Time {
	switch bucket {
	case BucketWeek:
		wd := (int(day.Weekday()) + 6) % 7 // Monday 0
		return day.AddDate(0, 0, -wd)
	case BucketMonth:
		return time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

func nextBucket(bucket string, start time.Time) time.Time {
	switch bucket {
	case BucketWeek:
		return start.AddDate(0, 0, 7)
	case BucketMonth:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// Timeline is relevant items per bucket, stacked by stance.
type Timeline struct {
	Range
	Topic   rules.Topic      `json:"topic,omitempty"`
	Stances []string         `json:"stances"`
	Buckets []TimelineBucket `json:"buckets"`
	// Points are the non-zero (bucket, stance) counts: one bar segment
	// each.
	Points []Point  `json:"points"`
	Total  int      `json:"total"`
	Spikes []Spike  `json:"spikes"`
	Mean   float64  `json:"daily_mean"`
	Prev   int      `json:"previous_total"`
	Change *float64 `json:"change,omitempty"` // relative change of Total vs Prev; nil when Prev is 0
}

// TimelineBucket is one bar.
type TimelineBucket struct {
	Start  string         `json:"start"`
	End    string         `json:"end"` // last day, inclusive
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
	Spike  bool           `json:"spike"`
}

// Point is one bar segment.
type Point struct {
	Bucket string `json:"bucket"`
	Stance string `json:"stance"`
	Count  int    `json:"count"`
}

// Spike is a day well above its 14-day baseline: at least 3 items and
// more than the baseline mean plus three standard deviations (at least
// one).
type Spike struct {
	Day      string  `json:"day"`
	Count    int     `json:"count"`
	Baseline float64 `json:"baseline"`
}

const spikeWindow = 14

func (s *Server) timeline(ctx context.Context, r Range, topic rules.Topic) (Timeline, error) {
	from, to := r.days()
	t := Timeline{Range: r, Topic: topic, Stances: stances, Buckets: []TimelineBucket{}, Points: []Point{}, Spikes: []Spike{}}
	prev := r.previous()
	lookback := min(prev.From, from.AddDate(0, 0, -spikeWindow).Format(dayLayout))
	cells, err := s.r.DayStance(ctx, lookback, r.To, topic)
	if err != nil {
		return t, err
	}
	daily := map[string]int{}
	perDay := map[string]map[string]int{}
	for _, c := range cells {
		daily[c.Row] += c.Count
		if c.Row >= prev.From && c.Row <= prev.To {
			t.Prev += c.Count
		}
		if c.Row < r.From {
			continue
		}
		if perDay[c.Row] == nil {
			perDay[c.Row] = map[string]int{}
		}
		perDay[c.Row][stanceKey(c.Col)] += c.Count
	}
	spikeDays := map[string]bool{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day := d.Format(dayLayout)
		n := daily[day]
		var sum, sq float64
		for i := 1; i <= spikeWindow; i++ {
			v := float64(daily[d.AddDate(0, 0, -i).Format(dayLayout)])
			sum += v
			sq += v * v
		}
		mean := sum / spikeWindow
		sd := math.Sqrt(max(sq/spikeWindow-mean*mean, 0))
		if n >= 3 && float64(n) > mean+3*max(sd, 1) {
			t.Spikes = append(t.Spikes, Spike{Day: day, Count: n, Baseline: math.Round(mean*100) / 100})
			spikeDays[day] = true
		}
	}
	for start := bucketStart(r.Bucket, from); !start.After(to); start = nextBucket(r.Bucket, start) {
		end := nextBucket(r.Bucket, start).AddDate(0, 0, -1)
		b := TimelineBucket{Start: start.Format(dayLayout), End: end.Format(dayLayout), Counts: map[string]int{}}
		for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
			if d.Before(from) || d.After(to) {
				continue
			}
			day := d.Format(dayLayout)
			for st, n := range perDay[day] {
				b.Counts[st] += n
				b.Total += n
			}
			b.Spike = b.Spike || spikeDays[day]
		}
		for _, st := range stances {
			if n := b.Counts[st]; n > 0 {
				t.Points = append(t.Points, Point{Bucket: b.Start, Stance: st, Count: n})
			}
		}
		t.Total += b.Total
		t.Buckets = append(t.Buckets, b)
	}
	days := int(to.Sub(from).Hours()/24) + 1
	t.Mean = math.Round(float64(t.Total)/float64(days)*100) / 100
	if t.Prev > 0 {
		c := math.Round(float64(t.Total-t.Prev)/float64(t.Prev)*1000) / 1000
		t.Change = &c
	}
	return t, nil
}

// TopicTable is topic × stance for a period and the one before.
type TopicTable struct {
	Range
	Previous Range      `json:"previous"`
	Stances  []string   `json:"stances"`
	Rows     []TopicRow `json:"rows"`
	// Current and Prior are the raw counts.
	Current []Cell `json:"current"`
	Prior   []Cell `json:"prior"`
}

// TopicRow is one topic's counts per stance, with the change against
// the previous period.
type TopicRow struct {
	Topic rules.Topic `json:"topic"`
	// Label is the rule pack's name of the topic.
	Label     string      `json:"label"`
	Cells     []DeltaCell `json:"cells"`
	Total     int         `json:"total"`
	PrevTotal int         `json:"previous_total"`
	Delta     int         `json:"delta"`
}

// DeltaCell is a count and its change.
type DeltaCell struct {
	Stance string `json:"stance"`
	Count  int    `json:"count"`
	Prev   int    `json:"previous"`
	Delta  int    `json:"delta"`
}

func (s *Server) topicTable(ctx context.Context, r Range) (TopicTable, error) {
	t := TopicTable{Range: r, Previous: r.previous(), Stances: stances}
	var err error
	if t.Current, err = s.r.TopicStance(ctx, r.From, r.To); err != nil {
		return t, err
	}
	if t.Prior, err = s.r.TopicStance(ctx, t.Previous.From, t.Previous.To); err != nil {
		return t, err
	}
	cur, prev := index(t.Current), index(t.Prior)
	for _, topic := range s.topics {
		row := TopicRow{Topic: topic, Label: s.tax.Label(topic)}
		for _, st := range stances {
			k := [2]string{string(topic), st}
			c := DeltaCell{Stance: st, Count: cur[k], Prev: prev[k]}
			c.Delta = c.Count - c.Prev
			row.Cells = append(row.Cells, c)
			row.Total += c.Count
			row.PrevTotal += c.Prev
		}
		row.Delta = row.Total - row.PrevTotal
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func index(cells []Cell) map[[2]string]int {
	m := map[[2]string]int{}
	for _, c := range cells {
		m[[2]string{c.Row, stanceKey(c.Col)}] += c.Count
	}
	return m
}

// Matrix is a two-way table of counts with row totals, rows by total.
type Matrix struct {
	Cols []string    `json:"cols"`
	Rows []MatrixRow `json:"rows"`
}

// MatrixRow is one row of a Matrix.
type MatrixRow struct {
	Name   string `json:"name"`
	Counts []int  `json:"counts"`
	Total  int    `json:"total"`
}

func matrix(cells []Cell, cols []string, colKey func(string) string) Matrix {
	m := Matrix{Cols: cols, Rows: []MatrixRow{}}
	rows := map[string]*MatrixRow{}
	for _, c := range cells {
		r := rows[c.Row]
		if r == nil {
			r = &MatrixRow{Name: c.Row, Counts: make([]int, len(cols))}
			rows[c.Row] = r
		}
		if i := slices.Index(cols, colKey(c.Col)); i >= 0 {
			r.Counts[i] += c.Count
			r.Total += c.Count
		}
	}
	for _, r := range rows {
		m.Rows = append(m.Rows, *r)
	}
	slices.SortFunc(m.Rows, func(a, b MatrixRow) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Name, b.Name))
	})
	return m
}

// ActorTables are who says what: actor × stance and actor × topic.
type ActorTables struct {
	Range
	Stance    Matrix `json:"by_stance"`
	Topic     Matrix `json:"by_topic"`
	Raw       []Cell `json:"stance_counts"`
	RawTopics []Cell `json:"topic_counts"`
}

func (s *Server) actorTables(ctx context.Context, r Range) (ActorTables, error) {
	a := ActorTables{Range: r}
	var err error
	if a.Raw, err = s.r.ActorStance(ctx, r.From, r.To); err != nil {
		return a, err
	}
	if a.RawTopics, err = s.r.ActorTopic(ctx, r.From, r.To); err != nil {
		return a, err
	}
	a.Stance = matrix(a.Raw, stances, stanceKey)
	a.Topic = matrix(a.RawTopics, s.tax.Strings(), func(s string) string { return s })
	return a, nil
}

// TreatyNeeded is how many parties the Convention needs to enter into
// force (Art. 65): 90 days after the 40th instrument.
const TreatyNeeded = 40

// Treaty is the depositary's count.
type Treaty struct {
	Events      []TreatyEvent `json:"events"`
	States      []StateRow    `json:"states"`
	Signatories int           `json:"signatories"`
	Parties     int           `json:"parties"`
	// Counted are the parties that count toward entry into force: all
	// but regional economic integration organisations (Art. 65).
	Counted int          `json:"counted"`
	Needed  int          `json:"needed"`
	Steps   []TreatyStep `json:"steps"`
	// Fortieth is the date of the 40th consent, EntryIntoForce 90 days
	// later; both zero until it happened.
	Fortieth       time.Time `json:"fortieth,omitzero"`
	EntryIntoForce time.Time `json:"entry_into_force,omitzero"`
}

// StateRow is one participant's dates.
type StateRow struct {
	Participant   string    `json:"participant"`
	Signature     time.Time `json:"signature,omitzero"`
	Consent       time.Time `json:"consent,omitzero"`
	ConsentAction string    `json:"consent_action,omitempty"`
	URL           string    `json:"url,omitempty"`
}

// TreatyStep is the running count after the events of one day.
type TreatyStep struct {
	Date        time.Time `json:"date"`
	Signatories int       `json:"signatories"`
	Parties     int       `json:"parties"`
}

func (s *Server) treaty(ctx context.Context) (Treaty, error) {
	evs, err := s.r.TreatyEvents(ctx)
	if err != nil {
		return Treaty{}, err
	}
	t := Treaty{Events: evs, States: []StateRow{}, Steps: []TreatyStep{}, Needed: TreatyNeeded}
	slices.SortStableFunc(evs, func(a, b TreatyEvent) int { return a.Date.Compare(b.Date) })
	byName := map[string]*StateRow{}
	var order []string
	for _, e := range evs {
		row := byName[e.Participant]
		if row == nil {
			row = &StateRow{Participant: e.Participant, URL: e.URL}
			byName[e.Participant] = row
			order = append(order, e.Participant)
		}
		if e.Action == "signature" {
			if row.Signature.IsZero() {
				t.Signatories++
			}
			row.Signature = e.Date
		} else {
			if row.Consent.IsZero() {
				t.Parties++
			}
			// Art. 65: an instrument of a regional economic integration
			// organisation does not count toward the 40.
			if row.Consent.IsZero() && !regionalOrganisation(e.Participant) {
				t.Counted++
				if t.Counted == TreatyNeeded {
					t.Fortieth = e.Date
					t.EntryIntoForce = e.Date.AddDate(0, 0, 90)
				}
			}
			row.Consent, row.ConsentAction = e.Date, e.Action
		}
		if n := len(t.Steps); n > 0 && t.Steps[n-1].Date.Equal(e.Date) {
			t.Steps[n-1].Signatories, t.Steps[n-1].Parties = t.Signatories, t.Parties
		} else {
			t.Steps = append(t.Steps, TreatyStep{Date: e.Date, Signatories: t.Signatories, Parties: t.Parties})
		}
	}
	slices.Sort(order)
	for _, n := range order {
		t.States = append(t.States, *byName[n])
	}
	return t, nil
}

// regionalOrganisation reports whether a participant is a regional
// economic integration organisation.
func regionalOrganisation(name string) bool {
	return strings.EqualFold(strings.TrimSpace(name), "European Union")
}

// parseRange reads from, to and bucket; the default is the 90 days up to
// the latest relevant item (or today). A bad parameter is a badRequest;
// the store's failure to say which day is the latest is not.
func (s *Server) parseRange(ctx context.Context, get func(string) string) (Range, error) {
	r := Range{From: get("from"), To: get("to"), Bucket: get("bucket")}
	for _, f := range []struct{ name, v string }{{"from", r.From}, {"to", r.To}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(dayLayout, f.v); err != nil {
			return r, badRequest{fmt.Errorf("%s=%q: want a day as YYYY-MM-DD", f.name, f.v)}
		}
	}
	if r.To == "" {
		r.To = s.now().UTC().Format(dayLayout)
		if r.From == "" {
			f, err := s.r.Facets(ctx)
			if err != nil {
				return r, err
			}
			if f.LastDay != "" && f.LastDay < r.To {
				r.To = f.LastDay
			}
		}
	}
	if r.From == "" {
		to, _ := time.Parse(dayLayout, r.To)
		r.From = to.AddDate(0, 0, -89).Format(dayLayout)
	}
	if r.From > r.To {
		return r, badRequest{fmt.Errorf("from=%s is after to=%s", r.From, r.To)}
	}
	from, to := r.days()
	days := int(to.Sub(from).Hours()/24) + 1
	if days > 366*50 {
		return r, badRequest{fmt.Errorf("from=%s to=%s: at most 50 years", r.From, r.To)}
	}
	switch r.Bucket {
	case "":
		// The default bucket widens with the range.
		r.Bucket = BucketDay
		if days > 62 {
			r.Bucket = BucketWeek
		}
		if days/7 > maxBuckets {
			r.Bucket = BucketMonth
		}
	case BucketDay, BucketWeek, BucketMonth:
		if r.Bucket == BucketDay && days > maxDayBuckets {
			return r, badRequest{fmt.Errorf("bucket=day: at most %d days; ask for week or month", maxDayBuckets)}
		}
	default:
		return r, badRequest{fmt.Errorf("bucket=%q: want day, week or month", r.Bucket)}
	}
	return r, nil
}

// validStance reports whether s is a stance filter value.
func validStance(s string) bool {
	return s == "" || s != unlabelled && slices.Contains(stances, s)
}

func trimAll[S ~string](ss []S) []S {
	out := ss[:0]
	for _, s := range ss {
		if s = S(strings.TrimSpace(string(s))); s != "" {
			out = append(out, s)
		}
	}
	return out
}
