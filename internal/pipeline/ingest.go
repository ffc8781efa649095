package pipeline

import (
	"context"
	"log/slog"
	"strings"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/extract"
	"github.com/treatywatch/treatywatch/internal/store"
)

// Extractor reads an article page: its main text, its title and how it
// was fetched. *extract.Extractor implements it.
type Extractor interface {
	Extract(ctx context.Context, src fetch.Source, url string) (extract.Article, error)
}

// Prechecker is implemented by classifiers that can tell cheaply whether
// an item may be relevant, before its full text is fetched.
type Prechecker interface {
	MaybeRelevant(it fetch.Item) bool
}

// intake is one document's items on their way into the store: the one
// path of a source run and of every document a backfill reads.
type intake struct {
	src   Source
	log   *slog.Logger
	items []fetch.Item
	// backfill keeps the items the store has (labelled again and queued
	// for the sinks that lack them) and gives an item the store knows
	// under another key that key; a run keeps only unseen items and
	// drops those it knows under another key.
	backfill bool
	// links: the items carry only a link; their text is read from their
	// pages (the store's copy when it has one).
	links bool
	// fill reads the text of thin items that may be relevant.
	fill bool
	// noneStored: the store holds no item of the source (it was never
	// run), so the dedupe lookup is skipped.
	noneStored bool
	// take, when set, is asked for each item that goes on; false drops
	// it (taken already by an earlier document of the same backfill).
	// ownURL is false for a URL that several items of the document share.
	take func(it fetch.Item, stored, ownURL bool) bool
	// commit stores the labelled items and queues them, and returns the
	// rows queued.
	commit func(ctx context.Context, labeled []store.Labeled) (int, error)
}

// ingested says what happened to a document's items.
type ingested struct {
	labeled []store.Labeled
	// stored holds the keys of labelled items the store had before.
	stored map[string]bool
	queued int
	// articles counts the article pages read for link items, failed
	// those that could not be read.
	articles, failed int
}

// ingest takes a document's items through dedupe against the store
// (unseen keys, and URLs known under another key), article text,
// classification and the commit.
func (ing *Ingester) ingest(ctx context.Context, in intake) (ingested, error) {
	out := ingested{stored: map[string]bool{}}
	items, err := ing.sift(ctx, in, out.stored)
	if err != nil {
		return out, err
	}
	if in.links {
		items, err = ing.readLinks(ctx, in, items, out.stored, &out)
		if err != nil {
			return out, err
		}
	} else if in.fill {
		ing.fillThin(ctx, in.log, in.src, items)
	}
	ing.capFields(in.log, items)
	out.labeled = make([]store.Labeled, len(items))
	for i, it := range items {
		res := ing.o.Classifier.Classify(it)
		out.labeled[i] = store.Labeled{Item: withLang(it, res), Result: res}
	}
	if in.commit != nil {
		out.queued, err = in.commit(ctx, out.labeled)
		if err != nil {
			return out, err
		}
		if out.queued > 0 {
			ing.o.Queued()
		}
	}
	return out, nil
}

// sift keeps each key once and asks the store which items it has, by
// key and by URL (publishers change GUIDs, a sitemap lists URLs), in one
// lookup. It notes in stored the keys the store has.
func (ing *Ingester) sift(ctx context.Context, in intake, stored map[string]bool) ([]fetch.Item, error) {
	keys := make([]string, 0, len(in.items))
	once := make([]fetch.Item, 0, len(in.items))
	dup := make(map[string]bool, len(in.items))
	perURL := map[string]int{}
	for _, it := range in.items {
		perURL[it.URL]++
		if !dup[it.Key] {
			dup[it.Key] = true
			keys = append(keys, it.Key)
			once = append(once, it)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	var urls []string
	for _, it := range once {
		// A URL that several items share (a status page with many events,
		// the listing page of items without a link) is not an article's
		// identity: only unique ones are asked about.
		if it.URL != "" && perURL[it.URL] == 1 {
			urls = append(urls, it.URL)
		}
	}
	var (
		have  map[string]bool
		byURL map[string]string
	)
	if !in.noneStored {
		var err error
		if have, byURL, err = ing.o.Store.Known(ctx, in.src.ID, keys, urls); err != nil {
			return nil, err
		}
	}
	kept := once[:0]
	for _, it := range once {
		known := have[it.Key]
		if key, ok := byURL[it.URL]; ok && !known && it.URL != "" {
			if !in.backfill {
				in.log.Debug("item seen before under another id; not new", "url", it.URL)
				continue
			}
			it.Key, known = key, true
		}
		if known && !in.backfill {
			continue
		}
		if in.take != nil && !in.take(it, known, it.URL != "" && perURL[it.URL] == 1) {
			continue
		}
		if known {
			stored[it.Key] = true
		}
		kept = append(kept, it)
	}
	return kept, nil
}

// readLinks gives link items their text: the store's copy of the items
// it has, else the article read from the page. Articles that cannot be
// read are counted and left out.
func (ing *Ingester) readLinks(ctx context.Context, in intake, items []fetch.Item, stored map[string]bool, out *ingested) ([]fetch.Item, error) {
	var keys []string
	for _, it := range items {
		if stored[it.Key] {
			keys = append(keys, it.Key)
		}
	}
	var have map[string]fetch.Item
	if len(keys) > 0 {
		var err error
		if have, err = ing.o.Store.StoredItems(ctx, in.src.ID, keys); err != nil {
			return nil, err
		}
	}
	kept := items[:0]
	for _, it := range items {
		if s, ok := have[it.Key]; ok {
			if s.Published.IsZero() {
				s.Published = it.Published
			}
			kept = append(kept, s)
			continue
		}
		if ctx.Err() != nil {
			break
		}
		a, err := ing.o.Extractor.Extract(ctx, in.src.Source, it.URL)
		out.articles++
		if err != nil {
			out.failed++
			in.log.Warn("article not read", "url", it.URL, "err", err)
			continue
		}
		it.Content, it.Provenance = a.Text, a.Provenance
		if it.Title == "" {
			it.Title = a.Title
		}
		it.Provenance.Extracted = true
		if !it.Provenance.FetchedAt.IsZero() {
			it.Fetched = it.Provenance.FetchedAt
		}
		kept = append(kept, it)
	}
	return kept, nil
}

// fillThin reads the article text of items too thin to classify that
// may be relevant; an item read from its page already is as full as it
// gets.
func (ing *Ingester) fillThin(ctx context.Context, log *slog.Logger, src Source, items []fetch.Item) {
	if ing.o.Extractor == nil {
		return
	}
	minWords := ing.o.MinWords
	if src.MinWords != nil {
		minWords = *src.MinWords
	}
	if minWords <= 0 {
		return
	}
	pre, _ := ing.o.Classifier.(Prechecker)
	for i := range items {
		it := &items[i]
		// An item without a link of its own points at the page it was
		// found on: that page's text is not the item's.
		if it.URL == "" || it.URL == src.URL || it.URL == it.Provenance.FinalURL || it.Provenance.Extracted ||
			words(it.Title, it.Summary, it.Content) >= minWords {
			continue
		}
		if pre != nil && !pre.MaybeRelevant(*it) {
			continue
		}
		a, err := ing.o.Extractor.Extract(ctx, src.Source, it.URL)
		if err != nil {
			log.Warn("full text not extracted; classifying the summary", "url", it.URL, "err", err)
			continue
		}
		if words(a.Text) > words(it.Content) {
			it.Content = a.Text
			a.Provenance.Extracted = true
			it.Provenance = a.Provenance
		}
	}
}

func words(texts ...string) int {
	n := 0
	for _, t := range texts {
		n += len(strings.Fields(t))
	}
	return n
}
