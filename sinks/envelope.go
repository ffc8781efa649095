package sinks

import (
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
)

// Event types an Envelope can carry.
const (
	// EventLabelled is a relevant item with its labels.
	EventLabelled = "item.labelled"
	// EventPing is sent by a sink's Check to test its receiver; it carries
	// no item.
	EventPing = "ping"
)

// Envelope is the versioned wire record every sink writes: one JSONL
// line, one webhook body. Field names are snake_case; times are RFC 3339
// (with fractional seconds only when they are not zero) and keep the zone
// they were given in. Receivers should drop envelopes whose event_id they
// have already seen: delivery is at least once.
type Envelope struct {
	SchemaVersion int        `json:"schema_version"`
	EventType     string     `json:"event_type"`
	EventID       string     `json:"event_id"`
	Source        SourceRef  `json:"source"`
	Item          ItemFields `json:"item"`
	Labels        Labels     `json:"labels"`
	Evidence      []Evidence `json:"evidence"`
	Provenance    Provenance `json:"provenance"`
}

// SourceRef names the source an item came from.
type SourceRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Actor is who the source speaks for, when it publishes its own
	// statements; empty for the press.
	Actor string `json:"actor,omitempty"`
}

// ItemFields are the item as the source gave it.
type ItemFields struct {
	Key     string `json:"key"`
	URL     string `json:"url,omitempty"`
	Title   string `json:"title,omitempty"`
	Summary string `json:"summary,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Author  string `json:"author,omitempty"`
	// Published is absent when the source gave no date.
	Published time.Time `json:"published,omitzero"`
	Fetched   time.Time `json:"fetched,omitzero"`
	// Truncated names the fields cut to their cap ("title", "summary",
	// "content", "author", "url"); absent when nothing was cut.
	Truncated []string `json:"truncated,omitempty"`
}

// Labels is what the classifier said of the item.
type Labels struct {
	Relevant bool          `json:"relevant"`
	Score    float64       `json:"score"`
	Topics   []rules.Topic `json:"topics"`
	Stance   string        `json:"stance"`
	Actor    string        `json:"actor,omitempty"`
	// Rules is the version of the rule pack that produced the labels.
	Rules string `json:"rules"`
}

// Evidence is one rule that fired: on which words, in which sentence of
// which field.
type Evidence struct {
	Rule     string   `json:"rule"`
	Kind     string   `json:"kind"`
	Label    string   `json:"label,omitempty"`
	Words    []string `json:"words"`
	Sentence string   `json:"sentence,omitempty"`
	Field    string   `json:"field"`
	Weight   float64  `json:"weight,omitempty"`
}

// Provenance records how the item was captured.
type Provenance struct {
	FinalURL     string    `json:"final_url,omitempty"`
	Status       int       `json:"status,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	BodySHA256   string    `json:"body_sha256,omitempty"`
	FetchedAt    time.Time `json:"fetched_at,omitzero"`
	Extracted    bool      `json:"extracted,omitempty"`
}

// NewEnvelope builds the wire record of r. It is deterministic: the same
// record always gives the same envelope, so a retried delivery carries the
// same bytes. Lists are never null.
func NewEnvelope(r Record) Envelope {
	it, res := r.Item, r.Result
	ev := make([]Evidence, 0, len(res.Evidence))
	for _, m := range res.Evidence {
		ev = append(ev, evidenceOf(m))
	}
	return Envelope{
		SchemaVersion: SchemaVersion,
		EventType:     EventLabelled,
		EventID:       r.EventID,
		Source: SourceRef{
			ID:    it.SourceID,
			Name:  it.SourceName,
			Actor: it.SourceActor,
		},
		Item: ItemFields{
			Key:       it.Key,
			URL:       it.URL,
			Title:     it.Title,
			Summary:   it.Summary,
			Lang:      it.Lang,
			Author:    it.Author,
			Published: it.Published,
			Fetched:   it.Fetched,
			Truncated: it.Truncated,
		},
		Labels: Labels{
			Relevant: res.Relevant,
			Score:    res.Score,
			Topics:   nonNil(res.Topics),
			Stance:   string(res.Stance),
			Actor:    res.Actor,
			Rules:    res.Rules,
		},
		Evidence: ev,
		Provenance: Provenance{
			FinalURL:     it.Provenance.FinalURL,
			Status:       it.Provenance.Status,
			ETag:         it.Provenance.ETag,
			LastModified: it.Provenance.LastModified,
			BodySHA256:   it.Provenance.BodySHA256,
			FetchedAt:    it.Provenance.FetchedAt,
			Extracted:    it.Provenance.Extracted,
		},
	}
}

func evidenceOf(m classify.Match) Evidence {
	return Evidence{
		Rule:     m.Rule,
		Kind:     m.Kind,
		Label:    m.Label,
		Words:    nonNil(m.Words),
		Sentence: m.Sentence,
		Field:    m.Field,
		Weight:   m.Weight,
	}
}

// EvidenceSentence returns the first evidence sentence of e, preferring a
// stance rule's, or "" when no rule kept one. Feeds and digests show it as
// the reason an item was picked.
func (e Envelope) EvidenceSentence() string {
	first := ""
	for _, m := range e.Evidence {
		if m.Sentence == "" {
			continue
		}
		if m.Kind == "stance" {
			return m.Sentence
		}
		if first == "" {
			first = m.Sentence
		}
	}
	return first
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
