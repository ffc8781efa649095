package pipeline

import (
	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch/archive"
	"github.com/treatywatch/treatywatch/internal/store"
)

// Stages of a backfill, as Progress reports them.
const (
	StagePage    = archive.StagePage
	StageSitemap = archive.StageSitemap
	StageArticle = archive.StageArticle
	StageSearch  = archive.StageSearch
	StageDone    = "done"
)

// Progress is a snapshot of a running backfill.
type Progress struct {
	Source string
	Stage  string
	// URL is the document or article just read.
	URL string
	// Pages counts documents read (feed pages, sitemaps, searches);
	// Articles the sitemap entries gone through (read, or found in the
	// store) of ArticlesTotal.
	Pages, Articles, ArticlesTotal int
	Items, InWindow, Relevant      int
}

// BackfillReport says what a backfill of one source did.
type BackfillReport struct {
	Source string
	// Pages counts the documents read: feed pages, sitemaps, searches.
	Pages int
	// Articles counts the article pages read for sitemap entries.
	Articles int
	// Items counts what the documents listed; InWindow the distinct
	// items dated inside the window; Undated the items skipped for want
	// of a date (kept only from date-scoped searches).
	Items, InWindow, Undated int
	// New counts in-window items the store had not seen.
	New int
	// Relevant counts in-window items the classifier kept, NewRelevant
	// those among them the store had not seen.
	Relevant, NewRelevant int
	// Queued counts the outbox rows written (zero on a dry run).
	Queued int
	// BySink counts outbox rows per sink: those written, or on a dry run
	// those a real run would write (the same commit, rolled back).
	BySink map[string]int
	// Failed counts documents and articles that could not be read.
	Failed int
	// ByTopic counts relevant items per topic and stance; an item without
	// a topic is counted under "".
	ByTopic map[rules.Topic]map[classify.Stance]int
	// WouldDeliver lists the relevant items of a dry run, oldest first.
	WouldDeliver []store.Labeled
	DryRun       bool
}

// count adds a labelled item to the report.
func (b *backfill) count(l store.Labeled, stored bool) {
	res := l.Result
	if !res.Relevant {
		return
	}
	b.rep.Relevant++
	if !stored {
		b.rep.NewRelevant++
	}
	topics := res.Topics
	if len(topics) == 0 {
		topics = []rules.Topic{""}
	}
	for _, t := range topics {
		if b.rep.ByTopic[t] == nil {
			b.rep.ByTopic[t] = map[classify.Stance]int{}
		}
		b.rep.ByTopic[t][res.Stance]++
	}
	if b.o.DryRun {
		b.rep.WouldDeliver = append(b.rep.WouldDeliver, l)
	}
}

func (b *backfill) progress(stage, url string) {
	if b.o.Progress == nil {
		return
	}
	b.o.Progress(Progress{
		Source: b.src.ID, Stage: stage, URL: url,
		Pages: b.rep.Pages, Articles: b.articles, ArticlesTotal: b.total,
		Items: b.rep.Items, InWindow: b.rep.InWindow, Relevant: b.rep.Relevant,
	})
}
