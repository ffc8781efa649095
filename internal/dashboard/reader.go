package dashboard

import (
	"context"
	"errors"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// Reader is what the dashboard needs from a store. Days are UTC calendar
// days ("2006-01-02") of an item's publication date, else of when it was
// first seen. Labels are the effective ones: the latest correction, else
// the machine's.
type Reader interface {
	// SearchItems returns one page of the items that match q, newest first,
	// with the total number that match.
	SearchItems(ctx context.Context, q ItemQuery) (ItemPage, error)
	// ItemDetail returns one item with its machine labels, corrections and
	// delivery state; ErrNotFound when there is no such item.
	ItemDetail(ctx context.Context, id int64) (ItemDetail, error)
	// DayStance counts relevant items per day and stance in [from, to]
	// (days, inclusive), only those tagged topic when topic is set.
	DayStance(ctx context.Context, from, to string, topic rules.Topic) ([]Cell, error)
	// TopicStance counts relevant items per topic and stance in [from, to].
	TopicStance(ctx context.Context, from, to string) ([]Cell, error)
	// ActorStance and ActorTopic count relevant items with an actor per
	// actor and stance, and per actor and topic, in [from, to].
	ActorStance(ctx context.Context, from, to string) ([]Cell, error)
	ActorTopic(ctx context.Context, from, to string) ([]Cell, error)
	// TreatyEvents returns the depositary's signature and consent events.
	TreatyEvents(ctx context.Context) ([]TreatyEvent, error)
	// SourceHealth returns every known source's health and item counts
	// (Week counts items first seen in the 7 days before now).
	SourceHealth(ctx context.Context, now time.Time) ([]SourceHealth, error)
	// Facets lists the values the item filters offer.
	Facets(ctx context.Context) (Facets, error)
	// AddCorrection stores a correction of item c.ItemID (ID, At and the
	// machine's labels are filled in) and makes it the item's label.
	AddCorrection(ctx context.Context, c Correction) (Correction, error)
	// Corrected calls fn for every corrected item with its latest
	// correction, oldest correction first.
	Corrected(ctx context.Context, fn func(ItemDetail) error) error
}

// ErrNotFound is returned for an item that does not exist.
var ErrNotFound = errors.New("dashboard: no such item")

// Relevance filters.
const (
	RelevantOnly   = ""
	IrrelevantOnly = "irrelevant"
	AnyRelevance   = "all"
)

// ItemQuery selects items. Empty fields do not filter.
type ItemQuery struct {
	// Text is a full-text query: words all of which must occur (a word
	// ending in * is a prefix).
	Text  string      `json:"q,omitempty"`
	Topic rules.Topic `json:"topic,omitempty"`
	// Stance is a stance label, or classify.StanceUnlabelled for
	// relevant items without one.
	Stance string `json:"stance,omitempty"`
	Actor  string `json:"actor,omitempty"`
	Lang   string `json:"lang,omitempty"`
	Source string `json:"source,omitempty"`
	// From and To bound the day, inclusive ("2006-01-02").
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Relevance is RelevantOnly (default), IrrelevantOnly or AnyRelevance.
	Relevance string `json:"relevance,omitempty"`
	// Corrected keeps only items an analyst corrected.
	Corrected bool `json:"corrected,omitempty"`
	Offset    int  `json:"offset"`
	Limit     int  `json:"limit"`
}

// ItemPage is one page of matching items.
type ItemPage struct {
	Total int           `json:"total"`
	Items []ItemSummary `json:"items"`
}

// ItemSummary is an item as a list shows it, with its effective labels.
type ItemSummary struct {
	ID         int64         `json:"id"`
	SourceID   string        `json:"source_id"`
	Key        string        `json:"key"`
	SourceName string        `json:"source_name,omitempty"`
	Title      string        `json:"title"`
	URL        string        `json:"url,omitempty"`
	Day        string        `json:"day"`
	Relevant   bool          `json:"relevant"`
	Stance     string        `json:"stance"`
	Topics     []rules.Topic `json:"topics"`
	Actor      string        `json:"actor,omitempty"`
	Lang       string        `json:"lang,omitempty"`
	Corrected  bool          `json:"corrected"`
}

// ItemDetail is one item with everything the item page shows.
type ItemDetail struct {
	ItemSummary
	Item    fetch.Item      `json:"item"`
	Machine classify.Result `json:"machine"`
	// Corrections, newest first; the first is the effective label.
	Corrections []Correction `json:"corrections"`
	Deliveries  []Delivery   `json:"deliveries"`
}

// Label is a set of labels an analyst can correct.
type Label struct {
	Relevant bool          `json:"relevant"`
	Topics   []rules.Topic `json:"topics"`
	Stance   string        `json:"stance"`
}

// Correction is an analyst's label for an item, beside what the machine
// said at the time.
type Correction struct {
	ID      int64 `json:"id"`
	ItemID  int64 `json:"item_id"`
	Label   Label `json:"label"`
	Machine Label `json:"machine"`
	// Rules is the rule pack version of the machine label; Score its
	// relevance score.
	Rules  string    `json:"rules"`
	Score  float64   `json:"score"`
	Reason string    `json:"reason,omitempty"`
	Note   string    `json:"note,omitempty"`
	Who    string    `json:"who"`
	At     time.Time `json:"at"`
}

// Delivery is the state of one item at one sink.
type Delivery struct {
	Sink      string    `json:"sink"`
	State     string    `json:"state"` // pending or done
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	Queued    time.Time `json:"queued"`
	Delivered time.Time `json:"delivered,omitzero"`
}

// Cell is one count of a two-way table: topic × stance, day × stance,
// actor × stance, actor × topic.
type Cell struct {
	Row   string `json:"row"`
	Col   string `json:"col"`
	Count int    `json:"count"`
}

// TreatyEvent is one participant's dated action on the treaty, as the
// depositary (UN Treaty Collection) reports it.
type TreatyEvent struct {
	Participant string    `json:"participant"`
	Action      string    `json:"action"` // signature, ratification, acceptance, approval, accession, succession
	Date        time.Time `json:"date"`
	ItemID      int64     `json:"item_id"`
	URL         string    `json:"url,omitempty"`
}

// SourceHealth is one source's state and output.
type SourceHealth struct {
	ID          string            `json:"id"`
	State       sinks.HealthState `json:"state"`
	Failures    int               `json:"failures"`
	ErrorKind   string            `json:"error_kind,omitempty"`
	LastError   string            `json:"last_error,omitempty"`
	LastFetch   time.Time         `json:"last_fetch,omitzero"`
	LastSuccess time.Time         `json:"last_success,omitzero"`
	// NextRun is when the source runs next: from its schedule when the
	// server knows the config, else the earliest time it may run again
	// (zero: at its next scheduled time).
	NextRun   time.Time `json:"next_run,omitzero"`
	EmptyRuns int       `json:"empty_runs"`
	// Unconfigured marks a source the store knows but the config has no
	// more (or has disabled).
	Unconfigured bool `json:"unconfigured,omitempty"`
	Items        int  `json:"items"`
	Relevant     int  `json:"relevant"`
	Week         int  `json:"week"`
}

// Facets are the values the item filters offer.
type Facets struct {
	Sources []string      `json:"sources"`
	Langs   []string      `json:"langs"`
	Actors  []string      `json:"actors"`
	Topics  []rules.Topic `json:"topics"`
	// LastDay is the latest day of a relevant item ("" when none).
	LastDay string `json:"last_day"`
}
