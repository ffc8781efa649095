package digest

import (
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// SampleRecords returns a small made-up window ending at end, covering
// every section of the digest (stances, several topics, an untagged
// item). New renders it once to check the templates; previews and
// template authors can use it too.
func SampleRecords(end time.Time) []sinks.Record {
	type s struct {
		title, source, actor, url, sentence string
		stance                              classify.Stance
		topics                              []rules.Topic
		ago                                 time.Duration
	}
	samples := []s{
		{"Rights groups urge states not to ratify UN cybercrime convention", "Example Rights Wire", "Example NGO Coalition",
			"https://example.org/news/urge-not-to-ratify", "The coalition called the treaty a global surveillance pact and urged parliaments to refrain from ratifying it.",
			classify.StanceCritical, []rules.Topic{"human-rights", "ratification"}, 3 * time.Hour},
		{"UNODC welcomes new signatures to the Convention against Cybercrime", "Example UN Press", "UNODC",
			"https://example.org/press/new-signatures", "UNODC welcomed the signatures as a milestone for international cooperation against cybercrime.",
			classify.StanceSupportive, []rules.Topic{"ratification", "international-cooperation"}, 5 * time.Hour},
		{"What the convention's data-sharing articles mean for journalists", "Example Press Freedom Desk", "",
			"https://example.org/analysis/journalists", "Reporters may face cross-border requests for their data under the treaty's cooperation chapter.",
			classify.StanceNeutral, []rules.Topic{"expression-press", "privacy-surveillance"}, 8 * time.Hour},
		{"Industry group: revised text improves, but safeguards still missing", "Example Tech Daily", "Example Industry Accord",
			"https://example.org/tech/industry-group", "The revised text is a substantial improvement but continues to include broad surveillance powers.",
			classify.StanceMixed, []rules.Topic{"privacy-surveillance", "security-research"}, 10 * time.Hour},
		{"Capacity-building programme for implementing states announced", "Example Development News", "",
			"https://example.org/dev/capacity", "",
			classify.StanceSupportive, []rules.Topic{"capacity-building"}, 14 * time.Hour},
		{"Convention mentioned in regional security briefing", "Example Regional Herald", "",
			"https://example.org/regional/briefing", "",
			classify.StanceNeutral, nil, 20 * time.Hour},
	}
	recs := make([]sinks.Record, 0, len(samples))
	for i, x := range samples {
		var ev []classify.Match
		if x.sentence != "" {
			ev = append(ev, classify.Match{Rule: "sample", Kind: "stance", Sentence: x.sentence, Field: classify.FieldContent})
		}
		recs = append(recs, sinks.Record{
			EventID: fmt.Sprintf("sample-%d", i+1),
			Item: fetch.Item{
				Key: x.url, SourceID: fmt.Sprintf("sample-source-%d", i+1), SourceName: x.source,
				URL: x.url, Title: x.title, Summary: x.sentence,
				Published: end.Add(-x.ago), Fetched: end.Add(-x.ago + 10*time.Minute),
			},
			Result: classify.Result{Relevant: true, Score: 1 - float64(i)/10, Topics: x.topics, Stance: x.stance,
				Actor: x.actor, Evidence: ev, Rules: "sample"},
		})
	}
	return recs
}
