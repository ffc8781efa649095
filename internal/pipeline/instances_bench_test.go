package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/cputime"
	"github.com/treatywatch/treatywatch/internal/pgtest"
	"github.com/treatywatch/treatywatch/internal/pipeline"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/webhook"
)

const (
	benchSources = 1000
	// benchWorkers is each instance's worker pool.
	benchWorkers = 8
)

// syntheticFeeds serves benchSources small RSS feeds, each with one item
// about the convention and one that is not; each answer takes latency,
// as a remote server would.
func syntheticFeeds(b *testing.B, latency time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/f/"), ".rss")
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Source %[1]s</title><link>https://s%[1]s.example.org/</link>
<item><title>Source %[1]s on the UN cybercrime convention</title><link>https://s%[1]s.example.org/a</link><guid>a-%[1]s</guid><description>The United Nations Convention against Cybercrime opened for signature in Hanoi; states that sign must still ratify it.</description></item>
<item><title>Local results %[1]s</title><link>https://s%[1]s.example.org/b</link><guid>b-%[1]s</guid><description>The home side won two to one after extra time.</description></item>
</channel></rss>`, n)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkInstancesOnePostgres runs one pass over 1,000 synthetic
// sources on one PostgreSQL database, fetching, classifying, committing
// and delivering to a webhook, with one instance and with three sharing
// the work through their claims. Each instance is a Pipeline on a store
// handle of its own (its own owner). Feeds answer after 20ms (a near
// server: the instances' CPU dominates) or 200ms (remote servers: the
// wait dominates, as in a real fleet). cpu-ns/op is the instances' CPU
// (this process; PostgreSQL's own is not in it). scripts/bench prints
// the ratios of three instances to one.
func BenchmarkInstancesOnePostgres(b *testing.B) {
	for _, latency := range []time.Duration{20 * time.Millisecond, 200 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) { benchInstances(b, latency) })
	}
}

func benchInstances(b *testing.B, latency time.Duration) {
	pgtest.ServerURL(b)
	feeds := syntheticFeeds(b, latency)
	var delivered atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(hook.Close)
	eng, err := classify.Default()
	if err != nil {
		b.Fatal(err)
	}
	var srcs []pipeline.Source
	for i := range benchSources {
		srcs = append(srcs, pipeline.Source{Source: fetch.Source{ID: fmt.Sprintf("s%04d", i), Kind: fetch.KindFeed,
			URL: fmt.Sprintf("%s/f/%d.rss", feeds.URL, i)}, Schedule: "@every 1h"})
	}
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			cpu := cputime.Start(b)
			defer cpu.Stop()
			for range b.N {
				b.StopTimer()
				cpu.Pause()
				dsn := pgtest.NewDatabase(b)
				var runners []*pipeline.Pipeline
				for range n {
					st, err := store.Open(context.Background(), dsn)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { st.Close() })
					client := fetch.NewClient(fetch.ClientOptions{PerHost: 64, HostInterval: -1, Timeout: 30 * time.Second,
						AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
					runners = append(runners, pipeline.New(pipeline.Options{Store: st,
						Ingest: pipeline.IngestOptions{Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: feed.New(client, feed.Options{})}, Classifier: eng},
						Outbox: pipeline.OutboxOptions{Sinks: []sinks.Sink{webhook.New(webhook.Options{Name: "hook", URL: hook.URL})}},
					}))
				}
				delivered.Store(0)
				slot := time.Now()
				cpu.Resume()
				b.StartTimer()
				var wg sync.WaitGroup
				for _, r := range runners {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx := context.Background()
						reps := r.RunAll(ctx, srcs, pipeline.RunOptions{DeliverExisting: true, Shared: true, Since: slot}, benchWorkers)
						for _, rep := range reps {
							if rep.Err != nil {
								b.Error(rep.Err)
							}
						}
						if _, err := r.Flush(ctx); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				cpu.Pause()
				if got := delivered.Load(); got != benchSources {
					b.Fatalf("delivered %d records, want %d", got, benchSources)
				}
				cpu.Resume()
				b.StartTimer()
			}
		})
	}
}
