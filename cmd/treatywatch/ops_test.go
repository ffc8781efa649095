package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/treatywatch/treatywatch/internal/store"
)

// TestFailingSourceStaysScheduled: a 429 with Retry-After: 120 moves the
// source's next run at least 120 s out; a source that failed 10 times in
// a row is still scheduled, at the backoff cap, and check shows it failing.
func TestFailingSourceStaysScheduled(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Path {
		case "/busy.rss":
			w.Header().Set("Retry-After", "120")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{
		sourceYAML("busy", srv.URL+"/busy.rss"),
		sourceYAML("broken", srv.URL+"/broken.rss"),
	}, "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	for i := range 10 {
		out.Reset()
		if code := run(ctx, []string{"once", "--config", cfg, "--log-level", "error"}, nil, &out, &errOut); code != 1 {
			t.Fatalf("once #%d: exit %d, want 1 (sources failed)\n%s", i+1, code, out.String())
		}
	}
	if !strings.Contains(out.String(), "status 500") || !strings.Contains(out.String(), "status 429") {
		t.Errorf("the summary does not say why the sources failed:\n%s", out.String())
	}
	// Run from an external scheduler, the waiting sources are left alone.
	before := calls.Load()
	out.Reset()
	if code := run(ctx, []string{"once", "--config", cfg, "--due", "--log-level", "error"}, nil, &out, &errOut); code != 0 {
		t.Errorf("once --due: exit %d\n%s", code, out.String())
	}
	if calls.Load() != before || strings.Count(out.String(), "asked to wait until") != 2 {
		t.Errorf("once --due fetched %d times; want the waiting sources skipped:\n%s", calls.Load()-before, out.String())
	}

	st, err := store.Open(ctx, filepath.Join(dir, "treatywatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	busy, _ := st.Source(ctx, "busy")
	broken, _ := st.Source(ctx, "broken")
	st.Close()
	if wait := busy.NextRun.Sub(busy.LastFetch); wait < 120*time.Second {
		t.Errorf("429 with Retry-After 120: next run after %s", wait)
	}
	if broken.Failures != 10 {
		t.Errorf("failures = %d, want 10", broken.Failures)
	}
	if wait := broken.NextRun.Sub(broken.LastFetch); wait != 4*time.Hour {
		t.Errorf("after 10 failures the next run is %s out, want the 4h cap", wait)
	}

	out.Reset()
	code := run(ctx, []string{"check", "--config", cfg, "--offline"}, nil, &out, &errOut)
	if code != 1 {
		t.Errorf("check exit %d, want 1", code)
	}
	line := lineFor(out.String(), "broken")
	for _, want := range []string{"failing", " 10 ", "status 500"} {
		if !strings.Contains(line, want) {
			t.Errorf("check line for the broken source lacks %q: %s", want, line)
		}
	}
	if !strings.Contains(lineFor(out.String(), "busy"), "failing") {
		t.Errorf("check does not show the rate-limited source as failing:\n%s", out.String())
	}
}

// TestMetricsEndpoint starts the daemon with --listen, scrapes /metrics
// and parses it with the Prometheus text-format parser.
func TestMetricsEndpoint(t *testing.T) {
	desk := treatyFeed(4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(desk)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/desk.rss"), sourceYAML("gone", srv.URL+"/missing")}, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"run", "--config", cfg, "--listen", addr, "--deliver-existing", "--log-level", "error"}, nil, os.Stdout, os.Stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exit %d after cancel, want 0", code)
		}
	}()

	var fams map[string]*dto
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		fams = scrape(t, "http://"+addr+"/metrics")
		if fams != nil && value(fams, "treatywatch_items_relevant_total", "source", "desk") > 0 &&
			value(fams, "treatywatch_fetches_total", "outcome", "http") > 0 &&
			value(fams, "treatywatch_deliveries_total", "outcome", "ok") > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fams == nil {
		t.Fatal("no metrics scraped")
	}
	for _, name := range []string{"treatywatch_fetches_total", "treatywatch_items_new_total", "treatywatch_items_relevant_total",
		"treatywatch_deliveries_total", "treatywatch_source_last_success_timestamp_seconds", "go_goroutines"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	if v := value(fams, "treatywatch_fetches_total", "outcome", "ok"); v < 1 {
		t.Errorf("fetches ok = %v", v)
	}
	if v := value(fams, "treatywatch_fetches_total", "outcome", "http"); v < 1 {
		t.Errorf("the 404 source's failure is not counted: %v", v)
	}
	if v := value(fams, "treatywatch_deliveries_total", "outcome", "ok"); v < 1 {
		t.Errorf("deliveries ok = %v", v)
	}
	if v := value(fams, "treatywatch_source_last_success_timestamp_seconds", "source", "desk"); v < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("last success = %v", v)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
}

type dto = struct {
	samples []sample
}

type sample struct {
	labels map[string]string
	value  float64
}

// scrape fetches and parses a metrics page; nil when not reachable yet.
func scrape(t *testing.T, url string) map[string]*dto {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse as the Prometheus text format: %v", err)
	}
	out := map[string]*dto{}
	for name, f := range fams {
		d := &dto{}
		for _, m := range f.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Untyped != nil:
				s.value = m.GetUntyped().GetValue()
			}
			d.samples = append(d.samples, s)
		}
		out[name] = d
	}
	return out
}

// value sums the samples of a family whose label key has value val.
func value(fams map[string]*dto, name, key, val string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	sum := 0.0
	for _, s := range f.samples {
		if s.labels[key] == val {
			sum += s.value
		}
	}
	return sum
}

// TestSelectorRotIsReported: a page source whose item selector matches
// nothing three runs in a row is flagged by check.
func TestSelectorRotIsReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<html><body><div class="new-layout"><a href="/news/1">Statement on the convention</a></div></body></html>`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	page := fmt.Sprintf("  - id: listing\n    kind: page\n    url: %s/news\n    page:\n      item: \"li.press-release\"\n      link: \"a\"\n", srv.URL)
	cfg := writeConfig(t, dir, []string{page}, "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	for range 3 {
		if code := run(ctx, []string{"once", "--config", cfg, "--log-level", "error"}, nil, &out, &errOut); code != 0 {
			t.Fatalf("once: exit %d\n%s%s", code, out.String(), errOut.String())
		}
	}
	out.Reset()
	if code := run(ctx, []string{"check", "--config", cfg}, nil, &out, &errOut); code != 1 {
		t.Errorf("check exit %d, want 1 for a stale selector", code)
	}
	if line := lineFor(out.String(), "listing"); !strings.Contains(line, "matched nothing in the last 3 runs") {
		t.Errorf("check does not flag the stale selector:\n%s", out.String())
	}
}
