package pipeline

import (
	"context"
	"maps"
	"testing"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/sinks"
)

// A dry run says, per sink, what the real run then queues: not the
// relevant items it read, which a sink that took some of them already
// would not get again.
func TestBackfillDryRunCountsWhatTheRealRunQueues(t *testing.T) {
	ctx := context.Background()
	e := newBackfillEnv(t, nil)
	cls, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	pipe := func(names ...string) *Pipeline {
		var ss []sinks.Sink
		for _, n := range names {
			ss = append(ss, &recordSink{name: n})
		}
		return New(Options{Store: e.st, Outbox: OutboxOptions{Sinks: ss}, Ingest: IngestOptions{Classifier: cls, Extractor: e.ext,
			Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: feed.New(e.client, feed.Options{})}}})
	}
	// The sink "a" took the spring's items already, "b" is new.
	if rep, err := pipe("a").Backfill(ctx, e.src, e.opts("2025-03-01", "2025-06-01")); err != nil || rep.Queued == 0 {
		t.Fatalf("first backfill: %v, %+v", err, rep)
	}
	r := pipe("a", "b")
	tests := []struct {
		name      string
		redeliver bool
	}{{"once per sink", false}, {"redeliver", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := e.opts("2025-01-01", "2025-10-01")
			o.Redeliver = tt.redeliver
			dry := o
			dry.DryRun = true
			would, err := r.Backfill(ctx, e.src, dry)
			if err != nil {
				t.Fatal(err)
			}
			if would.Queued != 0 {
				t.Errorf("dry run queued %d", would.Queued)
			}
			real, err := r.Backfill(ctx, e.src, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("relevant %d; dry run would queue %v; real run queued %v (%d rows)", would.Relevant, would.BySink, real.BySink, real.Queued)
			if !maps.Equal(would.BySink, real.BySink) {
				t.Errorf("dry run would queue %v, the real run queued %v", would.BySink, real.BySink)
			}
			total := 0
			for _, n := range real.BySink {
				total += n
			}
			if total != real.Queued {
				t.Errorf("per sink %v, queued %d", real.BySink, real.Queued)
			}
			if !tt.redeliver && (would.BySink["a"] >= would.Relevant || would.BySink["b"] != would.Relevant) {
				t.Errorf("sink a took some items before: would queue %v of %d relevant", would.BySink, would.Relevant)
			}
			if tt.redeliver && (would.BySink["a"] != would.Relevant || would.BySink["b"] != would.Relevant) {
				t.Errorf("redeliver: would queue %v of %d relevant", would.BySink, would.Relevant)
			}
		})
	}
}
