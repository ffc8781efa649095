package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/mailtest"
	"github.com/treatywatch/treatywatch/internal/store"
)

// writeDigestConfig writes a config with one feed source and the sinks
// given as YAML list entries.
func writeDigestConfig(t testing.TB, dir, feedURL, sinksYAML string) string {
	t.Helper()
	conf := fmt.Sprintf(`data_dir: %s
http: {per_host: 4, host_interval: 0s, allow_private: [loopback]}
defaults: {min_words: 0}
sources:
  - id: desk
    url: %s
sinks:
%s`, dir, feedURL, sinksYAML)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// lockedBuffer is a bytes.Buffer safe for a child's output and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDigestSentOnceAcrossKill runs the real daemon with a digest sink
// that sends every minute through a real SMTP server, kills it with
// SIGKILL right after it has sent the digest, starts it again, and checks
// that the window's digest was sent exactly once and its records were
// taken.
func TestDigestSentOnceAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a minute boundary")
	}
	t.Parallel()
	md := mailtest.Start(t)
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	srv := serveFeed(t, treatyFeed(6))
	dir := t.TempDir()
	cfg := writeDigestConfig(t, dir, srv.URL+"/desk.rss", fmt.Sprintf(`  - name: daily
    type: digest
    schedule: "* * * * *"
    timezone: Europe/Berlin
    transport:
      kind: smtp
      from: monitor@example.org
      to: [analysts@example.org]
      smtp: {host: 127.0.0.1, port: %d, starttls: false}
`, md.SMTPPort))
	var logs lockedBuffer
	start := func(args ...string) (*exec.Cmd, chan error) {
		return startBinary(t, bin, &logs, append([]string{"run", "--config", cfg, "--log-format", "json"}, args...)...)
	}

	// Kill it right after the send: as soon as it logs that the digest
	// went out, before the outbox rows are acknowledged.
	first, done := start("--deliver-existing")
	deadline := time.After(100 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"digest sent"`) {
		select {
		case err := <-done:
			t.Fatalf("the daemon ended: %v\n%s", err, logs.String())
		case <-deadline:
			first.Process.Kill()
			t.Fatalf("no digest sent within 100s\n%s", logs.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	first.Process.Signal(syscall.SIGKILL)
	<-done
	acked := strings.Contains(logs.String(), "scheduled delivery sent")

	mails := md.Mails(t)
	if len(mails) != 1 {
		t.Fatalf("%d digests before the restart, want 1", len(mails))
	}
	if !strings.Contains(mails[0].Subject, "treatywatch") || !strings.Contains(mails[0].Text, "Cybercrime convention update") {
		t.Errorf("digest looks wrong: subject %q", mails[0].Subject)
	}

	// The window the killed daemon sent: still pending when the kill came
	// before the ack, else its last window.
	firstEnd := func() time.Time {
		st, err := store.Open(context.Background(), filepath.Join(dir, "treatywatch.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		w, err := st.SinkWindow(context.Background(), "daily")
		if err != nil {
			t.Fatal(err)
		}
		if !w.Pending.IsZero() {
			return w.Pending
		}
		return w.Last
	}()

	// Instead of a fixed wait: the restarted daemon must be seen to close
	// a digest window at or after that one (the sent window, acknowledged
	// now, or the next minute's, which it reaches only after it). Any
	// second send of the first window would have come before.
	skip := len(logs.String())
	second, done := start()
	closed := func() (time.Time, bool) {
		for _, line := range strings.Split(logs.String()[skip:], "\n") {
			var rec struct {
				Msg       string `json:"msg"`
				Sink      string `json:"sink"`
				WindowEnd string `json:"window_end"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "scheduled delivery sent" || rec.Sink != "daily" {
				continue
			}
			if end, err := time.Parse(time.RFC3339, rec.WindowEnd); err == nil && !end.Before(firstEnd) {
				return end, true
			}
		}
		return time.Time{}, false
	}
	deadline = time.After(150 * time.Second)
	var closedEnd time.Time
	for ok := false; !ok; closedEnd, ok = closed() {
		select {
		case err := <-done:
			t.Fatalf("the restarted daemon ended: %v\n%s", err, logs.String())
		case <-deadline:
			second.Process.Kill()
			t.Fatalf("the restarted daemon closed no digest window from %s on within 150s\n%s", firstEnd, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("first window ends %s; the restarted daemon closed the window ending %s", firstEnd.Format(time.TimeOnly), closedEnd.Format(time.TimeOnly))
	second.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Errorf("the daemon did not exit cleanly on SIGTERM: %v", err)
	}
	if n := len(md.Mails(t)); n != 1 {
		t.Errorf("%d digests after the restart, want exactly 1", n)
	}
	t.Logf("killed before the outbox ack: %v", !acked)
	st, err := store.Open(context.Background(), filepath.Join(dir, "treatywatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	depth, _ := st.OutboxDepth(context.Background())
	if depth["daily"] != 0 {
		t.Errorf("%d records still queued for the digest after the restart", depth["daily"])
	}
}
