package main

import (
	"sync"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// lazyEngine is the classifier of a command, loaded when first used: the
// built-in rule pack is half a megabyte of YAML (its fitted weights), whose
// parsing cost more than a whole pass in which every source answered 304
// and nothing needed labels. A rule pack from a file is loaded at once,
// so that its errors are reported at start.
type lazyEngine struct {
	once sync.Once
	load func() (*classify.Engine, error)
	e    *classify.Engine

	// mu guards the treaty events that arrive before the pack is loaded
	// (handed to it when it loads) and e as SetTreatyEvents reads it.
	mu      sync.Mutex
	pending []fetch.TreatyEvent
}

// engine loads the pack once. The built-in pack is embedded and checked
// by the classify tests; if it ever failed to load, the panic is caught
// per source by the pipeline's worker pool and reported as its failure.
func (l *lazyEngine) engine() *classify.Engine {
	l.once.Do(func() {
		e, err := l.load()
		if err != nil {
			panic("load the built-in rule pack: " + err.Error())
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.pending != nil {
			e.SetTreatyEvents(l.pending)
			l.pending = nil
		}
		l.e = e
	})
	return l.e
}

// SetTreatyEvents gives the engine the depositary's events (the known
// positions follow them, see classify.Engine.SetTreatyEvents). Before the
// pack is loaded they are kept for it: the events alone do not load it.
func (l *lazyEngine) SetTreatyEvents(evs []fetch.TreatyEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.e != nil {
		l.e.SetTreatyEvents(evs)
		return
	}
	l.pending = evs
}

// Classify implements classify.Classifier.
func (l *lazyEngine) Classify(it fetch.Item) classify.Result { return l.engine().Classify(it) }

// MaybeRelevant implements pipeline.Prechecker.
func (l *lazyEngine) MaybeRelevant(it fetch.Item) bool { return l.engine().MaybeRelevant(it) }

// Version is the rule pack's version.
func (l *lazyEngine) Version() string { return l.engine().Version() }
