package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// An installation upgraded from the version whose fetchers each keyed
// items their own way delivers none of its old items again: the store
// moves them to today's keys when it opens.
func TestUpgradedStoreDeliversNoOldItemAgain(t *testing.T) {
	ctx := context.Background()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Cybercrime treaty signed</title><link>%[1]s/news/signed#part</link><pubDate>Sat, 25 Oct 2025 10:00:00 +0000</pubDate></item>
<item><title>Cybercrime treaty ratified</title><link>%[1]s/news/ratified</link><guid isPermaLink="true">%[1]s/news/ratified?utm_source=rss</guid></item>
<item><title>Cybercrime treaty: a note</title><description>No link, no id.</description></item>
</channel></rss>`, base)
	}))
	defer srv.Close()
	base = srv.URL
	oldHash := sha256.Sum256([]byte("Cybercrime treaty: a note\nNo link, no id."))
	// The keys the earlier version gave these items: a link as the feed
	// wrote it (fragment and all), a permalink GUID as written, a bare
	// hash of title and summary.
	oldKeys := map[string]string{
		base + "/news/signed#part":             base + "/news/signed#part",
		base + "/news/ratified?utm_source=rss": base + "/news/ratified",
		hex.EncodeToString(oldHash[:]):         "",
	}
	cls := wordClassifier{}
	client := fetch.NewClient(fetch.ClientOptions{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostInterval: -1})
	src := Source{Source: fetch.Source{ID: "desk", Kind: fetch.KindFeed, URL: srv.URL}}

	// oldStore is a store that holds the items under their old keys,
	// delivered to the sink already, as an earlier version left it.
	oldStore := func(rekey bool) *store.Store {
		path := filepath.Join(t.TempDir(), "state.db")
		st, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		var ls []store.Labeled
		for key, u := range oldKeys {
			it := fetch.Item{Key: key, SourceID: "desk", URL: u}
			switch {
			case u == "":
				it.Title, it.Summary = "Cybercrime treaty: a note", "No link, no id."
			case key == u:
				it.URL, it.Title = base+"/news/signed#part", "Cybercrime treaty signed"
			default:
				it.Title = "Cybercrime treaty ratified"
			}
			ls = append(ls, store.Labeled{Item: it, Result: cls.Classify(it)})
		}
		if _, err := st.CommitRun(ctx, store.RunCommit{SourceID: "desk", At: time.Now(), Listed: len(ls), Items: ls, Sinks: []string{"rec"}}); err != nil {
			t.Fatal(err)
		}
		if rekey {
			n, err := st.Rekey(ctx)
			if err != nil || n != len(oldKeys) {
				t.Fatalf("rekey moved %d items (%v), want %d", n, err, len(oldKeys))
			}
			if n, err := st.Rekey(ctx); err != nil || n != 0 {
				t.Fatalf("a second rekey moved %d (%v)", n, err)
			}
		}
		return st
	}
	tests := []struct {
		name  string
		rekey bool
		fresh int // items the run takes as new (and delivers: all are relevant)
	}{
		// Items with a link were caught by their URL even before; an item
		// known by its text only was not.
		{"without the upgrade an old item comes again", false, 1},
		{"after the upgrade nothing is new", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := oldStore(tt.rekey)
			sink := &memSink{name: "rec"}
			r := New(Options{Store: st, Outbox: OutboxOptions{Sinks: []sinks.Sink{sink}},
				Ingest: IngestOptions{Classifier: cls, Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: feed.New(client, feed.Options{})}}})
			rep := r.RunSource(ctx, src, RunOptions{Force: true})
			if rep.Err != nil || rep.Items != 3 {
				t.Fatalf("run: %+v", rep)
			}
			if rep.New != tt.fresh || rep.Queued != tt.fresh {
				t.Errorf("run took %d new, queued %d; want %d", rep.New, rep.Queued, tt.fresh)
			}
			stored := 0
			if err := st.Items(ctx, store.ItemFilter{SourceID: "desk"}, func(store.Labeled) error { stored++; return nil }); err != nil {
				t.Fatal(err)
			}
			if stored != 3+tt.fresh {
				t.Errorf("%d items stored, want %d", stored, 3+tt.fresh)
			}
		})
	}
}
