package fetch

import (
	"context"
	"time"
)

// Item is one entry a source yielded: a feed item, a link on a listing
// page, or an article whose text was extracted.
type Item struct {
	// Key identifies the item within its source: the GUID, else the
	// canonical URL, else a hash of title and summary. It is stable across
	// fetches, so it is what deduplication and event ids are built on.
	Key      string `json:"key"`
	SourceID string `json:"source_id"`
	// SourceName is the source's display name ("EFF Deeplinks").
	SourceName string `json:"source_name,omitempty"`
	// SourceActor is who the source speaks for when it publishes its own
	// statements ("Electronic Frontier Foundation"); empty for the press.
	SourceActor string `json:"source_actor,omitempty"`
	URL         string `json:"url,omitempty"`
	Title       string `json:"title,omitempty"`
	Summary     string `json:"summary,omitempty"`
	// Content is the full text when the feed carries it or when it was
	// extracted from the article page.
	Content string `json:"content,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Author  string `json:"author,omitempty"`
	// Published keeps the zone the source gave; zero when the source gave
	// no date. Dates in the future are clamped to Fetched.
	Published  time.Time  `json:"published,omitzero"`
	Fetched    time.Time  `json:"fetched"`
	Provenance Provenance `json:"provenance"`
	// Truncated names the fields cut to their cap (see FieldCaps).
	Truncated []string `json:"truncated,omitempty"`
	// Treaty is set on the items of a treaty status source: the action
	// the depositary recorded and the treaty's status with it.
	Treaty *TreatyEvent `json:"treaty,omitempty"`
}

// TreatyEvent is one action a treaty's depositary recorded for one
// participant, with the treaty's status as the same document gave it.
type TreatyEvent struct {
	Participant string `json:"participant"`
	// Action is what the participant did: signature, ratification,
	// acceptance, approval or accession (fetch/treaty's Action).
	Action string    `json:"action"`
	Date   time.Time `json:"date"`
	// Signatories and Parties are the document's counts.
	Signatories int `json:"signatories"`
	Parties     int `json:"parties"`
	// Status is the depositary's status in words ("Status per the UN
	// Treaty Collection: 74 signatories, 3 parties; ...").
	Status string `json:"status"`
}

// Provenance records how an item was captured, so an analyst can show
// what a page said when it was fetched.
type Provenance struct {
	FinalURL     string    `json:"final_url,omitempty"`
	Status       int       `json:"status,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	BodySHA256   string    `json:"body_sha256,omitempty"`
	FetchedAt    time.Time `json:"fetched_at,omitzero"`
	// Extracted is set when Content came from fetching the article page.
	Extracted bool `json:"extracted,omitempty"`
}

// Validators are the HTTP cache validators of the last successful fetch.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Batch is what one fetch of one source returns.
type Batch struct {
	Items []Item
	// Next holds the validators to send on the next fetch.
	Next Validators
	// NotModified is true when the server answered 304: Items is empty.
	NotModified bool
	// RetryAfter is the earliest time to fetch again that the server asked
	// for (RSS ttl, Cache-Control max-age, Expires); zero when it said
	// nothing.
	RetryAfter time.Duration
	// Provenance of the response the items came from.
	Provenance Provenance
}

// Fetcher fetches one source once. An error means nothing usable came
// back; its *Error (errors.As) says what kind of failure it was.
type Fetcher interface {
	Fetch(ctx context.Context, src Source, prev Validators) (Batch, error)
}
