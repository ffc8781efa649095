package scaletest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

var (
	sources      = flag.Int("scale.sources", 0, "sources of the once passes (0: skip the harness)")
	runSources   = flag.Int("scale.run-sources", 1000, "sources of the daemon whose idle RSS is measured (0: skip)")
	perFeed      = flag.Int("scale.items", 20, "items per feed")
	hosts        = flag.Int("scale.hosts", 4, "loopback addresses serving the feeds (127.0.0.1 and up)")
	relevantEach = flag.Int("scale.relevant-every", 20, "one item in this many is a treaty item")
	idleFor      = flag.Duration("scale.idle", 30*time.Second, "how long the daemon's resident set is sampled after its start-up pass")
	idleEvery    = flag.Duration("scale.idle-every", 3*time.Second, "how often the daemon's resident set is sampled while it idles")
	idleTarget   = flag.Float64("scale.idle-target", 60, "the daemon's idle RSS target in MiB, checked against the largest sample")
	daemons      = flag.Int("scale.daemons", 1, "how many daemons to start one after the other, each on a new database, for the idle RSS")
	smaps        = flag.Bool("scale.smaps", false, "print the daemon's memory by mapping (/proc/PID/smaps) at its last idle sample")
	workers      = flag.Int("scale.workers", 4, "--workers of the runs")
	memLimit     = flag.String("scale.memory-limit", "", "--memory-limit of the runs (empty: the default)")
	keep         = flag.String("scale.keep", "", "copy the once passes' database to this path")
	showStderr   = flag.Bool("scale.stderr", false, "print the end of each once pass's standard error (with GODEBUG=gctrace=1, the collector's trace)")
)

// text is one item's text.
type text struct{ title, body string }

// texts reads the pools: news items from the corpus feeds and the
// labelled treaty items.
func texts(t testing.TB) (news, treaty []text) {
	p := gofeed.NewParser()
	for _, f := range corpustest.Feeds(t) {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		feed, err := p.Parse(bytes.NewReader(b))
		if err != nil {
			continue
		}
		for _, it := range feed.Items {
			if it.Title != "" {
				news = append(news, text{it.Title, it.Description})
			}
		}
	}
	f, err := os.Open(filepath.Join(corpustest.Shared(t, "eval"), "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Title, Text string
			Relevant    bool
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("eval item: %v", err)
		}
		if e.Relevant {
			treaty = append(treaty, text{e.Title, e.Text})
		}
	}
	if len(news) < 100 || len(treaty) < 10 {
		t.Fatalf("text pools too small: %d news, %d treaty items", len(news), len(treaty))
	}
	return news, treaty
}

// feeds serves /f/N.xml: feed N with its items, a strong ETag, and 304 on
// a matching If-None-Match.
type feeds struct {
	news, treaty []text
	items, every int
}

func (s *feeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/f/")
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".xml"))
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"feed-%d"`, n)
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>Feed %d</title><link>http://%s/</link><description>synthetic feed %d</description>\n", n, r.Host, n)
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for j := range s.items {
		k := n*s.items + j
		tx := s.news[k%len(s.news)]
		if k%s.every == 0 {
			tx = s.treaty[(k/s.every)%len(s.treaty)]
		}
		fmt.Fprintf(&b, "<item><title>%s</title><link>http://%s/a/%d/%d</link><guid isPermaLink=\"false\">f%d-i%d</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
			esc(tx.title), r.Host, n, j, n, j, day.Add(time.Duration(k%500)*time.Hour).Format(time.RFC1123Z), esc(tx.body))
	}
	b.WriteString("</channel></rss>\n")
	w.Write(b.Bytes())
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(html.UnescapeString(s)))
	return b.String()
}

// serve starts a server for f on each of n loopback addresses and
// returns their base URLs.
func serve(t testing.TB, f http.Handler, n int) []string {
	var urls []string
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i+1))
		if err != nil {
			t.Fatalf("listen on loopback address %d: %v", i+1, err)
		}
		srv := &http.Server{Handler: f, ReadHeaderTimeout: time.Minute}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		urls = append(urls, "http://"+ln.Addr().String())
	}
	return urls
}

// politeness is the config's http settings; the scale runs use a
// permissive one, so that they measure the program, not the waits.
type politeness struct {
	perHost  int
	interval string
}

var permissive = politeness{perHost: 8, interval: "0s"}

// config writes a config with n sources spread over the servers, hosts
// interleaved (source i on server i mod hosts) or grouped (the first n/hosts
// on the first server, and so on).
func config(t testing.TB, dir string, urls []string, n int, schedule string, pol politeness, grouped bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nhttp:\n  per_host: %d\n  host_interval: %s\n  allow_private: [loopback]\ndefaults:\n  timeout: 60s\n  min_words: 0\n  schedule: %q\nsources:\n",
		dir, pol.perHost, pol.interval, schedule)
	per := (n + len(urls) - 1) / len(urls)
	for i := range n {
		host := i % len(urls)
		if grouped {
			host = i / per
		}
		fmt.Fprintf(&b, "  - id: s%05d\n    url: %s/f/%d.xml\n", i, urls[host], i)
	}
	fmt.Fprintf(&b, "sinks:\n  - name: jsonl\n    type: file\n    path: %s\n", filepath.Join(dir, "items.jsonl"))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// build compiles the treatywatch binary.
func build(t testing.TB) string {
	bin := filepath.Join(t.TempDir(), "treatywatch")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/treatywatch/treatywatch/cmd/treatywatch").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// usage is what a finished process cost.
type usage struct {
	wall     time.Duration
	cpu      time.Duration
	maxRSSKB int64
}

func (u usage) String() string {
	return fmt.Sprintf("wall %.1f s, CPU %.1f s, peak RSS %.1f MiB", u.wall.Seconds(), u.cpu.Seconds(), float64(u.maxRSSKB)/1024)
}

func measured(c *exec.Cmd, start time.Time) usage {
	ru := c.ProcessState.SysUsage().(*syscall.Rusage)
	return usage{
		wall:     time.Since(start),
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		maxRSSKB: ru.Maxrss,
	}
}

var okRow = regexp.MustCompile(`(?m)^s\d{5}\s+(ok|not-modified)\s+(\d+)\s+(\d+)\s`)

// once runs a once pass and returns its cost, the sources it ran and the
// new items it stored; a failed source fails the test.
func once(t testing.TB, bin, cfg string) (u usage, ran, fresh int) {
	args := []string{"once", "--config", cfg, "--log-level", "error", "--workers", strconv.Itoa(*workers)}
	if *memLimit != "" {
		args = append(args, "--memory-limit", *memLimit)
	}
	var out, errOut bytes.Buffer
	c := exec.Command(bin, args...)
	c.Stdout, c.Stderr = &out, &errOut
	start := time.Now()
	if err := c.Run(); err != nil {
		t.Fatalf("once: %v\n%s\n%.4000s", err, errOut.String(), out.String())
	}
	u = measured(c, start)
	if *showStderr {
		e := errOut.String()
		fmt.Printf("once stderr (last 3000 bytes):\n%s\n", e[max(0, len(e)-3000):])
	}
	for _, m := range okRow.FindAllStringSubmatch(out.String(), -1) {
		ran++
		n, _ := strconv.Atoi(m[3])
		fresh += n
	}
	return u, ran, fresh
}

func dbBytes(t *testing.T, dir string) int64 {
	var total int64
	for _, f := range []string{"treatywatch.db", "treatywatch.db-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			total += fi.Size()
		}
	}
	if total == 0 {
		t.Fatalf("no database in %s", dir)
	}
	return total
}

// TestScale is the harness. Its figures are printed (and logged with -v);
// its assertions are only that every pass did its work.
func TestScale(t *testing.T) {
	if *sources <= 0 {
		t.Skip("the scale harness runs only when asked: -scale.sources N (scripts/scale)")
	}
	news, treaty := texts(t)
	urls := serve(t, &feeds{news: news, treaty: treaty, items: *perFeed, every: *relevantEach}, *hosts)
	bin := build(t)

	dir := t.TempDir()
	cfg := config(t, dir, urls, *sources, "@every 1h", permissive, false)
	first, ran, fresh := once(t, bin, cfg)
	if ran != *sources || fresh != *sources**perFeed {
		t.Fatalf("first pass ran %d sources and stored %d items, want %d and %d", ran, fresh, *sources, *sources**perFeed)
	}
	size := dbBytes(t, dir)
	if *keep != "" {
		b, err := os.ReadFile(filepath.Join(dir, "treatywatch.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*keep, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, ran2, fresh2 := once(t, bin, cfg)
	if ran2 != *sources || fresh2 != 0 {
		t.Fatalf("second pass ran %d sources with %d new items, want %d and none", ran2, fresh2, *sources)
	}
	report(t, "once, %d sources x %d items, %d hosts: %s", *sources, *perFeed, *hosts, first)
	report(t, "database: %d bytes for %d items = %.0f bytes per item", size, fresh, float64(size)/float64(fresh))
	report(t, "second once pass (all 304): %s; CPU %.1f%% of the first", second, 100*second.cpu.Seconds()/first.cpu.Seconds())
	report(t, "%s: all-304 pass CPU %.1f%% of the first; target: <= 5%%", verdict(second.cpu <= first.cpu/20), 100*second.cpu.Seconds()/first.cpu.Seconds())
	report(t, "%s: once peak RSS %.1f MiB; target at 10,000 sources: <= 120 MiB", verdict(float64(first.maxRSSKB)/1024 <= 120), float64(first.maxRSSKB)/1024)
	report(t, "%s: database %.0f bytes per item; target at 10,000 sources: <= 1,200", verdict(float64(size)/float64(fresh) <= 1200), float64(size)/float64(fresh))

	if *runSources > 0 {
		var maxima []float64
		for i := range *daemons {
			s := idleRSS(t, bin, urls, *runSources)
			report(t, "run %d/%d, %d sources, idle %s after its start-up pass, %d samples: RSS min %.1f, median %.1f, max %.1f MiB (load %s)",
				i+1, *daemons, *runSources, *idleFor, len(s.rss), s.min(), s.median(), s.max(), loadavg())
			maxima = append(maxima, s.max())
		}
		report(t, "%s: run idle RSS, largest sample of each daemon %s MiB; target: every sample <= %.0f MiB",
			verdict(slices.Max(maxima) <= *idleTarget), mibs(maxima), *idleTarget)
	}
}

// verdict is the word a figure's line starts with: whether it meets its
// target.
func verdict(met bool) string {
	if met {
		return "PASS"
	}
	return "FAIL"
}

// idle is the daemon's resident set sampled while it idles, in MiB.
type idle struct {
	rss    []float64
	detail []string
}

func (s idle) min() float64 { return slices.Min(s.rss) }
func (s idle) max() float64 { return slices.Max(s.rss) }
func (s idle) median() float64 {
	r := slices.Sorted(slices.Values(s.rss))
	if len(r)%2 == 1 {
		return r[len(r)/2]
	}
	return (r[len(r)/2-1] + r[len(r)/2]) / 2
}

func mibs(v []float64) string {
	var b []string
	for _, x := range v {
		b = append(b, fmt.Sprintf("%.1f", x))
	}
	return strings.Join(b, ", ")
}

// loadavg is the machine's load average over the last minute, five and
// fifteen minutes: the figures of a loaded machine differ.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func report(t *testing.T, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Println("scale:", line)
	t.Log(line)
}

// idleRSS starts the daemon over n sources, waits for its start-up pass
// to end and samples its resident set every idleEvery for idleFor.
func idleRSS(t *testing.T, bin string, urls []string, n int) idle {
	dir := t.TempDir()
	cfg := config(t, dir, urls, n, "@every 6h", permissive, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	args := []string{"run", "--config", cfg, "--log-level", "info", "--workers", strconv.Itoa(*workers)}
	if *memLimit != "" {
		args = append(args, "--memory-limit", *memLimit)
	}
	c := exec.CommandContext(ctx, bin, args...)
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout = io.Discard
	if os.Getenv("GODEBUG") == "" {
		// The collector's trace: its last line is reported.
		c.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Process.Signal(syscall.SIGTERM)
		c.Wait()
	}()
	started := make(chan bool, 1)
	var lastGC atomic.Value // with GODEBUG=gctrace=1, the collector's last line
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "start-up") {
				seen = true
				started <- true
			}
			if strings.HasPrefix(sc.Text(), "gc ") {
				lastGC.Store(sc.Text())
			}
			if *showStderr && (strings.HasPrefix(sc.Text(), "gc ") || strings.HasPrefix(sc.Text(), "scav ")) {
				fmt.Printf("scale: run, %.1f s: %s\n", time.Since(start).Seconds(), sc.Text())
			}
		}
		close(started)
	}()
	if ok := <-started; !ok {
		t.Fatal("the daemon exited before its start-up pass ended")
	}
	report(t, "run, start-up pass over %d sources ended after %.1f s", n, time.Since(start).Seconds())
	var out idle
	var status []byte
	for end := time.Now().Add(*idleFor); ; {
		time.Sleep(min(*idleEvery, time.Until(end)))
		var err error
		status, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Process.Pid))
		if err != nil {
			t.Fatalf("read the daemon's status: %v", err)
		}
		out.rss = append(out.rss, float64(statusKB(t, status, "VmRSS"))/1024)
		out.detail = append(out.detail, fmt.Sprintf("%.1f MiB (anonymous %.1f, file %.1f, %d SQLite connections)", out.rss[len(out.rss)-1],
			float64(statusKB(t, status, "RssAnon"))/1024, float64(statusKB(t, status, "RssFile"))/1024, sqliteConns(c.Process.Pid)))
		if !time.Now().Before(end) {
			break
		}
	}
	var parts []string
	for _, f := range []string{"RssAnon", "RssFile", "RssShmem", "VmStk", "Threads"} {
		if m := regexp.MustCompile(`(?m)^` + f + `:\s+(.*)$`).FindSubmatch(status); m != nil {
			parts = append(parts, f+" "+strings.Join(strings.Fields(string(m[1])), " "))
		}
	}
	report(t, "run, idle, samples every %s: %s", *idleEvery, strings.Join(out.detail, "; "))
	report(t, "run, idle, at the last sample: %s", strings.Join(parts, ", "))
	if l, ok := lastGC.Load().(string); ok {
		report(t, "run, idle, last collection: %s", l)
	}
	if *smaps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", c.Process.Pid))
		if err != nil {
			t.Fatalf("read the daemon's mappings: %v", err)
		}
		for _, l := range mappings(b) {
			report(t, "run, idle, mapping: %s", l)
		}
	}
	return out
}

// statusKB reads a "Name:  N kB" line of /proc/PID/status.
func statusKB(t *testing.T, status []byte, name string) int64 {
	m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no %s in the daemon's status", name)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb
}

// mappings sums the resident kilobytes of /proc/PID/smaps by file, and
// the anonymous ones by the size of the mapping: the Go heap is a few
// large mappings, the pure-Go SQLite's allocator maps 1 MiB slabs (and
// larger regions for large allocations), each thread has its 8 MiB stack
// mapping. The largest come first.
func mappings(smaps []byte) []string {
	type sum struct{ n, kb int64 }
	sums := map[string]*sum{}
	var cur *sum
	for _, l := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if from, to, ok := strings.Cut(f[0], "-"); ok && !strings.HasSuffix(f[0], ":") {
			a, _ := strconv.ParseUint(from, 16, 64)
			b, _ := strconv.ParseUint(to, 16, 64)
			kind := fmt.Sprintf("anonymous, mappings of %d KiB", (b-a)/1024)
			if len(f) >= 6 {
				kind = f[5]
			}
			if sums[kind] == nil {
				sums[kind] = &sum{}
			}
			cur = sums[kind]
			cur.n++
			continue
		}
		if f[0] == "Rss:" && len(f) >= 2 && cur != nil {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			cur.kb += kb
		}
	}
	kinds := slices.Collect(maps.Keys(sums))
	slices.SortFunc(kinds, func(a, b string) int { return int(sums[b].kb - sums[a].kb) })
	var out []string
	for _, k := range kinds {
		if s := sums[k]; s.kb >= 256 {
			out = append(out, fmt.Sprintf("%.1f MiB in %d: %s", float64(s.kb)/1024, s.n, k))
		}
	}
	return out
}

// sqliteConns counts the daemon's open descriptors of its database file:
// one per open SQLite connection.
func sqliteConns(pid int) int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasSuffix(l, ".db") {
			n++
		}
	}
	return n
}
