package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/store"
)

// NewDSN returns the name of a new, empty database for one test (an
// SQLite path, a PostgreSQL URL); store.Open opens it.
type NewDSN func(t *testing.T) string

// Run runs the whole suite against the backend newDSN makes databases
// for.
func Run(t *testing.T, newDSN NewDSN) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newDSN NewDSN)
	}{
		{"ReopenKeepsState", testReopen},
		{"CommitQueuesRelevantItems", testCommitQueues},
		{"UnseenAndKnownURLs", testUnseen},
		{"OutboxAckRetryRedeliver", testOutbox},
		{"ClaimsAreExclusiveAcrossHandles", testClaimExclusive},
		{"ExpiredClaimsGoToAnother", testClaimExpiry},
		{"ReleaseKeepsAttempts", testRelease},
		{"NextAttemptSeesLeases", testNextAttempt},
		{"SourceSlotClaims", testSourceClaims},
		{"SourceClaimsRace", testSourceClaimRace},
		{"NamedLeases", testNamedLeases},
		{"FailuresAndHealth", testHealth},
		{"NotModifiedRunsInOneCall", testNotModifiedRuns},
		{"FailuresInOneCall", testFailures},
		{"CommitRunsAsOne", testCommitRuns},
		{"StateItemsAndForget", testStateItems},
		{"ManyItemsInOneCommit", testManyItems},
		{"IrrelevantItemsStoredLean", testLean},
		{"PruneIrrelevant", testPrune},
		{"RekeyMovesOldKeys", testRekey},
		{"RekeyMovesCorrections", testRekeyCorrections},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newDSN) })
	}
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func open(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func labeled(src, key string, relevant bool) store.Labeled {
	return store.Labeled{
		Item:   fetch.Item{SourceID: src, Key: key, Title: "title " + key, URL: "https://example.org/" + src + "/" + key},
		Result: classify.Result{Relevant: relevant, Topics: []rules.Topic{"ratification"}, Stance: classify.StanceNeutral, Rules: "test-1"},
	}
}

// queue commits n relevant items of source src for sinks.
func queue(t *testing.T, s *store.Store, src string, n int, sinks ...string) {
	t.Helper()
	var items []store.Labeled
	for i := range n {
		items = append(items, labeled(src, fmt.Sprintf("k%03d", i), true))
	}
	if _, err := s.Commit(context.Background(), store.Commit{SourceID: src, At: t0, Items: items, Deliver: true, Sinks: sinks}); err != nil {
		t.Fatal(err)
	}
}

func eventIDs(ps []store.Pending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Record.EventID
	}
	return out
}

func ids(ps []store.Pending) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testReopen(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	dsn := newDSN(t)
	s := open(t, dsn)
	v, err := s.SchemaVersion(ctx)
	if err != nil || v < 3 {
		t.Fatalf("schema version = %d, %v", v, err)
	}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "a", At: t0, Validators: fetch.Validators{ETag: `"x"`, LastModified: "Mon, 23 Nov 2026 09:00:00 GMT"},
		Items: []store.Labeled{labeled("a", "k1", true)}, Deliver: true, Sinks: []string{"jsonl"}, NextRun: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open(t, dsn)
	if v2, _ := s2.SchemaVersion(ctx); v2 != v {
		t.Errorf("schema version after reopen = %d, want %d", v2, v)
	}
	st, err := s2.Source(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Initialised || st.Validators.ETag != `"x"` || st.Validators.LastModified == "" || !st.LastSuccess.Equal(t0) || !st.NextRun.Equal(t0.Add(time.Hour)) {
		t.Errorf("state after reopen = %+v", st)
	}
	due, err := s2.Due(ctx, "jsonl", t0, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due after reopen = %d, %v; want 1", len(due), err)
	}
	if due[0].Record.Item.Title != "title k1" || due[0].Record.Result.Rules != "test-1" || !due[0].Created.Equal(t0) {
		t.Errorf("record after reopen = %+v", due[0])
	}
}

func testCommitQueues(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	tests := []struct {
		name    string
		commit  store.Commit
		want    int
		wantDue map[string]int
	}{
		{"first run stores but does not deliver", store.Commit{SourceID: "s", Items: []store.Labeled{labeled("s", "1", true)}, Sinks: []string{"a", "b"}}, 0, map[string]int{"a": 0, "b": 0}},
		{"relevant items to every sink", store.Commit{SourceID: "s", Deliver: true, Items: []store.Labeled{labeled("s", "1", true), labeled("s", "2", false), labeled("s", "3", true)}, Sinks: []string{"a", "b"}}, 4, map[string]int{"a": 2, "b": 2}},
		{"no sinks", store.Commit{SourceID: "s", Deliver: true, Items: []store.Labeled{labeled("s", "1", true)}}, 0, map[string]int{"a": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, newDSN(t))
			tt.commit.At = t0
			n, err := s.Commit(ctx, tt.commit)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("queued %d, want %d", n, tt.want)
			}
			for sink, want := range tt.wantDue {
				if due, _ := s.Due(ctx, sink, t0, 100); len(due) != want {
					t.Errorf("due for %s = %d, want %d", sink, len(due), want)
				}
			}
			var stored int
			s.Items(ctx, store.ItemFilter{SourceID: "s"}, func(store.Labeled) error { stored++; return nil })
			if stored != len(tt.commit.Items) {
				t.Errorf("stored %d items, want %d", stored, len(tt.commit.Items))
			}
		})
	}
}

func testUnseen(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: []store.Labeled{labeled("s", "old", true)}}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"old", "new"}
	for i := range 1200 { // more than one chunk of placeholders
		keys = append(keys, fmt.Sprintf("n%d", i))
	}
	fresh, err := unseen(ctx, s, "s", keys)
	if err != nil {
		t.Fatal(err)
	}
	if fresh["old"] || !fresh["new"] || len(fresh) != len(keys)-1 {
		t.Errorf("unseen = %d keys, old=%v new=%v", len(fresh), fresh["old"], fresh["new"])
	}
	other, err := unseen(ctx, s, "other", []string{"old"})
	if err != nil || !other["old"] {
		t.Errorf("a key is per source: %v %v", other, err)
	}
	known, err := knownURLs(ctx, s, "s", []string{"https://example.org/s/old", "https://example.org/s/new"})
	if err != nil || !known["https://example.org/s/old"] || len(known) != 1 {
		t.Errorf("known urls = %v, %v", known, err)
	}

	// Known: keys and URLs in one lookup, for lists of every size (the
	// query is padded to a few shapes, more values take several).
	moved := labeled("s", "moved-a", false)
	moved.Item.URL = "https://example.org/s/moved"
	twin := labeled("s", "moved-b", false)
	twin.Item.URL = moved.Item.URL
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: []store.Labeled{twin, moved}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 15, 16, 17, 64, 65, 200} {
		keys := []string{"old"}
		urls := []string{moved.Item.URL, "https://example.org/s/new"}
		for i := range n {
			keys = append(keys, fmt.Sprintf("n%d", i))
			if i%2 == 0 {
				urls = append(urls, fmt.Sprintf("https://example.org/s/n%d", i))
			}
		}
		keys = append(keys, "moved-b") // last: in the last chunk
		stored, byURL, err := s.Known(ctx, "s", keys, urls)
		if err != nil {
			t.Fatalf("%d more keys: %v", n, err)
		}
		if len(stored) != 2 || !stored["old"] || !stored["moved-b"] {
			t.Errorf("%d more keys: stored = %v, want old and moved-b", n, stored)
		}
		if len(byURL) != 1 || byURL[moved.Item.URL] != "moved-a" {
			t.Errorf("%d more keys: by URL = %v, want the smallest key of the moved URL", n, byURL)
		}
	}
	if stored, byURL, err := s.Known(ctx, "other", []string{"old"}, []string{moved.Item.URL}); err != nil || len(stored) != 0 || len(byURL) != 0 {
		t.Errorf("keys and URLs are per source: %v %v %v", stored, byURL, err)
	}
}

func testOutbox(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	c := store.Commit{SourceID: "s", At: t0, Deliver: true, Sinks: []string{"hook"},
		Items: []store.Labeled{labeled("s", "1", true), labeled("s", "2", true)}}
	if _, err := s.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	due, err := s.ClaimDue(ctx, "hook", t0, (t0.Add(time.Minute)).Sub(t0), 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("claimed = %d, %v", len(due), err)
	}
	if err := s.Ack(ctx, t0, due[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, t0.Add(time.Minute), "status 500", due[1].ID); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.ClaimDue(ctx, "hook", t0.Add(59*time.Second), (t0.Add(2 * time.Minute)).Sub(t0.Add(59*time.Second)), 10); len(d) != 0 {
		t.Errorf("claimed before the retry time: %d", len(d))
	}
	next, ok, err := s.NextAttempt(ctx, "hook")
	if err != nil || !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next attempt = %v %v %v", next, ok, err)
	}
	d, _ := s.ClaimDue(ctx, "hook", t0.Add(time.Minute), (t0.Add(2 * time.Minute)).Sub(t0.Add(time.Minute)), 10)
	if len(d) != 1 || d[0].Attempts != 1 || d[0].Record.EventID != due[1].Record.EventID {
		t.Fatalf("claimed after the retry time = %+v", d)
	}
	if depth, _ := s.OutboxDepth(ctx); depth["hook"] != 1 {
		t.Errorf("depth = %v", depth)
	}
	if err := s.Ack(ctx, t0.Add(time.Minute), d[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.NextAttempt(ctx, "hook"); ok {
		t.Error("something pending after both acks")
	}
	if n, _ := s.Commit(ctx, c); n != 0 {
		t.Errorf("recommit queued %d, want 0", n)
	}
	c.Redeliver = true
	if n, _ := s.Commit(ctx, c); n != 2 {
		t.Errorf("redeliver queued %d, want 2", n)
	}
	if w, _ := s.Window(ctx, "hook", t0); len(w) != 2 {
		t.Errorf("window = %d, want 2", len(w))
	}
}

// testClaimExclusive has three handles, as three instances, claim one
// outbox at once in small batches: every record is claimed exactly once.
func testClaimExclusive(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	dsn := newDSN(t)
	first := open(t, dsn)
	const n = 120
	queue(t, first, "s", n, "hook")
	var mu sync.Mutex
	got := map[string][]string{}
	var wg sync.WaitGroup
	var errs []error
	for w := range 3 {
		h := first
		if w > 0 {
			h = open(t, dsn)
		}
		owner := fmt.Sprintf("instance-%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ps, err := h.ClaimDue(ctx, "hook", t0, (t0.Add(time.Minute)).Sub(t0), 7)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(ps) == 0 {
					return
				}
				for _, p := range ps {
					mu.Lock()
					got[p.Record.EventID] = append(got[p.Record.EventID], owner)
					mu.Unlock()
					if err := h.Ack(ctx, t0, p.ID); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(got) != n {
		t.Errorf("claimed %d distinct records, want %d", len(got), n)
	}
	for id, owners := range got {
		if len(owners) != 1 {
			t.Errorf("record %s claimed %d times: %v", id, len(owners), owners)
		}
	}
}

func testClaimExpiry(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	dsn := newDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	queue(t, a, "s", 5, "hook")
	lease := 30 * time.Second
	held, err := a.ClaimDue(ctx, "hook", t0, (t0.Add(lease)).Sub(t0), 3)
	if err != nil || len(held) != 3 {
		t.Fatalf("a claimed %d, %v", len(held), err)
	}
	if n, _ := a.Claimed(ctx, a.Owner()); n != 3 {
		t.Errorf("claimed by a = %d, want 3", n)
	}
	rest, _ := b.ClaimDue(ctx, "hook", t0, (t0.Add(lease)).Sub(t0), 10)
	if len(rest) != 2 {
		t.Fatalf("b claimed %d beside a's claim, want the 2 others", len(rest))
	}
	if err := b.Ack(ctx, t0, ids(rest)...); err != nil {
		t.Fatal(err)
	}
	if err := a.Ack(ctx, t0, held[0].ID); err != nil {
		t.Fatal(err)
	}
	// a renews: its claims outlive the first lease.
	if err := a.RenewLeases(ctx, t0.Add(2*lease)); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.ClaimDue(ctx, "hook", t0.Add(lease+time.Second), (t0.Add(3 * lease)).Sub(t0.Add(lease+time.Second)), 10); len(got) != 0 {
		t.Errorf("b took %d records of a live, renewed claim", len(got))
	}
	// a dies: after its lease b takes what a had not acknowledged.
	got, err := b.ClaimDue(ctx, "hook", t0.Add(2*lease+time.Second), (t0.Add(4 * lease)).Sub(t0.Add(2*lease+time.Second)), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := eventIDs(held[1:])
	if g := eventIDs(got); !slices.Equal(g, want) {
		t.Errorf("b took over %v, want %v", g, want)
	}
	if n, _ := b.Claimed(ctx, a.Owner()); n != 0 {
		t.Errorf("a still holds %d after the takeover", n)
	}
}

func testRelease(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	queue(t, s, "s", 3, "hook")
	ps, _ := s.ClaimDue(ctx, "hook", t0, (t0.Add(time.Minute)).Sub(t0), 10)
	if len(ps) != 3 {
		t.Fatalf("claimed %d", len(ps))
	}
	if err := s.Release(ctx, t0.Add(10*time.Second), ids(ps[1:])...); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimDue(ctx, "hook", t0.Add(5*time.Second), (t0.Add(time.Minute)).Sub(t0.Add(5*time.Second)), 10); len(got) != 0 {
		t.Errorf("released records claimable before their next attempt: %d", len(got))
	}
	got, _ := s.ClaimDue(ctx, "hook", t0.Add(10*time.Second), (t0.Add(time.Minute)).Sub(t0.Add(10*time.Second)), 10)
	if !slices.Equal(eventIDs(got), eventIDs(ps[1:])) {
		t.Errorf("claimed after release = %v, want %v", eventIDs(got), eventIDs(ps[1:]))
	}
	for _, p := range got {
		if p.Attempts != 0 {
			t.Errorf("a release counted an attempt: %+v", p)
		}
	}
}

func testNextAttempt(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	queue(t, s, "s", 1, "hook")
	if _, err := s.ClaimDue(ctx, "hook", t0, (t0.Add(time.Minute)).Sub(t0), 10); err != nil {
		t.Fatal(err)
	}
	next, ok, err := s.NextAttempt(ctx, "hook")
	if err != nil || !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next attempt of a record another holds = %v %v %v; want the lease end", next, ok, err)
	}
}

func testSourceClaims(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	dsn := newDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	lease := time.Minute
	slot := func(_ string, now time.Time) store.SourceClaim { // the name says which handle claims
		return store.SourceClaim{Now: now, Until: now.Add(lease), Scheduled: true, Next: now.Add(30 * time.Minute)}
	}
	steps := []struct {
		name  string
		h     *store.Store
		claim store.SourceClaim
		want  bool
	}{
		{"a new source is due", a, slot("a", t0), true},
		{"another instance in the same slot while a runs", b, slot("b", t0.Add(time.Second)), false},
	}
	for _, st := range steps {
		if got, err := st.h.ClaimSource(ctx, "src", st.claim); err != nil || got != st.want {
			t.Fatalf("%s: claim = %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	if err := a.ReleaseSource(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	steps = []struct {
		name  string
		h     *store.Store
		claim store.SourceClaim
		want  bool
	}{
		{"the same slot after a finished", b, slot("b", t0.Add(2*time.Second)), false},
		{"a one-off pass ignores the schedule", b, store.SourceClaim{Now: t0.Add(3 * time.Second), Until: t0.Add(lease)}, true},
	}
	for _, st := range steps {
		if got, err := st.h.ClaimSource(ctx, "src", st.claim); err != nil || got != st.want {
			t.Fatalf("%s: claim = %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	b.ReleaseSource(ctx, "src")
	if got, _ := b.ClaimSource(ctx, "src", slot("b", t0.Add(30*time.Minute))); !got {
		t.Fatal("the next slot was refused")
	}
	// b dies mid-run: its lease runs out, the run is abandoned, a takes
	// it over although the next slot is not due yet.
	later := t0.Add(30*time.Minute + lease + time.Second)
	if ab, _ := a.AbandonedSources(ctx, t0.Add(30*time.Minute)); len(ab) != 0 {
		t.Errorf("abandoned while the lease runs: %v", ab)
	}
	ab, err := a.AbandonedSources(ctx, later)
	if err != nil || !slices.Equal(ab, []string{"src"}) {
		t.Fatalf("abandoned = %v, %v", ab, err)
	}
	if got, _ := a.ClaimSource(ctx, "src", slot("a", later)); !got {
		t.Fatal("an abandoned run was not taken over")
	}
	a.ReleaseSource(ctx, "src")
	if got, _ := a.ClaimSource(ctx, "src", slot("a", later.Add(time.Second))); got {
		t.Error("the taken-over slot ran twice")
	}
	// Claims do not touch the source's health.
	if st, _ := a.Source(ctx, "src"); st.Failures != 0 || st.Initialised {
		t.Errorf("claims changed the state: %+v", st)
	}
}

// testSourceClaimRace has several handles claim the same slot of many
// sources at once: each slot goes to exactly one.
func testSourceClaimRace(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	dsn := newDSN(t)
	const sources = 40
	var hs []*store.Store
	for range 3 {
		hs = append(hs, open(t, dsn))
	}
	var mu sync.Mutex
	won := map[string]int{}
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range sources {
				id := fmt.Sprintf("src-%02d", i)
				ok, err := h.ClaimSource(ctx, id, store.SourceClaim{Now: t0, Until: t0.Add(time.Minute), Scheduled: true, Next: t0.Add(time.Hour)})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					won[id]++
					mu.Unlock()
					if err := h.ReleaseSource(ctx, id); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(won) != sources {
		t.Errorf("%d of %d sources claimed", len(won), sources)
	}
	for id, n := range won {
		if n != 1 {
			t.Errorf("source %s claimed %d times for one slot", id, n)
		}
	}
}

func testNamedLeases(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	dsn := newDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	lease := time.Minute
	steps := []struct {
		name string
		h    *store.Store
		who  string
		at   time.Time
		want bool
	}{
		{"first claim", a, "a", t0, true},
		{"held by another", b, "b", t0.Add(time.Second), false},
		{"the holder again", a, "a", t0.Add(2 * time.Second), true},
		{"after the lease ran out", b, "b", t0.Add(2*time.Second + lease + time.Second), true},
		{"the old holder is out", a, "a", t0.Add(2*time.Second + lease + 2*time.Second), false},
	}
	for _, st := range steps {
		got, err := st.h.ClaimLease(ctx, "window/digest", st.at, st.at.Add(lease))
		if err != nil || got != st.want {
			t.Fatalf("%s: %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	if err := b.ReleaseLease(ctx, "window/digest"); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.ClaimLease(ctx, "window/digest", t0.Add(lease), t0.Add(2*lease)); !got {
		t.Error("a released lease was refused")
	}
}

func testHealth(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	for i := 1; i <= 3; i++ {
		n, err := s.RecordFailure(ctx, "s", fetch.ErrBlocked, "blocked: status 403", t0, t0.Add(time.Hour))
		if err != nil || n != i {
			t.Fatalf("failure %d: n=%d err=%v", i, n, err)
		}
	}
	st, _ := s.SourceStatuses(ctx)
	if len(st) != 1 || st[0].State != "blocked" || st[0].Failures != 3 || !st[0].NextRun.Equal(t0.Add(time.Hour)) {
		t.Errorf("status = %+v", st)
	}
	if err := s.RecordNotModified(ctx, "s", t0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	st, _ = s.SourceStatuses(ctx)
	if st[0].State != "ok" || st[0].Failures != 0 {
		t.Errorf("status after 304 = %+v", st)
	}
}

// testNotModifiedRuns: several 304s written in one call, for sources
// known (failing) and new, set each one's fetch times and next run and
// clear its failures.
func testNotModifiedRuns(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	if _, err := s.RecordFailure(ctx, "failing", fetch.ErrHTTP, "status 500", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordNotModifiedRuns(ctx); err != nil {
		t.Fatalf("no runs: %v", err)
	}
	at := t0.Add(2 * time.Hour)
	runs := []store.NotModified{
		{ID: "failing", At: at, NextRun: at.Add(time.Hour)},
		{ID: "new", At: at.Add(time.Minute)},
		{ID: "other", At: at.Add(2 * time.Minute), NextRun: at.Add(3 * time.Hour)},
	}
	if err := s.RecordNotModifiedRuns(ctx, runs...); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		st, err := s.Source(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Failures != 0 || st.ErrorKind != "" || st.LastError != "" || !st.LastFetch.Equal(r.At) ||
			!st.LastSuccess.Equal(r.At) || !st.NextRun.Equal(r.NextRun) {
			t.Errorf("%s after its 304: %+v, want %+v", r.ID, st, r)
		}
	}
	all, err := s.Sources(ctx)
	if err != nil || len(all) != 3 {
		t.Errorf("sources = %d, %v; want 3", len(all), err)
	}
}

// testFailures: RecordFailures writes each failure as RecordFailure
// does, run by run, for a source seen before and one never seen.
func testFailures(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	at := t0.Add(2 * time.Hour)
	fs := []store.Failure{
		{ID: "failing", Kind: fetch.ErrHTTP, Msg: "status 503", At: at, NextRun: at.Add(time.Hour)},
		{ID: "new", Kind: fetch.ErrTimeout, Msg: "timed out after 30s", At: at.Add(time.Minute), NextRun: at.Add(2 * time.Hour)},
		{ID: "healthy", Kind: fetch.ErrParse, Msg: "not a feed", At: at.Add(2 * time.Minute), NextRun: at.Add(3 * time.Hour)},
	}
	prepare := func(s *store.Store) {
		t.Helper()
		for range 2 {
			if _, err := s.RecordFailure(ctx, "failing", fetch.ErrHTTP, "status 500", t0, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordNotModified(ctx, "healthy", t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	one, grouped := open(t, newDSN(t)), open(t, newDSN(t))
	prepare(one)
	prepare(grouped)
	for _, f := range fs {
		if _, err := one.RecordFailure(ctx, f.ID, f.Kind, f.Msg, f.At, f.NextRun); err != nil {
			t.Fatal(err)
		}
	}
	if err := grouped.RecordFailures(ctx); err != nil {
		t.Fatalf("no failures: %v", err)
	}
	if err := grouped.RecordFailures(ctx, fs...); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		want, err := one.Source(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := grouped.Source(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s after RecordFailures:\n%+v\nafter RecordFailure:\n%+v", f.ID, got, want)
		}
		if wantN := []int{3, 1, 1}[i]; got.Failures != wantN || got.ErrorKind != string(f.Kind) || got.LastError != f.Msg ||
			!got.LastFetch.Equal(f.At) || !got.NextRun.Equal(f.NextRun) {
			t.Errorf("%s after RecordFailures: %+v, want %d failures and %+v", f.ID, got, wantN, f)
		}
	}
	if got, _ := grouped.Source(ctx, "healthy"); !got.LastSuccess.Equal(t0) {
		t.Errorf("a failure changed the last success: %+v", got)
	}
}

func testStateItems(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	if _, ok, _ := s.GetState(ctx, "k"); ok {
		t.Fatal("state exists before put")
	}
	for _, v := range []string{"one", "two\x00bytes"} {
		if err := s.PutState(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, _ := s.GetState(ctx, "k"); !ok || string(v) != "two\x00bytes" {
		t.Errorf("state = %q %v", v, ok)
	}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: []store.Labeled{labeled("s", "1", false), labeled("s", "2", true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0.Add(time.Hour), Items: []store.Labeled{labeled("s", "3", true)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateResult(ctx, "s", "1", classify.Result{Relevant: true, Rules: "test-2"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	s.Items(ctx, store.ItemFilter{RelevantOnly: true, Until: t0.Add(time.Minute)}, func(l store.Labeled) error {
		got = append(got, l.Item.Key+"@"+l.Result.Rules)
		return nil
	})
	if !slices.Equal(got, []string{"1@test-2", "2@test-1"}) {
		t.Errorf("relevant items seen before t0+1m = %v", got)
	}
	if n, err := s.Forget(ctx, "s", "1"); err != nil || n != 1 {
		t.Errorf("forget = %d, %v", n, err)
	}
	if u, _ := unseen(ctx, s, "s", []string{"1", "2"}); !u["1"] || u["2"] {
		t.Errorf("unseen after forget = %v", u)
	}
}

// testManyItems: a commit of more items than one statement writes, with
// a key that comes twice (the later copy wins, as a row per item would
// have it), stores, queues and indexes each distinct item once.
func testManyItems(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	var items []store.Labeled
	for i := range 150 {
		items = append(items, labeled("s", fmt.Sprintf("k%03d", i), i%3 == 0))
	}
	dup := labeled("s", "k007", true)
	dup.Item.Title = "zeppelin later copy"
	items = append(items, dup)
	queued, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: items, Deliver: true, Sinks: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (50 + 1); queued != want { // k007 became relevant
		t.Errorf("queued %d, want %d", queued, want)
	}
	titles := map[string]string{}
	s.Items(ctx, store.ItemFilter{}, func(l store.Labeled) error {
		titles[l.Item.Key] = l.Item.Title
		return nil
	})
	if len(titles) != 150 || titles["k007"] != "zeppelin later copy" || titles["k149"] != "title k149" {
		t.Errorf("stored %d items, k007 %q, k149 %q", len(titles), titles["k007"], titles["k149"])
	}
	all, err := s.SearchItems(ctx, dashboard.ItemQuery{Relevance: dashboard.AnyRelevance, Limit: 10})
	if err != nil || all.Total != 150 {
		t.Errorf("the dashboard lists %d items (%v), want 150", all.Total, err)
	}
	rel, err := s.SearchItems(ctx, dashboard.ItemQuery{Limit: 10})
	if err != nil || rel.Total != 51 {
		t.Errorf("the dashboard lists %d relevant items (%v), want 51", rel.Total, err)
	}
	hit, err := s.SearchItems(ctx, dashboard.ItemQuery{Text: "zeppelin", Relevance: dashboard.AnyRelevance, Limit: 10})
	if err != nil || hit.Total != 1 || hit.Items[0].Key != "k007" {
		t.Errorf("search for the later copy's title = %+v, %v", hit, err)
	}
}

// testLean: an irrelevant item is stored without its text and evidence
// (a hash of the text instead); a relevant one keeps both, its evidence
// read back as it was written.
func testLean(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	ev := []classify.Match{
		{Rule: "alias", Kind: "alias", Words: []string{"convention"}, Sentence: "The convention was signed.", Field: "summary"},
		{Rule: "gate", Kind: "gate", Words: []string{"signed"}, Sentence: "The convention was signed.", Field: "summary", Weight: 1.5},
		{Rule: "topic", Kind: "topic", Label: "ratification", Words: []string{"ratify"}, Field: "title"},
	}
	in := map[string]store.Labeled{}
	for _, rel := range []bool{false, true} {
		l := labeled("s", fmt.Sprint(rel), rel)
		l.Item.Summary, l.Item.Content = "The convention was signed.", "A long text "+l.Item.Key
		l.Result.Evidence = ev
		in[l.Item.Key] = l
	}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: []store.Labeled{in["false"], in["true"]}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Labeled{}
	s.Items(ctx, store.ItemFilter{}, func(l store.Labeled) error { got[l.Item.Key] = l; return nil })
	lean, full := got["false"], got["true"]
	if !lean.Lean || lean.Item.Summary != "" || lean.Item.Content != "" || len(lean.Result.Evidence) != 0 ||
		len(lean.TextSHA256) != 32 || lean.Item.Title != in["false"].Item.Title || lean.Item.URL != in["false"].Item.URL {
		t.Errorf("irrelevant item read back as %+v", lean)
	}
	if full.Lean || full.Item.Content != in["true"].Item.Content || !slices.EqualFunc(full.Result.Evidence, ev, func(a, b classify.Match) bool {
		return a.Rule == b.Rule && a.Kind == b.Kind && a.Label == b.Label && slices.Equal(a.Words, b.Words) &&
			a.Sentence == b.Sentence && a.Field == b.Field && a.Weight == b.Weight
	}) {
		t.Errorf("relevant item read back as %+v", full)
	}
}

// testPrune: the retention of irrelevant items deletes the old ones only,
// never a relevant item, one an analyst corrected or one still queued.
func testPrune(t *testing.T, newDSN NewDSN) {
	ctx := context.Background()
	s := open(t, newDSN(t))
	old := []store.Labeled{labeled("s", "old", false), labeled("s", "old-relevant", true), labeled("s", "old-corrected", false), labeled("s", "old-queued", false)}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: old}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0.Add(48 * time.Hour), Items: []store.Labeled{labeled("s", "new", false)}}); err != nil {
		t.Fatal(err)
	}
	page, err := s.SearchItems(ctx, dashboard.ItemQuery{Relevance: dashboard.IrrelevantOnly, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if it.Key == "old-corrected" {
			if _, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: it.ID, Label: dashboard.Label{Relevant: false}, Who: "analyst", At: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A record queued for the item (relabelled relevant, then not).
	q := labeled("s", "old-queued", true)
	if _, err := s.Commit(ctx, store.Commit{SourceID: "s", At: t0, Items: []store.Labeled{q}, Deliver: true, Sinks: []string{"hook"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateResult(ctx, "s", "old-queued", classify.Result{Relevant: false, Rules: "test-2"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneIrrelevant(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	u, _ := unseen(ctx, s, "s", []string{"old", "old-relevant", "old-corrected", "old-queued", "new"})
	if !u["old"] || len(u) != 1 {
		t.Errorf("unseen after pruning = %v, want only the old irrelevant item", u)
	}
	if all, err := s.SearchItems(ctx, dashboard.ItemQuery{Relevance: dashboard.AnyRelevance, Limit: 10}); err != nil || all.Total != 4 {
		t.Errorf("the dashboard lists %d items after pruning (%v), want 4", all.Total, err)
	}
}
