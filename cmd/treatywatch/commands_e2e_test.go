package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/mailtest"
)

// TestSeenListsAndForgets: seen lists what a first run marked seen;
// --forget drops one item, then the rest of the source; the next run
// takes the forgotten items as new and delivers the relevant ones.
func TestSeenListsAndForgets(t *testing.T) {
	srv := serveFeed(t, treatyFeed(3)) // 3 items about the treaty, 3 football results
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/desk.rss")}, "")
	ctx := context.Background()
	cmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append(args, "--config", cfg, "--log-level", "warn"), nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cmd("once"); code != 0 {
		t.Fatalf("once: %d\n%s%s", code, out, errOut)
	}
	code, out, _ := cmd("seen", "--source", "desk")
	if code != 0 {
		t.Fatalf("seen: exit %d", code)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 7 || !strings.HasPrefix(rows[0], "KEY") {
		t.Fatalf("seen lists %d lines, want a header and 6 items:\n%s", len(rows), out)
	}
	for _, key := range []string{"desk-0", "desk-1", "desk-2", "sport-0", "sport-1", "sport-2"} {
		if !strings.Contains(out, "\n"+key+" ") {
			t.Errorf("seen does not list %s:\n%s", key, out)
		}
	}
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"seen", "--forget", "--source", "desk", "--key", "desk-1"}, "forgot 1 item(s) of desk\n", 0},
		{[]string{"seen", "--forget", "--source", "desk", "--key", "desk-1"}, "forgot 0 item(s) of desk\n", 0},
		{[]string{"seen", "--forget", "--source", "desk"}, "forgot 5 item(s) of desk\n", 0},
		{[]string{"seen", "--forget"}, "", 2}, // --source is required
	}
	for _, tt := range tests {
		code, out, errOut := cmd(tt.args...)
		if code != tt.code || out != tt.want {
			t.Errorf("%v: exit %d, %q (%s); want exit %d, %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
	}
	if _, out, _ := cmd("seen", "--source", "desk"); strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("items left after forgetting all:\n%s", out)
	}
	// The source is initialised: the forgotten items are new again, and the
	// three about the treaty are delivered.
	code, out, errOut := cmd("once")
	if code != 0 {
		t.Fatalf("once after forget: %d\n%s%s", code, out, errOut)
	}
	cols := strings.Fields(lineFor(out, "desk")) // SOURCE OUTCOME ITEMS NEW RELEVANT QUEUED
	if len(cols) < 6 || cols[3] != "6" || cols[4] != "3" {
		t.Errorf("after forget: %v, want 6 new, 3 relevant\n%s", cols, out)
	}
	var titles []string
	for _, e := range readJSONL(t, filepath.Join(dir, "items.jsonl")) {
		titles = append(titles, e.Item.Title)
	}
	slices.Sort(titles)
	if strings.Join(titles, "|") != "Cybercrime convention update 0|Cybercrime convention update 1|Cybercrime convention update 2" {
		t.Errorf("delivered after forget: %q, want the three treaty items", titles)
	}
}

// TestConfigPrintsTheEffectiveConfig: config prints the file with its
// defaults filled in and the webhook secret redacted; a broken file fails
// with its line.
func TestConfigPrintsTheEffectiveConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", "http://127.0.0.1:9/desk.rss")}, "http://127.0.0.1:9/hook")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"config", "--config", cfg}, nil, &out, &errOut); code != 0 {
		t.Fatalf("config: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"id: desk", "url: http://127.0.0.1:9/desk.rss", "name: hook", "type: webhook", "name: jsonl", filepath.Join(dir, "items.jsonl")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), hookSecret) {
		t.Errorf("config prints the webhook secret:\n%s", out.String())
	}
	// Defaults the file did not set are shown (a source's schedule).
	if !strings.Contains(out.String(), "schedule:") {
		t.Errorf("config output lacks the defaulted schedule:\n%s", out.String())
	}
	bad := rewriteFile(t, cfg, "sinks:", "sinks:\n  - name: broken\n    type: nosuchsink\n")
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"config", "--config", bad}, nil, &out, &errOut); code == 0 {
		t.Errorf("config accepted an unknown sink type:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "config.yaml:") || !strings.Contains(errOut.String(), "nosuchsink") {
		t.Errorf("error does not point at the file and the bad value: %s", errOut.String())
	}
}

// TestCheckWithADigestSink: check greets the digest's SMTP server and
// shows the next send in the digest's own time zone; with the server gone
// the sink is unreachable and check exits 1.
func TestCheckWithADigestSink(t *testing.T) {
	md := mailtest.Start(t)
	srv := serveFeed(t, treatyFeed(1))
	dir := t.TempDir()
	digest := func(port int) string {
		return fmt.Sprintf(`  - name: daily
    type: digest
    schedule: "0 7 * * *"
    timezone: Asia/Tokyo
    transport:
      kind: smtp
      from: monitor@example.org
      to: [analysts@example.org]
      smtp: {host: 127.0.0.1, port: %d, starttls: false}
`, port)
	}
	cfg := writeDigestConfig(t, dir, srv.URL+"/desk.rss", digest(md.SMTPPort))
	before := time.Now()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--config", cfg, "--log-level", "warn"}, nil, &out, &errOut)
	after := time.Now()
	t.Logf("check: exit %d\n%s%s", code, out.String(), errOut.String())
	if code != 0 {
		t.Fatalf("check: exit %d", code)
	}
	// The next 07:00 in Tokyo, computed here from the clock.
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	next7 := func(now time.Time) string {
		n := now.In(tokyo)
		at := time.Date(n.Year(), n.Month(), n.Day(), 7, 0, 0, 0, tokyo)
		if !at.After(n) {
			at = at.AddDate(0, 0, 1)
		}
		return at.Local().Format("2006-01-02 15:04 MST")
	}
	line := lineFor(out.String(), "daily")
	if !strings.Contains(line, " ok ") || (!strings.Contains(line, "next send "+next7(before)) && !strings.Contains(line, "next send "+next7(after))) {
		t.Errorf("digest line %q, want ok and next send %s", line, next7(before))
	}
	if n := len(md.Mails(t)); n != 0 {
		t.Errorf("check sent %d mails", n)
	}

	// Nobody listens on the port: unreachable, exit 1.
	dead := mailtest.FreePort(t)
	cfg = writeDigestConfig(t, dir, srv.URL+"/desk.rss", digest(dead))
	out.Reset()
	code = run(context.Background(), []string{"check", "--config", cfg, "--log-level", "warn"}, nil, &out, &errOut)
	line = lineFor(out.String(), "daily")
	if code != 1 || !strings.Contains(line, "unreachable") || !strings.Contains(line, strconv.Itoa(dead)) {
		t.Errorf("check with the SMTP server gone: exit %d, line %q; want 1, unreachable naming the port", code, line)
	}
}
