package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// check and once on a source outside its active window and a sink in its
// quiet hours: the source is not fetched and check says when it resumes;
// the sink's records wait, and check says until when.
func TestActiveAndQuietInCommands(t *testing.T) {
	var fetches atomic.Int32
	body := treatyFeed(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			fetches.Add(1)
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	// A window on a day that is not today (UTC), and quiet hours that
	// cover the next hour.
	now := time.Now().UTC()
	otherDay := strings.ToLower(now.Add(48 * time.Hour).Weekday().String()[:3])
	quietFrom := now.Add(-time.Hour).Format("15:00")
	quietTo := now.Add(2 * time.Hour).Format("15:00")
	src := sourceYAML("desk", srv.URL+"/desk.rss") + fmt.Sprintf("    active: {days: %s, hours: \"09:00-10:00\"}\n", otherDay)
	open := sourceYAML("open", srv.URL+"/open.rss")
	cfg := writeConfig(t, dir, []string{src, open}, "")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "  - name: hook\n    type: webhook\n    url: %s/hook\n    secret: windows-test-secret\n    quiet: {hours: \"%s-%s\"}\n", srv.URL, quietFrom, quietTo)
	f.Close()

	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"once", "--config", cfg, "--deliver-existing"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once: %d\n%s%s", code, out.String(), errOut.String())
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1 (the source outside its window is not fetched)", n)
	}
	if !strings.Contains(out.String(), "outside its active window; resumes") || !strings.Contains(out.String(), "1 outside their active window") {
		t.Errorf("once output:\n%s", out.String())
	}
	out.Reset()
	run(ctx, []string{"check", "--config", cfg, "--offline"}, nil, &out, &errOut)
	text := out.String()
	if !strings.Contains(text, "outside its active window ("+otherDay+" 09:00-10:00 UTC): resumes") {
		t.Errorf("check does not say when the source resumes:\n%s", text)
	}
	if !strings.Contains(text, "quiet hours: records wait until") {
		t.Errorf("check does not show the quiet hours:\n%s", text)
	}
	if f := strings.Fields(lineOf(text, "hook")); len(f) < 3 || f[2] == "0" {
		t.Errorf("the quiet sink holds no records: %q", f)
	}
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
