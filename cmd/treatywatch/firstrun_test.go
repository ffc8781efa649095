package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/config"
)

// offlineDefaultConfig writes the built-in config with a DNS server that
// does not answer (a closed port on loopback): every source fails as a
// machine without network would.
func offlineDefaultConfig(t *testing.T) (path string, srcs []config.Source) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dns := pc.LocalAddr().String()
	pc.Close()
	text := string(config.DefaultYAML())
	if !strings.Contains(text, "\nhttp:\n") {
		t.Fatal("the built-in config has no http: block")
	}
	dir := t.TempDir()
	// The data directory through the environment, as a user would set it.
	t.Setenv("TREATYWATCH_DATA_DIR", dir)
	text = strings.Replace(text, "\nhttp:\n", fmt.Sprintf("\nhttp:\n  dns: %s\n", dns), 1)
	path = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Sources {
		if !s.Disabled {
			srcs = append(srcs, s)
		}
	}
	return path, srcs
}

// checkFailLines checks the log: one short line per failing source that
// names its URL once, says why and when it is tried again.
func checkFailLines(t *testing.T, logs string, srcs []config.Source) {
	t.Helper()
	lines := map[string]string{}
	for _, l := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != "fetch failed" {
			continue
		}
		src, _ := rec["source"].(string)
		if _, dup := lines[src]; dup {
			t.Errorf("source %s failed twice in one pass", src)
		}
		lines[src] = l
		if rec["reason"] == nil || rec["next_run"] == nil || rec["url"] == nil {
			t.Errorf("fetch failed line lacks reason, next_run or url: %s", l)
		}
		if url, _ := rec["url"].(string); len(l)-len(url) > 300 {
			t.Errorf("a %d-character line: %s", len(l), l)
		}
	}
	for _, s := range srcs {
		l, ok := lines[s.ID]
		if !ok {
			t.Errorf("no fetch failed line for %s", s.ID)
			continue
		}
		if n := strings.Count(l, s.URL); n != 1 {
			t.Errorf("%s: the URL appears %d times: %s", s.ID, n, l)
		}
	}
}

// The first run of the built-in config on a machine without network: one
// line per source, a summary that says what to do, where results would go.
func TestFirstRunOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in source")
	}
	_, srcs := offlineDefaultConfig(t)
	wantSummary := fmt.Sprintf("sources: 0 ok, %d failing (network %d): no source is reachable: is this machine offline? check the network or proxy", len(srcs), len(srcs))

	t.Run("once", func(t *testing.T) {
		cfg, _ := offlineDefaultConfig(t)
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		code := run(ctx, []string{"once", "--config", cfg, "--log-format", "json"}, nil, &out, &errOut)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		rows := 0
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, " failed ") {
				rows++
				if !strings.Contains(l, "network: cannot resolve") || !strings.Contains(l, "next try") || strings.Contains(l, "://") {
					t.Errorf("row: %s", l)
				}
			}
		}
		if rows != len(srcs) {
			t.Errorf("%d failed rows, want one per source (%d)", rows, len(srcs))
		}
		if !strings.Contains(out.String(), wantSummary) {
			t.Errorf("no summary %q in:\n%s", wantSummary, out.String())
		}
		checkFailLines(t, errOut.String(), srcs)
		if !strings.Contains(errOut.String(), `"msg":"results go to a file"`) || !strings.Contains(errOut.String(), "items.jsonl") {
			t.Errorf("the output path is not named at start")
		}
	})

	// startRun runs the daemon until it has logged its start-up summary
	// and returns its log.
	startRun := func(t *testing.T, cfg string) string {
		t.Helper()
		var logs lockedBuffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"run", "--config", cfg, "--log-format", "json", "--listen", "127.0.0.1:0"}, nil, &bytes.Buffer{}, &logs)
		}()
		deadline := time.After(3 * time.Minute)
		for !strings.Contains(logs.String(), `"when":"start-up"`) {
			select {
			case <-deadline:
				cancel()
				t.Fatalf("no start-up summary:\n%s", logs.String())
			case code := <-done:
				t.Fatalf("run ended with %d:\n%s", code, logs.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exit %d", code)
		}
		return logs.String()
	}

	t.Run("run", func(t *testing.T) {
		cfg, _ := offlineDefaultConfig(t)
		text := startRun(t, cfg)
		if !strings.Contains(text, `"msg":"`+wantSummary+`"`) {
			t.Errorf("no summary %q in the log:\n%s", wantSummary, text)
		}
		checkFailLines(t, text, srcs)
		for _, want := range []string{`"msg":"results go to a file"`, `"metrics":"http://127.0.0.1:`, `"msg":"state database"`} {
			if !strings.Contains(text, want) {
				t.Errorf("start-up does not say %s", want)
			}
		}

		// Started again (before the sources are due again, unless the
		// machine is very slow): a summary all the same, from the stored
		// health when nothing ran.
		text = startRun(t, cfg)
		if !strings.Contains(text, `"msg":"`+wantSummary+`","when":"start-up"`) {
			t.Errorf("restart: no start-up summary:\n%s", text)
		}
	})
}
