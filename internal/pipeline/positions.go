package pipeline

import (
	"context"
	"log/slog"

	"github.com/treatywatch/treatywatch/fetch"
)

// treatyAware is a classifier that takes the depositary's events as the
// known positions of the states it knows (classify.Engine).
type treatyAware interface {
	SetTreatyEvents([]fetch.TreatyEvent)
}

// treatyEventStore is a store that returns the treaty events of the
// items it keeps (store.Store).
type treatyEventStore interface {
	StoredTreatyEvents(ctx context.Context) ([]fetch.TreatyEvent, error)
}

// loadTreatyEvents hands the classifier every treaty event the store
// keeps, else those of items (when the store cannot list them). A failure
// is logged: the classifier keeps the positions it had.
func (ing *Ingester) loadTreatyEvents(ctx context.Context, log *slog.Logger, items []fetch.Item) {
	c, ok := ing.o.Classifier.(treatyAware)
	if !ok {
		return
	}
	var evs []fetch.TreatyEvent
	if s, ok := ing.o.Store.(treatyEventStore); ok {
		var err error
		if evs, err = s.StoredTreatyEvents(ctx); err != nil {
			log.Warn("treaty events not loaded; known positions unchanged", "err", err)
			return
		}
	} else {
		for _, it := range items {
			if it.Treaty != nil {
				evs = append(evs, *it.Treaty)
			}
		}
	}
	if items == nil && len(evs) == 0 {
		return
	}
	c.SetTreatyEvents(evs)
	log.Debug("known positions from treaty events", "events", len(evs))
}

// hasTreatyEvents reports whether a run's items carry treaty events.
func hasTreatyEvents(items []fetch.Item) bool {
	for _, it := range items {
		if it.Treaty != nil {
			return true
		}
	}
	return false
}
