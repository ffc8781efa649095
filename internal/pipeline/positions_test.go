package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/treaty"
	"github.com/treatywatch/treatywatch/internal/store"
)

// eventsClassifier is wordClassifier that keeps the treaty events it was
// given, each call's set.
type eventsClassifier struct {
	wordClassifier
	mu    sync.Mutex
	calls [][]fetch.TreatyEvent
	// before counts the items classified before the first call
	before int
}

func (c *eventsClassifier) Classify(it fetch.Item) classify.Result {
	c.mu.Lock()
	if len(c.calls) == 0 {
		c.before++
	}
	c.mu.Unlock()
	return c.wordClassifier.Classify(it)
}

func (c *eventsClassifier) SetTreatyEvents(evs []fetch.TreatyEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, slices.Clone(evs))
}

func (c *eventsClassifier) got() (calls [][]fetch.TreatyEvent, before int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls), c.before
}

// eventNames are "participant action date" of evs, sorted.
func eventNames(evs []fetch.TreatyEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s %s", e.Participant, e.Action, e.Date.Format("2006-01-02")))
	}
	slices.Sort(out)
	return out
}

func TestTreatyEventsReachTheClassifier(t *testing.T) {
	doc := `<?xml version="1.0" encoding="ISO-8859-1"?>
<TreatyCollection><Treaty>
<Header><Title>United Nations Convention against Cybercrime</Title></Header>
<Participants><Table><TGroup>
<Thead><Row><Entry>Participant</Entry><Entry>Signature</Entry><Entry>Ratification, Acceptance(A), Approval(AA), Accession(a)</Entry></Row></Thead>
<Tbody><Rows>
<Row><Entry>Mexico</Entry><Entry>25 Oct 2025</Entry><Entry>12 Mar 2026</Entry></Row>
<Row><Entry>Viet Nam</Entry><Entry>25 Oct 2025</Entry><Entry></Entry></Row>
</Rows></Tbody></TGroup></Table></Participants></Treaty></TreatyCollection>
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		http.ServeContent(w, r, "status.xml", time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC), strings.NewReader(doc))
	}))
	defer srv.Close()
	client := fetch.NewClient(fetch.ClientOptions{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostInterval: -1})
	untc := Source{Source: fetch.Source{ID: "untc", Kind: fetch.KindTreaty, URL: srv.URL + "/XVIII-16.en.xml"}, Schedule: "@every 24h"}
	want := []string{"Mexico ratification 2026-03-12", "Mexico signature 2025-10-25", "Viet Nam signature 2025-10-25"}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 3, 13, 8, 0, 0, 0, time.UTC)}
	feed := &scriptFetcher{steps: []any{fetch.Batch{Items: items("a")}}}
	runner := func(c *eventsClassifier) *Pipeline {
		return New(Options{Store: st, Now: clk.Now, Ingest: IngestOptions{Classifier: c, Fetchers: map[fetch.Kind]fetch.Fetcher{
			fetch.KindTreaty: treaty.New(client, nil), fetch.KindFeed: feed}}})
	}

	steps := []struct {
		name string
		// run makes a new Runner (a restarted process) when set
		restart bool
		src     Source
		// calls the classifier has had after the step; the last one's
		// events (sorted)
		calls int
		last  []string
	}{
		{name: "a feed run before any treaty run: nothing to hand over", restart: true, src: feedSrc, calls: 0},
		{name: "the treaty run hands over its events", src: untc, calls: 1, last: want},
		{name: "a restarted process loads them from the store before it classifies", restart: true, src: feedSrc, calls: 1, last: want},
	}
	var c *eventsClassifier
	var r *Pipeline
	for _, s := range steps {
		if s.restart {
			c = &eventsClassifier{}
			r = runner(c)
		}
		feed.steps = []any{fetch.Batch{Items: items(s.name[:1] + fmt.Sprint(len(s.name)))}}
		rep := r.RunSource(ctx, s.src, RunOptions{Force: true, DeliverExisting: true})
		if rep.Err != nil || rep.Outcome != OutcomeOK {
			t.Fatalf("%s: run %+v", s.name, rep)
		}
		calls, before := c.got()
		if len(calls) != s.calls {
			t.Fatalf("%s: classifier got %d sets of treaty events, want %d", s.name, len(calls), s.calls)
		}
		if s.calls == 0 {
			continue
		}
		if got := eventNames(calls[len(calls)-1]); !slices.Equal(got, s.last) {
			t.Errorf("%s: events %q, want %q", s.name, got, s.last)
		}
		if s.restart && before != 0 {
			t.Errorf("%s: %d items classified before the events were loaded", s.name, before)
		}
	}
}
