package main

import (
	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/internal/redact"
)

// logOutputs says at start where results go: the database, every file a
// sink writes, every receiver, and each digest's next send.
func (a *app) logOutputs(db string) {
	a.log.Info("state database", "path", db)
	for _, s := range a.cfg.Sinks {
		switch s.Type {
		case config.SinkFile:
			a.log.Info("results go to a file", "sink", s.Name, "format", s.Format, "path", s.Path)
		case config.SinkWebhook:
			a.log.Info("results go to a webhook", "sink", s.Name, "url", redact.URL(s.URL))
		case config.SinkDigest:
			a.log.Info("results go to a digest", "sink", s.Name, "schedule", s.Schedule, "timezone", s.Timezone)
		}
	}
}
