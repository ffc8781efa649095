package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSinkThatCannotWriteFailsAlone: a JSONL sink whose path is a
// directory and a webhook that answers 500 fail on their own; the good
// sink delivers, nothing is lost, and check --offline shows each failing
// sink with its queue and why instead of "ok".
func TestSinkThatCannotWriteFailsAlone(t *testing.T) {
	feed := serveFeed(t, treatyFeed(2))
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "receiver down", http.StatusInternalServerError)
	}))
	defer hook.Close()
	dir := t.TempDir()
	blocked := filepath.Join(dir, "blocked.jsonl")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.jsonl")
	cfg := filepath.Join(dir, "config.yaml")
	doc := fmt.Sprintf(`data_dir: %s
http: {allow_private: [loopback], host_interval: 0s}
defaults: {min_words: 0, deliver_existing: true}
sources:
  - id: desk
    url: %s
sinks:
  - {name: blocked, type: file, path: %s}
  - {name: good, type: file, path: %s}
  - {name: hook, type: webhook, url: %s, secret: s3cret-key, timeout: 2s}
`, dir, feed.URL, blocked, good, hook.URL)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "once", "--config", cfg, "--deliver-timeout", "1s", "--retry-backoff", "100ms")
	if code != 1 {
		t.Errorf("once: exit %d, want 1 (deliveries incomplete)\n%s\n%s", code, out, errOut)
	}
	if n := len(readJSONL(t, good)); n == 0 {
		t.Fatalf("the good sink got nothing: a broken sink held it back\n%s", errOut)
	}
	if !strings.Contains(errOut, "is a directory") {
		t.Errorf("stderr does not say why the blocked sink fails:\n%s", errOut)
	}
	// The deadline ran out because receivers failed: the message names the
	// flag and the failure, and does not blame the store.
	last := lastLine(errOut)
	for _, w := range []string{"--deliver-timeout (1s) ran out", "records still queued", "last failure", "status 500"} {
		if !strings.Contains(last, w) {
			t.Errorf("the final message does not say %q: %s", w, last)
		}
	}
	t.Logf("final message: %s", last)
	if strings.Contains(last, "store:") {
		t.Errorf("the final message blames the store: %s", last)
	}
	code, out, _ = runCmd(t, "check", "--offline", "--config", cfg)
	if code != 1 {
		t.Errorf("check --offline: exit %d, want 1\n%s", code, out)
	}
	t.Logf("check --offline:\n%s", out)
	for sink, want := range map[string][]string{
		"blocked": {"broken", "is a directory"},
		"hook":    {"failing", "queued records failed", "status 500"},
		"good":    {"ok"},
	} {
		line := lineFor(out, sink)
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("check row for %s does not say %q: %q", sink, w, line)
			}
		}
	}
	if !strings.Contains(lineFor(out, "hook"), "failing  "+fmt.Sprint(len(readJSONL(t, good)))) {
		t.Errorf("hook row does not show its queue: %q", lineFor(out, "hook"))
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
