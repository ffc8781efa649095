package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/corpustest"
	"github.com/treatywatch/treatywatch/internal/pgtest"
	"github.com/treatywatch/treatywatch/sinks"
)

// countingFeeds serves feeds by path and counts, per path, the responses
// it completed and the requests whose client went away before an answer.
// One path can be held: its first request waits until the client dies.
type countingFeeds struct {
	mu      sync.Mutex
	feeds   map[string]servedFeed
	done    map[string]int
	doneBy  map[string][]fetchBy // who fetched, when
	aborted map[string]int
	hold    string
	held    chan string // the User-Agent of the held request
	// gateN, when set, holds every request until requests from gateN
	// different User-Agents (instances) arrived.
	gateN   int
	gateUAs map[string]bool
	gate    chan struct{}
}

// fetchBy is one completed response: the User-Agent that got it, and
// when.
type fetchBy struct {
	ua string
	at time.Time
}

type servedFeed struct {
	body  []byte
	ctype string
}

func newCountingFeeds(t testing.TB) (*countingFeeds, *httptest.Server) {
	cf := &countingFeeds{feeds: map[string]servedFeed{}, done: map[string]int{}, doneBy: map[string][]fetchBy{}, aborted: map[string]int{}, held: make(chan string, 1)}
	srv := httptest.NewServer(cf)
	t.Cleanup(srv.Close)
	return cf, srv
}

func (cf *countingFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cf.mu.Lock()
	f, ok := cf.feeds[r.URL.Path]
	hold := r.URL.Path == cf.hold && cf.aborted[r.URL.Path] == 0 && cf.done[r.URL.Path] == 0
	cf.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if cf.gateN > 0 {
		cf.mu.Lock()
		cf.gateUAs[r.UserAgent()] = true
		if len(cf.gateUAs) == cf.gateN {
			close(cf.gate)
			cf.gateN = 0
		}
		cf.mu.Unlock()
		select {
		case <-cf.gate:
		case <-r.Context().Done():
			return
		case <-time.After(time.Minute):
		}
	}
	if hold {
		select {
		case cf.held <- r.UserAgent():
		default:
		}
		select {
		case <-r.Context().Done(): // the fetching instance died
		case <-time.After(2 * time.Minute):
		}
		cf.mu.Lock()
		cf.aborted[r.URL.Path]++
		cf.mu.Unlock()
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	if _, err := w.Write(f.body); err != nil {
		return
	}
	cf.mu.Lock()
	cf.done[r.URL.Path]++
	cf.doneBy[r.URL.Path] = append(cf.doneBy[r.URL.Path], fetchBy{ua: r.UserAgent(), at: time.Now()})
	cf.mu.Unlock()
}

// countingReceiver is a webhook receiver that records every POST of every
// event id, and which instance (X-Instance) sent it.
type countingReceiver struct {
	mu         sync.Mutex
	posts      map[string]int // event id -> POSTs answered 2xx
	byInstance map[string]int
	afterOK    map[string]int // POSTs of an id that already had a 2xx
	failFirst  int            // answer 500 to the first failFirst POSTs of each id
	tries      map[string]int
	delay      time.Duration
}

func newCountingReceiver(t testing.TB) (*countingReceiver, *httptest.Server) {
	rc := &countingReceiver{posts: map[string]int{}, byInstance: map[string]int{}, afterOK: map[string]int{}, tries: map[string]int{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var env sinks.Envelope
	if err := json.Unmarshal(body, &env); err != nil || env.EventID == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	time.Sleep(rc.delay)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.posts[env.EventID] > 0 {
		rc.afterOK[env.EventID]++
	}
	rc.tries[env.EventID]++
	if rc.tries[env.EventID] <= rc.failFirst {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	rc.posts[env.EventID]++
	rc.byInstance[r.Header.Get("X-Instance")]++
	w.WriteHeader(http.StatusNoContent)
}

func (rc *countingReceiver) snapshot() (ids []string, dups int, byInstance map[string]int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, n := range rc.posts {
		ids = append(ids, id)
		dups += n - 1
	}
	slices.Sort(ids)
	return ids, dups, copyCounts(rc.byInstance)
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// relevantIDs returns the event ids the sink must receive for a feed, by
// the same rules the program uses.
func relevantIDs(t testing.TB, eng *classify.Engine, want map[string]bool, id string, body []byte, ctype, url, sink string) {
	t.Helper()
	items, _, err := feed.Parse(body, ctype, url, fetch.Source{ID: id, Name: id}, time.Now())
	if err != nil {
		return
	}
	for _, it := range items {
		it.SourceID = id
		if eng.Classify(it).Relevant {
			want[sinks.EventID(id, it.Key, sink)] = true
		}
	}
}

// allFetched tells whether every feed was fetched to the end at least
// once.
func (cf *countingFeeds) allFetched() bool {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	for path := range cf.feeds {
		if len(cf.doneBy[path]) == 0 {
			return false
		}
	}
	return true
}

// instanceConfig writes the config of one instance: the sources, one
// webhook sink that names the instance in a header, and a short lease.
// Each instance has its own contact, so its User-Agent tells the feed
// server which one fetched.
func instanceConfig(t testing.TB, dir string, n int, sources []string, hookURL string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "contact: https://instance-%d.example.org/\ndata_dir: %s\nhttp:\n  per_host: 8\n  host_interval: 0s\n  allow_private: [loopback]\n", n, dir)
	b.WriteString("defaults:\n  timeout: 10s\n  min_words: 0\n  deliver_existing: true\n  schedule: \"0 0 1 1 *\"\nstore:\n  lease: 2s\nsources:\n")
	for _, s := range sources {
		b.WriteString(s)
	}
	fmt.Fprintf(&b, "sinks:\n  - name: hook\n    type: webhook\n    url: %s\n    secret: %s\n    timeout: 5s\n    headers:\n      X-Instance: \"%d\"\n", hookURL, hookSecret, n)
	path := filepath.Join(dir, fmt.Sprintf("instance-%d.yaml", n))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// claimedBy counts the outbox records the process pid holds and has not
// acknowledged.
func claimedBy(t testing.TB, db *sql.DB, pid int) int {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND lease_owner LIKE $1`, fmt.Sprintf("%%:%d:%%", pid)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestThreeInstancesOnePostgres runs three real `run` processes on one
// PostgreSQL database over the corpus feeds and a feed about the treaty,
// kills one while it fetches and another while it delivers, and checks
// that the survivor finishes their work: every expected event id reaches
// the receiver, no source is fetched twice for its slot, and the
// duplicates are at most the records the killed instances had claimed
// and not yet acknowledged.
func TestThreeInstancesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := pgtest.NewDatabase(t)
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	cf, feeds := newCountingFeeds(t)
	rc, hook := newCountingReceiver(t)
	rc.delay = 40 * time.Millisecond

	eng, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	var srcs []string
	add := func(id, path string, body []byte, ctype string) {
		cf.feeds[path] = servedFeed{body: body, ctype: ctype}
		srcs = append(srcs, sourceYAML(id, feeds.URL+path))
		relevantIDs(t, eng, want, id, body, ctype, feeds.URL+path, "hook")
	}
	for _, f := range corpustest.Feeds(t) {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		add(feedID(f.Name), "/feeds/"+f.Name, body, f.ContentType())
	}
	add("desk", "/desk.rss", treatyFeed(40), "application/rss+xml; charset=utf-8")
	add("slow", "/slow.rss", treatyFeed(8), "application/rss+xml; charset=utf-8")
	cf.hold = "/slow.rss"
	if len(want) < 40 {
		t.Fatalf("only %d records expected", len(want))
	}

	dir := t.TempDir()
	type instance struct {
		cmd    *exec.Cmd
		done   chan error
		logs   *lockedBuffer
		exited bool // its exit was received from done
	}
	insts := make([]*instance, 3)
	for i := range insts {
		cfg := instanceConfig(t, dir, i, srcs, hook.URL)
		in := &instance{logs: &lockedBuffer{}}
		in.cmd, in.done = startBinary(t, bin, in.logs, "run", "--config", cfg, "--db", dsn, "--log-format", "json", "--retry-backoff", "200ms", "--grace", "20s")
		insts[i] = in
	}
	defer func() {
		for i, in := range insts {
			if !in.exited {
				in.cmd.Process.Kill()
				<-in.done
			}
			if t.Failed() {
				t.Logf("instance %d log:\n%s", i, in.logs.String())
			}
		}
	}()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	killedAt := map[string]time.Time{} // by the instance's part of the User-Agent
	kill := func(i int) int {
		in := insts[i]
		if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-in.done
		in.exited = true
		killedAt[fmt.Sprintf("instance-%d.", i)] = time.Now()
		return claimedBy(t, db, in.cmd.Process.Pid)
	}

	// Kill the instance that is fetching the held feed.
	var fetcher int
	select {
	case ua := <-cf.held:
		fetcher = -1
		for i := range insts {
			if strings.Contains(ua, fmt.Sprintf("instance-%d.", i)) {
				fetcher = i
			}
		}
		if fetcher < 0 {
			t.Fatalf("held request from an unknown User-Agent %q", ua)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("no instance fetched the held feed")
	}
	claimedAtKill := kill(fetcher)
	t.Logf("killed instance %d mid-fetch; it held %d unacknowledged records", fetcher, claimedAtKill)

	// Kill another while it delivers.
	deliverer := -1
	deadline := time.Now().Add(90 * time.Second)
	for deliverer < 0 && time.Now().Before(deadline) {
		ids, _, by := rc.snapshot()
		if len(ids) >= len(want) {
			t.Fatal("delivery finished before an instance could be killed mid-delivery")
		}
		for i := range insts {
			if i != fetcher && by[fmt.Sprint(i)] >= 3 {
				deliverer = i
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if deliverer < 0 {
		t.Fatal("no instance delivered")
	}
	n := kill(deliverer)
	claimedAtKill += n
	ids, _, _ := rc.snapshot()
	t.Logf("killed instance %d mid-delivery (%d of %d delivered); it held %d claimed, unacknowledged records", deliverer, len(ids), len(want), n)

	// The survivor takes over both: every record delivered, and every
	// source fetched (those without relevant items too: a killed
	// instance's runs are taken over once their leases ran out).
	survivor := 3 - fetcher - deliverer
	deadline = time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if ids, _, _ := rc.snapshot(); len(ids) >= len(want) && cf.allFetched() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	insts[survivor].cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-insts[survivor].done:
		insts[survivor].exited = true
		if err != nil {
			t.Errorf("survivor exit: %v", err)
		}
	case <-time.After(time.Minute):
		t.Error("survivor did not stop on SIGTERM")
	}

	ids, dups, by := rc.snapshot()
	var missing []string
	for id := range want {
		if !slices.Contains(ids, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d expected event ids never arrived", len(missing), len(want))
	}
	if extra := len(ids) - (len(want) - len(missing)); extra != 0 {
		t.Errorf("%d event ids arrived that were not expected", extra)
	}
	// Each source has one slot in the test (a yearly schedule). It is
	// fetched once, or again only after the instance that fetched it
	// was killed before it could commit the run: a fetch again is always
	// a takeover of a dead instance's run, never two instances at once.
	killedBy := func(ua string) (time.Time, bool) {
		for k, at := range killedAt {
			if strings.Contains(ua, k) {
				return at, true
			}
		}
		return time.Time{}, false
	}
	cf.mu.Lock()
	refetched := 0
	for path := range cf.feeds {
		by := cf.doneBy[path]
		if len(by) == 0 {
			t.Errorf("%s never fetched to the end", path)
			continue
		}
		for i := 0; i+1 < len(by); i++ {
			died, killed := killedBy(by[i].ua)
			if !killed || !by[i].at.Before(died) || !by[i+1].at.After(died) {
				t.Errorf("%s fetched twice for its one slot: by %q at %s, then by %q at %s, and the first was not killed in between",
					path, by[i].ua, by[i].at.Format(time.StampMilli), by[i+1].ua, by[i+1].at.Format(time.StampMilli))
			}
			refetched++
		}
	}
	heldAborted := cf.aborted["/slow.rss"]
	cf.mu.Unlock()
	if heldAborted != 1 {
		t.Errorf("the held fetch was cut %d times, want 1 (by the kill)", heldAborted)
	}
	t.Logf("sources %d; fetched again after a kill (the dead instance's unfinished runs) %d; held fetch cut by the kill %d",
		len(cf.feeds), refetched, heldAborted)
	t.Logf("records expected %d, received %d, deliveries per instance %v; claimed-not-acked at the kills %d; duplicates %d",
		len(want), len(ids), by, claimedAtKill, dups)
	if dups > claimedAtKill {
		t.Errorf("%d duplicates, more than the %d records the killed instances held", dups, claimedAtKill)
	}
	var pending int
	db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending'`).Scan(&pending)
	if pending != 0 {
		t.Errorf("%d records still pending in the outbox", pending)
	}
}

// TestTwoOnceOnOneSQLite starts a second `once` on the SQLite database
// while the first delivers: the second waits, says for whom, and no
// event id reaches the receiver twice.
func TestTwoOnceOnOneSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	desk := treatyFeed(30)
	deskSrv := serveFeed(t, desk)
	rc, hook := newCountingReceiver(t)
	rc.delay = 30 * time.Millisecond
	eng, _ := classify.Default()
	want := map[string]bool{}
	relevantIDs(t, eng, want, "desk", desk, "application/rss+xml; charset=utf-8", deskSrv.URL+"/desk.rss", "hook")
	dir := t.TempDir()
	cfg := instanceConfig(t, dir, 0, []string{sourceYAML("desk", deskSrv.URL+"/desk.rss")}, hook.URL)

	var logs1, logs2 lockedBuffer
	args := []string{"once", "--config", cfg, "--log-format", "json"}
	first, done1 := startBinary(t, bin, &logs1, args...)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ids, _, _ := rc.snapshot(); len(ids) >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, done2 := startBinary(t, bin, &logs2, args...)
	for i, done := range []chan error{done1, done2} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("once #%d: %v", i+1, err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("once #%d did not finish", i+1)
		}
	}
	ids, dups, _ := rc.snapshot()
	if !slices.Equal(ids, sortedKeys(want)) {
		t.Errorf("receiver has %d event ids, want %d", len(ids), len(want))
	}
	if dups != 0 {
		t.Errorf("%d duplicate deliveries, want 0", dups)
	}
	waitLine := ""
	for _, l := range strings.Split(logs2.String(), "\n") {
		if strings.Contains(l, "waiting") {
			waitLine = l
		}
	}
	t.Logf("second process: %s", waitLine)
	if !strings.Contains(waitLine, fmt.Sprintf("process %d (", first.Process.Pid)) {
		t.Errorf("the second process did not say it waits for process %d:\n%s", first.Process.Pid, logs2.String())
	}
}

// TestTwoOnceOnOnePostgres starts two `once` processes at the same time
// on one PostgreSQL database. The feed server lets no request through
// until both processes asked for a feed, so both passes have begun
// before any source is fetched past the first process's first runs
// (at most its workers, 4). A source another instance is running or
// ran during this pass is not run again: only those first runs, begun
// before the other pass started, may be fetched by both. Every record
// arrives, none twice.
func TestTwoOnceOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := pgtest.NewDatabase(t)
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	cf, feeds := newCountingFeeds(t)
	cf.gateN, cf.gateUAs, cf.gate = 2, map[string]bool{}, make(chan struct{})
	rc, hook := newCountingReceiver(t)
	eng, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	var srcs []string
	for i := range 40 {
		id, path := fmt.Sprintf("desk-%02d", i), fmt.Sprintf("/desk-%02d.rss", i)
		body := treatyFeed(2)
		cf.feeds[path] = servedFeed{body: body, ctype: "application/rss+xml; charset=utf-8"}
		srcs = append(srcs, sourceYAML(id, feeds.URL+path))
		relevantIDs(t, eng, want, id, body, "application/rss+xml; charset=utf-8", feeds.URL+path, "hook")
	}
	dir := t.TempDir()
	var dones []chan error
	var outs []*lockedBuffer
	for i := range 2 {
		cfg := instanceConfig(t, dir, i, srcs, hook.URL)
		logs := &lockedBuffer{}
		_, done := startBinary(t, bin, logs, "once", "--config", cfg, "--db", dsn, "--log-format", "json", "--deliver-existing")
		dones, outs = append(dones, done), append(outs, logs)
	}
	for i, done := range dones {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("once #%d: %v\n%s", i+1, err, outs[i].String())
			}
		case <-time.After(3 * time.Minute):
			t.Fatalf("once #%d did not finish", i+1)
		}
	}
	cf.mu.Lock()
	twice, byInstance := 0, map[string]int{}
	for path := range cf.feeds {
		by := cf.doneBy[path]
		if len(by) == 0 {
			t.Errorf("%s never fetched", path)
		}
		twice += max(len(by)-1, 0)
		for _, f := range by {
			for i := range 2 {
				if strings.Contains(f.ua, fmt.Sprintf("instance-%d.", i)) {
					byInstance[fmt.Sprint(i)]++
				}
			}
		}
	}
	cf.mu.Unlock()
	if twice > 4 {
		t.Errorf("%d sources fetched by both processes, want at most the 4 one process began before the other's pass", twice)
	}
	ids, dups, by := rc.snapshot()
	if !slices.Equal(ids, sortedKeys(want)) {
		t.Errorf("receiver has %d event ids, want %d", len(ids), len(want))
	}
	if dups != 0 {
		t.Errorf("%d duplicate deliveries, want 0", dups)
	}
	t.Logf("sources %d, fetched by instance %v, fetched more than once %d; records expected %d, received %d, delivered by instance %v, duplicates %d",
		len(cf.feeds), byInstance, twice, len(want), len(ids), by, dups)
}

// TestReceiverFailingEachEventTwice: every event is refused twice, then
// taken. Every event arrives, and none is POSTed again after its 2xx.
func TestReceiverFailingEachEventTwice(t *testing.T) {
	desk := treatyFeed(20)
	deskSrv := serveFeed(t, desk)
	rc, hook := newCountingReceiver(t)
	rc.failFirst = 2
	eng, _ := classify.Default()
	want := map[string]bool{}
	relevantIDs(t, eng, want, "desk", desk, "application/rss+xml; charset=utf-8", deskSrv.URL+"/desk.rss", "hook")
	dir := t.TempDir()
	cfg := instanceConfig(t, dir, 0, []string{sourceYAML("desk", deskSrv.URL+"/desk.rss")}, hook.URL)

	var out, errOut strings.Builder
	code := run(context.Background(), []string{"once", "--config", cfg, "--retry-backoff", "20ms", "--deliver-timeout", "2m", "--log-level", "warn"}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	ids, dups, _ := rc.snapshot()
	if !slices.Equal(ids, sortedKeys(want)) {
		t.Errorf("receiver took %d event ids, want %d", len(ids), len(want))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	again := 0
	for id, n := range rc.afterOK {
		again += n
		t.Errorf("event %s POSTed %d more times after its 2xx", id, n)
	}
	for id, n := range rc.tries {
		if n != 3 {
			t.Errorf("event %s POSTed %d times, want 3 (two refusals, one 2xx)", id, n)
		}
	}
	t.Logf("%d events, each refused twice; duplicates %d, POSTs after a 2xx %d", len(ids), dups, again)
}

// TestStoreCopyMovesAnInstallation runs once on SQLite, copies the state
// to PostgreSQL with `store copy`, and runs once on PostgreSQL: the
// source answers 304 to the copied validators and nothing is delivered
// again.
func TestStoreCopyMovesAnInstallation(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	desk := treatyFeed(6)
	deskSrv := serveFeed(t, desk)
	rc, hook := newCountingReceiver(t)
	dir := t.TempDir()
	cfg := instanceConfig(t, dir, 0, []string{sourceYAML("desk", deskSrv.URL+"/desk.rss")}, hook.URL)
	ctx := context.Background()
	var out, errOut strings.Builder
	if code := run(ctx, []string{"once", "--config", cfg, "--log-level", "warn"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once on SQLite: exit %d\n%s", code, errOut.String())
	}
	first, _, _ := rc.snapshot()
	if len(first) == 0 {
		t.Fatal("nothing delivered by the first run")
	}
	out.Reset()
	sqlitePath := filepath.Join(dir, "treatywatch.db")
	if code := run(ctx, []string{"store", "copy", "--from", "sqlite:" + sqlitePath, "--to", dsn}, nil, &out, &errOut); code != 0 {
		t.Fatalf("store copy: exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "1 sources, ") {
		t.Errorf("store copy output:\n%s", out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"once", "--config", cfg, "--db", dsn, "--log-level", "warn"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once on PostgreSQL: exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(lineFor(out.String(), "desk"), "not-modified") {
		t.Errorf("the copied validators were not used:\n%s", out.String())
	}
	if again, dups, _ := rc.snapshot(); len(again) != len(first) || dups != 0 {
		t.Errorf("after the copy: %d ids (was %d), %d duplicates", len(again), len(first), dups)
	}
	if code := run(ctx, []string{"store", "copy", "--from", "sqlite:" + sqlitePath, "--to", dsn}, nil, &out, &errOut); code == 0 {
		t.Error("a copy into a store that is not empty succeeded")
	}
}
