package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/testenv"
)

var screenshotDir = flag.String("dashboard-screenshots", "", "write screenshots of every dashboard page at 1440 and 375 px into this directory")

// chromiumPath finds Chromium; without it the browser tests skip, except
// under CI=true where they fail (scripts/install-test-deps.sh installs
// it). CHROMIUM_BIN names another binary.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		return p
	}
	return testenv.Chromium(t)
}

// browser is one headless Chromium with a fresh profile; it collects
// every console message, exception and browser log error of its tab.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	b := &browser{ctx: bctx}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning {
				b.mu.Lock()
				b.errs = append(b.errs, fmt.Sprintf("%s %s (%s)", m.Type, m.Text, m.URL))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// consoleErrors returns and clears the collected errors.
func (b *browser) consoleErrors() []string {
	// Messages arrive asynchronously: give the last ones a moment.
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errs
	b.errs = nil
	return out
}

func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// script runs JavaScript in the page for its effect.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](js+"; true")(ctx, t)
		return err
	})
}

// open loads a page and waits until it is ready.
func (b *browser) open(t *testing.T, u string) {
	t.Helper()
	b.do(t, chromedp.Navigate(u), chromedp.WaitReady("footer.foot"))
}

// submitAndWait submits the form through a click on its button and waits
// for the next page.
func (b *browser) submitAndWait(t *testing.T, button, wantPath string) {
	t.Helper()
	b.do(t, script(`window.twOldPage = true`), chromedp.Click(button))
	cond := fmt.Sprintf(`!window.twOldPage && location.href.includes(%q) && document.readyState === "complete" && !!document.querySelector("footer.foot")`, wantPath)
	// The evaluation fails while the page navigates; try again until the
	// next page is there.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after clicking %s: no page at %q (last error %v)", button, wantPath, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDashboardInBrowser drives the dashboard in headless Chromium.
func TestDashboardInBrowser(t *testing.T) {
	chromiumPath(t)
	fx := fillDashboardStore(t, "")
	srv, _ := startDashboard(t, fx)
	b := newBrowser(t, 1440, 1000)

	var first dashboard.ItemPage
	getJSON(t, srv.URL, "/api/v1/items?per_page=1&stance=neutral", &first)
	if len(first.Items) == 0 {
		t.Fatal("no neutral relevant item to correct")
	}
	item := first.Items[0]

	t.Run("pages load without console errors", func(t *testing.T) {
		for _, p := range []string{"/", "/?bucket=day&topic=ratification", "/actors", "/treaty", "/items", "/items?q=surveillance",
			"/sources", fmt.Sprintf("/items/%d", item.ID)} {
			b.open(t, srv.URL+p)
			if errs := b.consoleErrors(); len(errs) > 0 {
				t.Errorf("%s: console errors:\n%s", p, strings.Join(errs, "\n"))
			}
			if got := eval[string](t, b, `document.querySelector("h1").textContent`); got == "" || strings.HasPrefix(got, "4") || strings.HasPrefix(got, "5") {
				t.Errorf("%s: h1 %q", p, got)
			}
		}
		// The script loaded: "/" moves the focus to the search box.
		b.open(t, srv.URL+"/items")
		b.do(t, chromedp.KeyEvent("/"))
		if id := eval[string](t, b, `document.activeElement.id`); id != "search" {
			t.Errorf("after '/' the focus is on %q, want the search box", id)
		}
		b.do(t, script(`document.activeElement.blur()`), chromedp.KeyEvent("j"))
		if cls := eval[string](t, b, `document.activeElement.className`); cls != "item-link" {
			t.Errorf("after 'j' the focus is on class %q, want the first item link", cls)
		}
	})

	t.Run("filters change counts to the API's", func(t *testing.T) {
		b.open(t, srv.URL+"/items")
		total := func() int {
			var n int
			fmt.Sscan(eval[string](t, b, `document.getElementById("total").textContent`), &n)
			return n
		}
		api := func(q string) int {
			var p dashboard.ItemPage
			getJSON(t, srv.URL, "/api/v1/items?"+q, &p)
			return p.Total
		}
		if got, want := total(), api(""); got != want {
			t.Errorf("unfiltered: page says %d, API %d", got, want)
		}
		steps := []struct {
			set   string // JS that sets a filter control
			query string
		}{
			{`document.getElementById("f-stance").value = "critical"`, "stance=critical"},
			{`document.getElementById("f-topic").value = "human-rights"`, "stance=critical&topic=human-rights"},
			{`document.getElementById("f-stance").value = ""; document.getElementById("f-lang").value = "fr"`, "topic=human-rights&lang=fr"},
			{`document.getElementById("f-topic").value = ""; document.getElementById("f-lang").value = ""; document.getElementById("search").value = "surveillance"`, "q=surveillance"},
			{`document.getElementById("f-relevance").value = "all"`, "q=surveillance&relevance=all"},
		}
		prev := total()
		changed := false
		for _, s := range steps {
			b.do(t, script(s.set))
			b.submitAndWait(t, "#apply", "/items?")
			got, want := total(), api(s.query)
			if got != want {
				t.Errorf("after %s: page says %d items, API says %d", s.query, got, want)
			}
			rows := eval[int](t, b, `document.querySelectorAll("#items tbody tr").length`)
			if rows != min(want, 50) {
				t.Errorf("after %s: %d rows, want %d", s.query, rows, min(want, 50))
			}
			changed = changed || got != prev
			prev = got
		}
		if !changed {
			t.Error("no filter changed the count")
		}
		if errs := b.consoleErrors(); len(errs) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
		}
	})

	t.Run("a chart has one mark per API point", func(t *testing.T) {
		for _, q := range []string{"from=2025-09-01&to=2026-03-31&bucket=week", "from=2025-10-01&to=2025-12-31&bucket=day&topic=ratification", ""} {
			var tl dashboard.Timeline
			getJSON(t, srv.URL, "/api/v1/aggregates/timeline?"+q, &tl)
			b.open(t, srv.URL+"/?"+q)
			type mark struct {
				Bucket, Stance string
				Count          int
			}
			marks := eval[[]mark](t, b, `Array.from(document.querySelectorAll("#chart-timeline rect.mark")).map(r => ({Bucket: r.dataset.bucket, Stance: r.dataset.stance, Count: +r.dataset.count}))`)
			if len(marks) != len(tl.Points) {
				t.Errorf("%q: %d marks, API has %d points", q, len(marks), len(tl.Points))
				continue
			}
			if len(marks) == 0 {
				t.Errorf("%q: an empty chart", q)
			}
			for i, p := range tl.Points {
				if m := marks[i]; m.Bucket != p.Bucket || m.Stance != p.Stance || m.Count != p.Count {
					t.Errorf("%q: mark %d = %+v, API point %+v", q, i, m, p)
				}
			}
			// Every mark is named for screen readers.
			if n := eval[int](t, b, `document.querySelectorAll("#chart-timeline rect.mark > title").length`); n != len(marks) {
				t.Errorf("%q: %d of %d marks have a title", q, n, len(marks))
			}
		}
	})

	t.Run("a write without credentials is refused", func(t *testing.T) {
		b.open(t, fmt.Sprintf("%s/items/%d", srv.URL, item.ID))
		b.do(t, chromedp.Click("#c-stance-critical"))
		// Headless Chromium answers the 401's basic-auth challenge by
		// failing the navigation with ERR_INVALID_AUTH_CREDENTIALS.
		nav, err := chromedp.RunResponse(b.ctx, chromedp.Click("#c-save"))
		switch {
		case err != nil && strings.Contains(err.Error(), "ERR_INVALID_AUTH_CREDENTIALS"):
		case err != nil:
			t.Fatal(err)
		case nav.Status != http.StatusUnauthorized:
			t.Errorf("the form without credentials answered %d, want 401", nav.Status)
		}
		// The API from the page, without credentials.
		b.open(t, fmt.Sprintf("%s/items/%d", srv.URL, item.ID))
		status := eval[int](t, b, fmt.Sprintf(`fetch("/api/v1/items/%d/corrections", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({relevant: true, stance: "critical"})}).then(r => r.status, e => -1)`, item.ID))
		if status != http.StatusUnauthorized {
			t.Errorf("fetch without credentials: %d, want 401", status)
		}
		b.consoleErrors() // the 401 is logged by the browser
		var d dashboard.ItemDetail
		getJSON(t, srv.URL, fmt.Sprintf("/api/v1/items/%d", item.ID), &d)
		if len(d.Corrections) != 0 || d.Stance != "neutral" {
			t.Errorf("a refused write left corrections %v, stance %q", d.Corrections, d.Stance)
		}
		// Same-origin checks: a cross-site write is refused even with credentials.
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/items/%d/corrections", srv.URL, item.ID), strings.NewReader(`{"relevant":true,"stance":"critical"}`))
		req.SetBasicAuth(dashUser, dashPassword)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site write: %s, want 403", resp.Status)
		}
		req, _ = http.NewRequest("POST", fmt.Sprintf("%s/api/v1/items/%d/corrections", srv.URL, item.ID), strings.NewReader(`{"relevant":true,"stance":"critical"}`))
		req.SetBasicAuth(dashUser, "wrong password")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a wrong password: %s, want 401", resp.Status)
		}
	})

	t.Run("a correction made in the page is in the export", func(t *testing.T) {
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(dashUser+":"+dashPassword))
		if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{}})
		b.open(t, fmt.Sprintf("%s/items/%d", srv.URL, item.ID))
		b.do(t, chromedp.Click("#c-stance-critical"),
			script(`document.querySelectorAll("input[name=topic]").forEach(c => c.checked = false); document.getElementById("c-topic-privacy-surveillance").checked = true; document.getElementById("c-reason").value = "quoted-opponent"; document.getElementById("c-note").value = "the critics are quoted; checked in the browser"`))
		b.submitAndWait(t, "#c-save", "corrected=")
		if errs := b.consoleErrors(); len(errs) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
		}
		if got := eval[string](t, b, `document.getElementById("eff-stance").textContent`); !strings.Contains(got, "critical") {
			t.Errorf("effective stance shown %q, want critical", got)
		}
		if got := eval[string](t, b, `document.getElementById("corrections").textContent`); !strings.Contains(got, dashUser) {
			t.Errorf("corrections list %q does not name %s", got, dashUser)
		}

		out := filepath.Join(fx.dir, "labels.jsonl")
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{"labels", "export", "--config", fx.cfg, "--out", out}, nil, &bytes.Buffer{}, &stderr); code != 0 {
			t.Fatalf("labels export: %d %s", code, stderr.String())
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 1 {
			t.Fatalf("export has %d lines, want the one correction:\n%s", len(lines), data)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"id": item.SourceID + "/" + item.Key, "relevant": true, "stance": "critical", "corrected_by": dashUser, "reason": "quoted-opponent"}
		for k, v := range want {
			if rec[k] != v {
				t.Errorf("export %s = %v, want %v", k, rec[k], v)
			}
		}
		if tp, _ := rec["topics"].([]any); len(tp) != 1 || tp[0] != "privacy-surveillance" {
			t.Errorf("export topics = %v", rec["topics"])
		}
		if m, _ := rec["machine"].(map[string]any); m["stance"] != "neutral" {
			t.Errorf("export machine label = %v, want the machine's neutral", rec["machine"])
		}
		// classify --eval reads the export as labelled items.
		var evalOut bytes.Buffer
		if code := run(context.Background(), []string{"classify", "--eval", "--json", out}, nil, &evalOut, &stderr); code != 0 {
			t.Fatalf("classify --eval on the export: %d %s", code, stderr.String())
		}
		if !strings.Contains(evalOut.String(), `"n"`) && !strings.Contains(evalOut.String(), "1") {
			t.Errorf("classify --eval: %s", evalOut.String())
		}
	})

	if *screenshotDir != "" {
		t.Run("screenshots", func(t *testing.T) { takeScreenshots(t, srv.URL, item.ID) })
	}
}

// takeScreenshots writes every page at 1440 and 375 px wide.
func takeScreenshots(t *testing.T, base string, itemID int64) {
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"overview", "/"}, {"actors", "/actors"}, {"treaty", "/treaty"}, {"items", "/items"},
		{"item", fmt.Sprintf("/items/%d", itemID)}, {"sources", "/sources"},
	}
	var ap dashboard.ActorTables
	getJSON(t, base, "/api/v1/actors?from=2000-01-01&to=2030-12-31", &ap)
	if len(ap.Stance.Rows) > 0 {
		pages = append(pages, struct{ name, path string }{"actor", "/actors/" + url.PathEscape(ap.Stance.Rows[0].Name)})
	}
	for _, w := range []int{1440, 375} {
		b := newBrowser(t, w, 900)
		for _, p := range pages {
			b.open(t, base+p.path)
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(*screenshotDir, fmt.Sprintf("%s-%d.png", p.name, w))
			if err := os.WriteFile(name, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", name)
		}
	}
}
