package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
)

// digestReceiver takes digests posted by the generic webhook preset. It
// holds its answer to the first post until the client goes away, so that
// the test can kill the daemon after the digest was received and before
// the daemon learnt it was: the window between send and acknowledgement.
type digestReceiver struct {
	mu       sync.Mutex
	ids      []string // digest id of every post, in order
	held     chan struct{}
	holdOnce sync.Once
}

func (d *digestReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body struct {
		ID    string `json:"id"`
		Items int    `json:"items"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.ID == "" {
		http.Error(w, "bad digest", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	d.ids = append(d.ids, body.ID)
	first := len(d.ids) == 1
	d.mu.Unlock()
	if first {
		d.holdOnce.Do(func() { close(d.held) })
		<-r.Context().Done() // the daemon dies waiting for this answer
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (d *digestReceiver) posts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ids...)
}

// TestDigestKilledBetweenSendAndAck: the daemon is killed (SIGKILL) while
// the receiver holds the digest it got, unanswered: the send happened, the
// acknowledgement did not. The restarted daemon sends the same window
// again with the same digest id (the one duplicate the kill allows), then
// acknowledges it: nothing stays queued and no third copy follows. The
// test waits on what the receiver and the store show, not on a sleep.
func TestDigestKilledBetweenSendAndAck(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a minute boundary")
	}
	t.Parallel()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	dr := &digestReceiver{held: make(chan struct{})}
	hook := httptest.NewServer(dr)
	t.Cleanup(hook.Close)
	srv := serveFeed(t, treatyFeed(4))
	dir := t.TempDir()
	cfg := writeDigestConfig(t, dir, srv.URL+"/desk.rss", fmt.Sprintf(`  - name: daily
    type: digest
    schedule: "* * * * *"
    timezone: Europe/Berlin
    transport:
      kind: webhook
      url: %s
      to: [analysts@example.org]
`, hook.URL))
	var logs lockedBuffer
	start := func(args ...string) (*exec.Cmd, chan error) {
		c, done := startBinary(t, bin, &logs, append([]string{"run", "--config", cfg, "--log-format", "json"}, args...)...)
		return c, done
	}
	first, done := start("--deliver-existing")
	select {
	case <-dr.held:
	case err := <-done:
		t.Fatalf("the daemon ended: %v\n%s", err, logs.String())
	case <-time.After(150 * time.Second):
		first.Process.Kill()
		t.Fatalf("no digest within 150s\n%s", logs.String())
	}
	first.Process.Signal(syscall.SIGKILL)
	<-done
	queued := digestQueued(t, filepath.Join(dir, "treatywatch.db"))
	inFlight := 1 // the digest received and never answered
	if queued == 0 {
		t.Fatalf("the digest's records were acknowledged although the send never returned")
	}

	second, done := start()
	deadline := time.Now().Add(150 * time.Second)
	for len(dr.posts()) < 2 || digestQueued(t, filepath.Join(dir, "treatywatch.db")) != 0 {
		select {
		case err := <-done:
			t.Fatalf("the restarted daemon ended: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			second.Process.Kill()
			t.Fatalf("the restarted daemon did not complete the window within 150s: %d posts, %d records queued\n%s",
				len(dr.posts()), digestQueued(t, filepath.Join(dir, "treatywatch.db")), logs.String())
		}
	}
	second.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Errorf("the daemon did not exit cleanly on SIGTERM: %v", err)
	}
	posts := dr.posts()
	dups := len(posts) - 1
	t.Logf("digest: expected 1 window, received %d posts (ids %v), duplicates %d, in flight at the kill %d, records queued at the kill %d",
		len(posts), posts, dups, inFlight, queued)
	if dups > inFlight {
		t.Errorf("%d duplicate digests, more than the %d in flight at the kill", dups, inFlight)
	}
	for _, id := range posts[1:] {
		if id != posts[0] {
			t.Errorf("the resent digest has id %s, the first %s: a receiver cannot tell it is the same", id, posts[0])
		}
	}
}

// digestQueued returns how many records are still queued for the digest
// sink "daily".
func digestQueued(t testing.TB, path string) int {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	depth, err := st.OutboxDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return depth["daily"]
}
