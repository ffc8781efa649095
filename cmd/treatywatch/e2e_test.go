package main

import (
	"bufio"
	"bytes"
	"context"
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
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/webhook"
)

const hookSecret = "e2e-secret"

// treatyFeed is an RSS feed about the convention, served beside the
// corpus so that the end-to-end run has relevant items to deliver.
func treatyFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Treaty desk</title><link>https://desk.example.org/</link>`)
	texts := []string{
		"The United Nations Convention against Cybercrime opened for signature in Hanoi; states that sign must still ratify it, and it enters into force 90 days after the 40th ratification.",
		"Human rights groups warn the UN cybercrime treaty lacks adequate safeguards and urge states not to ratify the convention, calling it a global surveillance pact.",
		"UNODC welcomed the adoption of the UN Convention against Cybercrime by the General Assembly as a landmark for international cooperation on electronic evidence.",
		"Delegates at the Ad Hoc Committee on Cybercrime debated the scope of criminalisation and mutual legal assistance in the draft UN convention.",
	}
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Cybercrime convention update %d</title><link>https://desk.example.org/news/%d</link><guid>desk-%d</guid><pubDate>Mon, 02 Nov 2026 10:%02d:00 +0000</pubDate><description>%s</description></item>`,
			i, i, i, i%60, texts[i%len(texts)])
		fmt.Fprintf(&b, `<item><title>Local football results %d</title><link>https://desk.example.org/sport/%d</link><guid>sport-%d</guid><description>The home side won two to one after extra time.</description></item>`, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

// serveFeed serves body as an RSS feed with Last-Modified, so conditional
// GETs get 304s.
func serveFeed(t testing.TB, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		http.ServeContent(w, r, "feed.rss", time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC), bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startBinary starts the built command with args, its standard error
// into logs; done receives its exit.
func startBinary(t testing.TB, bin string, logs io.Writer, args ...string) (cmd *exec.Cmd, done chan error) {
	t.Helper()
	cmd = exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, done
}

// receiver is a webhook endpoint that verifies signatures, counts every
// call and every delivery of each event id (a second delivery of an id is
// a duplicate, kept in the count, not hidden by the map), and can be told
// to fail.
type receiver struct {
	t       testing.TB
	mu      sync.Mutex
	byID    map[string]sinks.Envelope
	times   map[string]int // deliveries accepted per event id
	calls   int
	serving int // calls being answered now
	badSigs int
	cut     int                                            // requests whose body ended early (the sender was killed while writing it)
	fail    []func(w http.ResponseWriter, r *http.Request) // consumed one per call
	delay   time.Duration
}

func newReceiver(t testing.TB) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, byID: map[string]sinks.Envelope{}, times: map[string]int{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.calls++
	rc.serving++
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		rc.serving--
		rc.mu.Unlock()
	}()
	if err != nil {
		// A body cut short is a transport failure, not a delivery: a
		// sender killed while writing it never saw an answer and sends
		// the record again. Its signature cannot match a partial body,
		// so it is not counted as a bad signature.
		rc.mu.Lock()
		rc.cut++
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	var f func(http.ResponseWriter, *http.Request)
	if len(rc.fail) > 0 {
		f, rc.fail = rc.fail[0], rc.fail[1:]
	}
	delay := rc.delay
	rc.mu.Unlock()
	if f != nil {
		f(w, r)
		return
	}
	time.Sleep(delay)
	if err := webhook.Verify(hookSecret, r.Header.Get(webhook.HeaderSignature), r.Header.Get(webhook.HeaderTimestamp), body, time.Now(), 5*time.Minute); err != nil {
		rc.mu.Lock()
		rc.badSigs++
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var env sinks.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.byID[env.EventID] = env
	rc.times[env.EventID]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// counts returns the calls made, the bad signatures seen and the
// scripted failures not yet used.
func (rc *receiver) counts() (calls, badSigs, failsLeft int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.calls, rc.badSigs, len(rc.fail)
}

// accepted returns the deliveries accepted (duplicates included) and the
// duplicates among them: deliveries of an event id after its first.
func (rc *receiver) accepted() (total, duplicates int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.times {
		total += n
		duplicates += n - 1
	}
	return total, duplicates
}

// active returns how many calls the receiver is answering now.
func (rc *receiver) active() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.serving
}

func (rc *receiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var ids []string
	for id := range rc.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// writeConfig writes a config with the given sources, a JSONL file sink
// and a webhook sink.
func writeConfig(t testing.TB, dir string, sources []string, hookURL string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nhttp:\n  per_host: 8\n  host_interval: 0s\n  allow_private: [loopback]\ndefaults:\n  timeout: 10s\n  min_words: 0\nsources:\n", dir)
	for _, s := range sources {
		b.WriteString(s)
	}
	fmt.Fprintf(&b, "sinks:\n  - name: jsonl\n    type: file\n    path: %s\n", filepath.Join(dir, "items.jsonl"))
	if hookURL != "" {
		fmt.Fprintf(&b, "  - name: hook\n    type: webhook\n    url: %s\n    secret: %s\n    timeout: 1s\n", hookURL, hookSecret)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sourceYAML(id, url string) string {
	return fmt.Sprintf("  - id: %s\n    url: %s\n", id, url)
}

// feedID turns a corpus file name into a source id.
func feedID(name string) string {
	id := strings.ToLower(name)
	id = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, id)
	return strings.Trim(id, "-._")
}

func readJSONL(t testing.TB, path string) []sinks.Envelope {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sinks.Envelope
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e sinks.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("jsonl line: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func envelopeIDs(es []sinks.Envelope) []string {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.EventID)
	}
	slices.Sort(ids)
	return ids
}

// TestOnceOverCorpus serves all corpus feeds (and one feed about the
// treaty) and runs once twice: the first run delivers exactly the
// relevant items to the JSONL file and the webhook; the second gets 304s
// and delivers nothing.
func TestOnceOverCorpus(t *testing.T) {
	fs := corpustest.NewFeedServer(t, corpustest.ServerOptions{})
	desk := treatyFeed(12)
	deskSrv := serveFeed(t, desk)
	rc, hook := newReceiver(t)

	dir := t.TempDir()
	var srcs []string
	ids := map[string]string{} // source id -> corpus file
	for _, f := range fs.Files {
		id := feedID(f.Name)
		ids[id] = f.Name
		srcs = append(srcs, sourceYAML(id, fs.FeedURL(f.Name)))
	}
	srcs = append(srcs, sourceYAML("desk", deskSrv.URL+"/desk.rss"))
	cfg := writeConfig(t, dir, srcs, hook.URL)

	// What should be delivered: the relevant items, by the same rules.
	eng, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	wantFor := func(id string, body []byte, ctype, url string) {
		items, _, err := feed.Parse(body, ctype, url, fetch.Source{ID: id, Name: id}, time.Now())
		if err != nil {
			return
		}
		for _, it := range items {
			it.SourceID = id
			if eng.Classify(it).Relevant {
				want[sinks.EventID(id, it.Key, "jsonl")] = true
			}
		}
	}
	for _, f := range fs.Files {
		body, _ := os.ReadFile(f.Path)
		wantFor(feedID(f.Name), body, f.ContentType(), fs.FeedURL(f.Name))
	}
	wantFor("desk", desk, "application/rss+xml; charset=utf-8", deskSrv.URL+"/desk.rss")
	if len(want) < 6 {
		t.Fatalf("only %d relevant items expected: the test feed should give more", len(want))
	}

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "warn"}, nil, &out, &errOut)
	t.Logf("first once: exit %d\n%s", code, out.String())
	if strings.Contains(errOut.String(), "panic") {
		t.Fatalf("panic in run:\n%s", errOut.String())
	}
	// Every source is either ok or fails with words, and the run went on.
	failed := 0
	for id := range ids {
		line := lineFor(out.String(), id)
		if line == "" {
			t.Errorf("no summary line for source %s", id)
			continue
		}
		if strings.Contains(line, " failed ") {
			failed++
			if !strings.Contains(line, ": ") {
				t.Errorf("failure without a reason: %s", line)
			}
		}
	}
	if failed > 4 {
		t.Errorf("%d of %d corpus feeds failed; want at most 4", failed, len(ids))
	}
	if (failed > 0) != (code == 1) {
		t.Errorf("exit code %d with %d failed sources", code, failed)
	}

	got := envelopeIDs(readJSONL(t, filepath.Join(dir, "items.jsonl")))
	if !slices.Equal(got, sortedKeys(want)) {
		t.Errorf("JSONL has %d records, want exactly the %d relevant items", len(got), len(want))
	}
	hookWant := map[string]bool{}
	for _, e := range readJSONL(t, filepath.Join(dir, "items.jsonl")) {
		hookWant[sinks.EventID(e.Source.ID, e.Item.Key, "hook")] = true
	}
	if !slices.Equal(rc.ids(), sortedKeys(hookWant)) {
		t.Errorf("webhook got %d records, want %d", len(rc.ids()), len(hookWant))
	}
	calls, bad, _ := rc.counts()
	if bad > 0 {
		t.Errorf("%d bad signatures", bad)
	}

	// Second run: conditional GETs get 304, nothing new is delivered.
	out.Reset()
	run(context.Background(), []string{"once", "--config", cfg, "--log-level", "warn"}, nil, &out, &errOut)
	if n := strings.Count(out.String(), "not-modified"); n < len(ids)-failed {
		t.Errorf("second run: %d sources not modified, want at least %d\n%s", n, len(ids)-failed, out.String())
	}
	if st := fs.Stats(strings.TrimPrefix(fs.URL, "http://")); st.NotModified < len(ids)-failed {
		t.Errorf("server answered %d 304s", st.NotModified)
	}
	if calls2, _, _ := rc.counts(); calls2 != calls {
		t.Errorf("second run made %d webhook calls, want 0", calls2-calls)
	}
	if got2 := envelopeIDs(readJSONL(t, filepath.Join(dir, "items.jsonl"))); len(got2) != len(got) {
		t.Errorf("second run appended %d JSONL records", len(got2)-len(got))
	}
}

func lineFor(table, id string) string {
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, id+" ") {
			return l
		}
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// buildBinary builds the command once per test binary.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "treatywatch-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "treatywatch")
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// TestDeliverySurvivesFailuresAndKill: the webhook fails the first calls
// (a 500, a 429 with Retry-After, a hang past the timeout); the real
// binary is killed with SIGKILL in the middle of delivery and started
// again; the receiver and the JSONL file end with every record, each
// signed, and with no more duplicates than records were in flight at the
// kill (delivered but not yet acknowledged in the store).
func TestDeliverySurvivesFailuresAndKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	const n = 24
	desk := treatyFeed(n)
	deskSrv := serveFeed(t, desk)
	rc, hook := newReceiver(t)
	rc.fail = []func(http.ResponseWriter, *http.Request){
		func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
		func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		},
		func(w http.ResponseWriter, r *http.Request) { // hang past the 1s timeout
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		},
	}
	rc.delay = 150 * time.Millisecond // slow enough to be killed mid-delivery

	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", deskSrv.URL+"/desk.rss")}, hook.URL)

	// What the receiver must end with, by hand: the feed's 24 items about
	// the treaty (GUIDs desk-0..desk-23) are relevant, its 24 football
	// results are not.
	want := map[string]bool{}
	wantJSONL := map[string]bool{}
	for i := range n {
		want[sinks.EventID("desk", fmt.Sprintf("desk-%d", i), "hook")] = true
		wantJSONL[sinks.EventID("desk", fmt.Sprintf("desk-%d", i), "jsonl")] = true
	}

	var stderr lockedBuffer
	start := func(args ...string) (*exec.Cmd, chan error) {
		return startBinary(t, bin, &stderr, append([]string{"once", "--config", cfg, "--retry-backoff", "200ms", "--log-format", "json"}, args...)...)
	}
	first, done := start("--deliver-existing")
	deadline := time.After(60 * time.Second)
wait:
	for len(rc.ids()) < 5 {
		select {
		case err := <-done:
			t.Fatalf("the first run ended before it could be killed: %v\n%s", err, stderr.String())
		case <-deadline:
			break wait
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	// Let the calls the receiver was serving at the kill finish (it
	// accepts them although nobody waits for the answer), then see what
	// the receivers hold that the store still has queued: those records
	// were in flight, and only they may come twice.
	for deadline := time.Now().Add(30 * time.Second); rc.active() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	killedAt := len(rc.ids())
	if killedAt >= len(want) {
		t.Fatalf("the kill came after delivery finished (%d of %d): not a mid-delivery kill", killedAt, len(want))
	}
	pending := queuedIDs(t, filepath.Join(dir, "treatywatch.db"))
	inFlight := 0
	for _, id := range rc.ids() {
		if pending[id] {
			inFlight++
		}
	}
	jsonlInFlight := 0
	for _, e := range readJSONL(t, filepath.Join(dir, "items.jsonl")) {
		if pending[e.EventID] {
			jsonlInFlight++
		}
	}
	calls, _, _ := rc.counts()

	_, done = start()
	if err := <-done; err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	total, dups := rc.accepted()
	calls2, bad, left := rc.counts()
	rc.mu.Lock()
	cut := rc.cut
	rc.mu.Unlock()
	t.Logf("webhook: expected %d, received %d distinct (%d deliveries, %d calls, %d cut short by the kill), duplicates %d, in flight at the kill %d (killed after %d records, %d calls)",
		len(want), len(rc.ids()), total, calls2, cut, dups, inFlight, killedAt, calls)
	if got := rc.ids(); !slices.Equal(got, sortedKeys(want)) {
		t.Errorf("receiver has %d records, want %d", len(got), len(want))
	}
	if dups > inFlight {
		t.Errorf("%d duplicate deliveries, more than the %d records in flight at the kill", dups, inFlight)
	}
	if bad > 0 {
		t.Errorf("%d bad signatures", bad)
	}
	if left != 0 {
		t.Errorf("the failing calls were not all made: %d left", left)
	}
	// The JSONL file sink after the kill: every record, duplicates only
	// among those written but not acknowledged when the process died.
	lines := readJSONL(t, filepath.Join(dir, "items.jsonl"))
	seen := map[string]int{}
	for _, e := range lines {
		seen[e.EventID]++
	}
	jsonlDups := len(lines) - len(seen)
	t.Logf("jsonl: expected %d, received %d distinct (%d lines), duplicates %d, in flight at the kill %d", len(wantJSONL), len(seen), len(lines), jsonlDups, jsonlInFlight)
	if !slices.Equal(sortedKeys(boolSet(seen)), sortedKeys(wantJSONL)) {
		t.Errorf("JSONL has %d distinct records, want %d", len(seen), len(wantJSONL))
	}
	if jsonlDups > jsonlInFlight {
		t.Errorf("JSONL has %d duplicate lines, more than the %d records in flight at the kill", jsonlDups, jsonlInFlight)
	}
}

func boolSet(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// queuedIDs opens the state database of a stopped process and returns the
// event ids still queued for any sink.
func queuedIDs(t testing.TB, path string) map[string]bool {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]bool{}
	for _, sink := range []string{"hook", "jsonl"} {
		ps, err := st.Window(context.Background(), sink, time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			out[p.Record.EventID] = true
		}
	}
	return out
}

// rewriteFile replaces old by new in the file at path (which must
// contain it) and returns path.
func rewriteFile(t testing.TB, path, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte(old), []byte(new)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
