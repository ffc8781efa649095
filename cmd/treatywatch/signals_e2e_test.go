package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDaemonStopsOnSIGINTAndSIGTERM starts the real binary's daemon, waits
// until it has delivered the feed's relevant items, sends the signal and
// expects a clean exit (status 0) through the stop path: the daemon says
// it is stopping and that it stopped, and a second start finds nothing
// left to deliver.
func TestDaemonStopsOnSIGINTAndSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			srv := serveFeed(t, treatyFeed(2)) // two items about the treaty, two football results
			dir := t.TempDir()
			cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/desk.rss")}, "")
			var logs lockedBuffer
			cmd, done := startBinary(t, bin, &logs, "run", "--config", cfg, "--deliver-existing", "--log-format", "json")
			deadline := time.Now().Add(90 * time.Second)
			for len(readJSONL(t, filepath.Join(dir, "items.jsonl"))) < 2 {
				select {
				case err := <-done:
					t.Fatalf("the daemon ended before the signal: %v\n%s", err, logs.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("nothing delivered within 90s\n%s", logs.String())
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Errorf("exit after %s: %v, want status 0\n%s", sig, err, logs.String())
				} else if err != nil {
					t.Fatal(err)
				}
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 60s after %s\n%s", sig, logs.String())
			}
			out := logs.String()
			for _, want := range []string{`"msg":"daemon started"`, `"msg":"stopping: no new runs`, `"msg":"stopped"`} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %s after %s:\n%s", want, sig, out)
				}
			}
			if n := len(readJSONL(t, filepath.Join(dir, "items.jsonl"))); n != 2 {
				t.Errorf("JSONL has %d records, want the 2 relevant items", n)
			}
			if ids := queuedIDs(t, filepath.Join(dir, "treatywatch.db")); len(ids) != 0 {
				t.Errorf("%d records still queued after a clean stop", len(ids))
			}
			if _, err := os.Stat(filepath.Join(dir, "treatywatch.db")); err != nil {
				t.Error(err)
			}
		})
	}
}
