package pipeline

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/extract"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
)

// post is one article of the test site.
type post struct {
	path, title, summary string
	date                 time.Time // zero: the feed gives no date
	paras                []string
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(9 * time.Hour)
}

var (
	signing = post{path: "/posts/signing", title: "Vietnam hosts signing of the UN Convention against Cybercrime", date: day("2025-10-25"),
		summary: "Sixty-five states signed the United Nations Convention against Cybercrime in Hanoi.",
		paras: []string{"Sixty-five states signed the United Nations Convention against Cybercrime in Hanoi on Saturday, the first day the treaty was open for signature.",
			"The convention was adopted by the General Assembly in December and enters into force after forty ratifications.",
			"Officials said the treaty would help states cooperate on electronic evidence while critics pointed to weak safeguards."}}
	bakery = post{path: "/posts/bakery", title: "New bakery opens downtown", date: day("2025-10-26"),
		summary: "Fresh bread every morning.",
		paras: []string{"A new bakery opened its doors downtown this week, selling sourdough and pastries from six in the morning.",
			"The owners said they had waited two years for the right location near the market square."}}
	ratify = post{path: "/posts/ratify", title: "Parliament ratifies the UN Convention against Cybercrime", date: day("2025-08-15"),
		summary: "The country became the latest to ratify the United Nations Convention against Cybercrime.",
		paras: []string{"Parliament voted on Thursday to ratify the United Nations Convention against Cybercrime, counting toward the forty ratifications the treaty needs.",
			"The government said the convention would speed up requests for electronic evidence across borders.",
			"Opposition members asked for stronger data protection rules before the instrument of ratification is deposited in New York."}}
	football = post{path: "/posts/football", title: "Local team wins the football cup", date: day("2025-07-01"),
		summary: "The match ended two to one after extra time.",
		paras: []string{"The local team won the cup final two to one after extra time in front of a full stadium.",
			"Fans celebrated in the streets until late at night."}}
	rights = post{path: "/posts/rights", title: "Rights groups warn the UN cybercrime treaty enables surveillance", date: day("2025-05-20"),
		summary: "Human Rights Watch said the UN Convention against Cybercrime lacks human rights safeguards.",
		paras: []string{"Human Rights Watch said the UN Convention against Cybercrime lacks human rights safeguards and allows intrusive cross-border data access.",
			"The group urged states not to ratify the treaty without strong protections for journalists and security researchers.",
			"Digital rights organisations have criticised the convention since negotiations ended in August."}}
	undated = post{path: "/posts/undated", title: "Explainer: what the UN Convention against Cybercrime says",
		summary: "A guide to the United Nations Convention against Cybercrime.",
		paras: []string{"The United Nations Convention against Cybercrime criminalises illegal access, interception and online fraud.",
			"It also sets rules for cross-border cooperation and electronic evidence."}}
	vote = post{path: "/posts/vote", title: "Cabinet approves signing the UN Convention against Cybercrime", date: day("2025-02-10"),
		summary: "The cabinet approved signing the United Nations Convention against Cybercrime.",
		paras: []string{"The cabinet approved on Monday a plan to sign the United Nations Convention against Cybercrime at the ceremony in Hanoi.",
			"Ministers said the treaty would give police new tools against ransomware and online fraud.",
			"Parliament will have to ratify the convention before it applies."}}
	adopt = post{path: "/posts/adopt", title: "General Assembly adopts UN cybercrime convention", date: day("2024-12-24"),
		summary: "The UN General Assembly adopted the Convention against Cybercrime without a vote.",
		paras: []string{"The UN General Assembly adopted the Convention against Cybercrime without a vote on Tuesday.",
			"The treaty will open for signature in Hanoi next year."}}

	// Articles only the sitemap lists.
	senate = post{path: "/articles/senate", title: "Senate debates the UN Convention against Cybercrime", date: day("2025-03-15"),
		paras: []string{"The senate debated on Wednesday whether to ratify the United Nations Convention against Cybercrime signed in Hanoi.",
			"Senators asked how the treaty's safeguards would protect journalists and security researchers from prosecution.",
			"The foreign ministry said ratification of the convention would bring faster cooperation on electronic evidence."}}
	garden = post{path: "/articles/garden", title: "Spring gardening tips", date: day("2025-04-01"),
		paras: []string{"Spring is the time to plant tomatoes, beans and herbs in a sunny corner of the garden.",
			"Water them in the morning and keep the soil loose."}}
	early = post{path: "/articles/early", title: "Negotiators near deal on UN Convention against Cybercrime", date: day("2024-08-08"),
		paras: []string{"Negotiators in New York neared a deal on the United Nations Convention against Cybercrime on Thursday.",
			"The final session of the ad hoc committee ran late into the night."}}
	late = post{path: "/articles/late", title: "Convention against Cybercrime: a year after Hanoi", date: day("2026-10-25"),
		paras: []string{"A year after the signing ceremony in Hanoi, the United Nations Convention against Cybercrime has few ratifications."}}
)

// feedPages are the pages of the paginated feed, newest first.
var feedPages = [][]post{{signing, bakery}, {ratify, football, undated, rights}, {vote, adopt}}

// site is a WordPress-like site: /feed/ paginated with ?paged=N, a
// sitemap index, and article pages.
type site struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

func (s *site) URL() string { return s.srv.URL }

func (s *site) hit(r *http.Request) {
	s.mu.Lock()
	s.hits = append(s.hits, r.URL.RequestURI())
	s.mu.Unlock()
}

// requested reports whether the site served uri.
func (s *site) requested(uri string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.hits, uri)
}

func (s *site) reset() {
	s.mu.Lock()
	s.hits = nil
	s.mu.Unlock()
}

func rssPage(base string, posts []post) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Treaty Times</title><link>` + base + `/</link><description>News</description>`)
	for i, p := range posts {
		fmt.Fprintf(&b, "\n<item><title>%s</title><link>%s%s</link><guid isPermaLink=\"false\">%s/?p=%d</guid><description>%s</description>",
			html.EscapeString(p.title), base, p.path, base, 100+i+len(p.path), html.EscapeString(p.summary))
		if !p.date.IsZero() {
			fmt.Fprintf(&b, "<pubDate>%s</pubDate>", p.date.Format(time.RFC1123Z))
		}
		b.WriteString("</item>")
	}
	b.WriteString("\n</channel></rss>")
	return b.String()
}

func articleHTML(p post) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s</title></head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/about">About</a></nav></header>
<main><article><h1>%s</h1>`, html.EscapeString(p.title), html.EscapeString(p.title))
	for _, para := range p.paras {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(para))
	}
	b.WriteString(`</article></main><footer><p>Copyright Treaty Times</p></footer></body></html>`)
	return b.String()
}

func newSite(t testing.TB) *site {
	s := &site{}
	all := map[string]post{}
	for _, page := range feedPages {
		for _, p := range page {
			all[p.path] = p
		}
	}
	for _, p := range []post{senate, garden, early, late} {
		all[p.path] = p
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if v := r.URL.Query().Get("paged"); v != "" {
			fmt.Sscan(v, &n)
		}
		if n < 1 || n > len(feedPages) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
		fmt.Fprint(w, rssPage(s.URL(), feedPages[n-1]))
	})
	mux.HandleFunc("/sitemap_index.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>%[1]s/post-sitemap.xml</loc><lastmod>2026-11-01T10:00:00+00:00</lastmod></sitemap>
<sitemap><loc>%[1]s/page-sitemap.xml</loc><lastmod>2023-05-01T10:00:00+00:00</lastmod></sitemap>
</sitemapindex>`, s.URL())
	})
	mux.HandleFunc("/post-sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, p := range []post{senate, garden, early, late} {
			fmt.Fprintf(w, "\n<url><loc>%s%s</loc><lastmod>%s</lastmod></url>", s.URL(), p.path, p.date.Format(time.RFC3339))
		}
		// The feed's article is listed too, under its URL.
		fmt.Fprintf(w, "\n<url><loc>%s%s</loc><lastmod>2025-08-16</lastmod></url>\n</urlset>", s.URL(), ratify.path)
	})
	mux.HandleFunc("/page-sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		t.Error("read a child sitemap last modified before the window")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p, ok := all[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleHTML(p))
	})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hit(r)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// recordSink keeps what it took.
type recordSink struct {
	mu   sync.Mutex
	name string
	got  []sinks.Record
}

func (s *recordSink) Name() string { return s.name }
func (s *recordSink) Write(_ context.Context, recs []sinks.Record) error {
	s.mu.Lock()
	s.got = append(s.got, recs...)
	s.mu.Unlock()
	return nil
}

func (s *recordSink) records() []sinks.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

type backfillEnv struct {
	site   *site
	st     *store.Store
	sink   *recordSink
	r      *Pipeline
	client *fetch.Client
	ext    *extract.Extractor
	src    Source
}

// newBackfillEnv wires a pipeline as the command does: the real client,
// feed fetcher, extractor, classifier and store.
func newBackfillEnv(t *testing.T, g func(*fetch.Client) fetch.Getter) *backfillEnv {
	t.Helper()
	e := &backfillEnv{site: newSite(t), sink: &recordSink{name: "rec"}}
	var err error
	e.st, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	cls, err := classify.Default()
	if err != nil {
		t.Fatal(err)
	}
	e.client = fetch.NewClient(fetch.ClientOptions{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostInterval: -1, PerHost: 4,
	})
	var getter fetch.Getter = e.client
	if g != nil {
		getter = g(e.client)
	}
	e.ext = extract.New(getter, extract.Options{})
	e.r = New(Options{
		Store: e.st, Outbox: OutboxOptions{Sinks: []sinks.Sink{e.sink}},
		Ingest: IngestOptions{Classifier: cls, Extractor: e.ext,
			Fetchers: map[fetch.Kind]fetch.Fetcher{fetch.KindFeed: feed.New(getter, feed.Options{})}},
	})
	e.src = Source{Source: fetch.Source{
		ID: "times", Kind: fetch.KindFeed, URL: e.site.URL() + "/feed/", Name: "Treaty Times", Lang: "en",
		Archive: &fetch.Archive{PageParam: "paged", Sitemap: e.site.URL() + "/sitemap_index.xml"},
	}}
	return e
}

func (e *backfillEnv) opts(since, until string) BackfillOptions {
	return BackfillOptions{Since: day(since).Truncate(24 * time.Hour), Until: day(until).Truncate(24 * time.Hour),
		Getter: e.client}
}

// delivered returns the paths of the items the sink took, sorted.
func (e *backfillEnv) delivered() []string {
	var out []string
	for _, r := range e.sink.records() {
		u, _ := url.Parse(r.Item.URL)
		out = append(out, u.Path)
	}
	slices.Sort(out)
	return out
}

func paths(ps ...post) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.path)
	}
	slices.Sort(out)
	return out
}

func TestBackfillKeepsToWindow(t *testing.T) {
	tests := []struct {
		name         string
		since, until string
		want         []string
		// requested and not requested URIs
		fetched, notFetched []string
		pages, articles     int
	}{
		{
			name: "three pages, 404 ends, sitemap", since: "2025-01-01", until: "2025-10-01",
			want:       paths(ratify, rights, vote, senate),
			fetched:    []string{"/feed/", "/feed/?paged=2", "/feed/?paged=3", "/feed/?paged=4", "/post-sitemap.xml", "/articles/senate", "/articles/garden"},
			notFetched: []string{"/feed/?paged=5", "/articles/early", "/articles/late", "/page-sitemap.xml"},
			pages:      3 + 2, articles: 2,
		},
		{
			name: "stops at the first page older than the window", since: "2025-07-01", until: "2025-10-01",
			want:       paths(ratify),
			fetched:    []string{"/feed/", "/feed/?paged=2", "/feed/?paged=3"},
			notFetched: []string{"/feed/?paged=4", "/articles/senate", "/articles/garden"},
			pages:      3 + 2,
		},
		{
			name: "newest only", since: "2025-10-20", until: "2025-11-01",
			want:       paths(signing),
			fetched:    []string{"/feed/", "/feed/?paged=2", "/posts/signing"},
			notFetched: []string{"/feed/?paged=3", "/posts/bakery"},
			pages:      2 + 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newBackfillEnv(t, nil)
			var stages []string
			o := e.opts(tt.since, tt.until)
			o.Progress = func(p Progress) {
				if p.Source != "times" {
					t.Errorf("progress of source %q", p.Source)
				}
				stages = append(stages, p.Stage)
			}
			rep, err := e.r.Backfill(ctx, e.src, o)
			if err != nil {
				t.Fatalf("Backfill: %v (report %+v)", err, rep)
			}
			if _, err := e.r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := e.delivered(); !slices.Equal(got, tt.want) {
				t.Errorf("delivered %v, want %v", got, tt.want)
			}
			for _, r := range e.sink.records() {
				p := r.Item.Published
				if p.Before(o.Since) || !p.Before(o.Until) {
					t.Errorf("delivered %s dated %s, outside the window", r.Item.URL, p)
				}
			}
			for _, u := range tt.fetched {
				if !e.site.requested(u) {
					t.Errorf("%s not requested", u)
				}
			}
			for _, u := range tt.notFetched {
				if e.site.requested(u) {
					t.Errorf("%s requested", u)
				}
			}
			if rep.Relevant != len(tt.want) || rep.Queued != len(tt.want) || rep.Pages != tt.pages || rep.Articles != tt.articles {
				t.Errorf("report = %+v", rep)
			}
			if stages[len(stages)-1] != StageDone || !slices.Contains(stages, StagePage) || !slices.Contains(stages, StageSitemap) {
				t.Errorf("progress stages %v", stages)
			}
			// The daemon's view of the source is untouched.
			ss, err := e.st.Source(ctx, "times")
			if err != nil {
				t.Fatal(err)
			}
			if ss.Initialised || !ss.LastSuccess.IsZero() {
				t.Errorf("source state changed by the backfill: %+v", ss)
			}
		})
	}
}

func TestBackfillDryRunSecondRunRedeliver(t *testing.T) {
	ctx := context.Background()
	e := newBackfillEnv(t, nil)
	want := paths(ratify, rights, vote, senate)
	o := e.opts("2025-01-01", "2025-10-01")

	// A dry run commits and delivers nothing but says what would go.
	dry := o
	dry.DryRun = true
	rep, err := e.r.Backfill(ctx, e.src, dry)
	if err != nil {
		t.Fatal(err)
	}
	var would []string
	for _, l := range rep.WouldDeliver {
		u, _ := url.Parse(l.Item.URL)
		would = append(would, u.Path)
	}
	slices.Sort(would)
	if !slices.Equal(would, want) || rep.Relevant != 4 || rep.NewRelevant != 4 || rep.Queued != 0 {
		t.Errorf("dry run would deliver %v (report %+v), want %v", would, rep, want)
	}
	if rep.Undated != 1 || rep.InWindow != 6 {
		t.Errorf("dry run: undated %d in window %d, want 1 and 6", rep.Undated, rep.InWindow)
	}
	if n := rep.ByTopic["ratification"][classify.StanceNeutral] + rep.ByTopic["ratification"][classify.StanceSupportive] +
		rep.ByTopic["ratification"][classify.StanceCritical] + rep.ByTopic["ratification"][classify.StanceMixed]; n == 0 {
		t.Errorf("dry run: no ratification item in %v", rep.ByTopic)
	}
	stored := 0
	if err := e.st.Items(ctx, store.ItemFilter{}, func(store.Labeled) error { stored++; return nil }); err != nil {
		t.Fatal(err)
	}
	depth, err := e.st.OutboxDepth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := e.r.Flush(ctx); n != 0 || stored != 0 || len(depth) != 0 || len(e.sink.records()) != 0 {
		t.Fatalf("dry run left %d items, outbox %v, delivered %d", stored, depth, n)
	}

	// The real run delivers the window's relevant items.
	rep, err = e.r.Backfill(ctx, e.src, o)
	if err != nil || rep.Queued != 4 {
		t.Fatalf("backfill: %v, report %+v", err, rep)
	}
	e.r.Flush(ctx)
	if got := e.delivered(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	first := e.sink.records()

	// A second backfill over the same window delivers nothing new, and
	// reads no article the store has.
	e.site.reset()
	rep, err = e.r.Backfill(ctx, e.src, o)
	if err != nil || rep.Queued != 0 || rep.Relevant != 4 || rep.New != 0 {
		t.Fatalf("second backfill: %v, report %+v", err, rep)
	}
	if n, _ := e.r.Flush(ctx); n != 0 || len(e.sink.records()) != 4 {
		t.Errorf("second backfill delivered %d more", n)
	}
	if e.site.requested(senate.path) {
		t.Errorf("second backfill fetched %s again", senate.path)
	}

	// --redeliver queues them again, with the same event ids.
	o.Redeliver = true
	rep, err = e.r.Backfill(ctx, e.src, o)
	if err != nil || rep.Queued != 4 {
		t.Fatalf("redeliver: %v, report %+v", err, rep)
	}
	e.r.Flush(ctx)
	all := e.sink.records()
	if len(all) != 8 {
		t.Fatalf("after redeliver the sink has %d records, want 8", len(all))
	}
	var ids1, ids2 []string
	for i := range 4 {
		ids1 = append(ids1, first[i].EventID)
		ids2 = append(ids2, all[4+i].EventID)
	}
	slices.Sort(ids1)
	slices.Sort(ids2)
	if !slices.Equal(ids1, ids2) {
		t.Errorf("redelivered ids %v, first ids %v", ids2, ids1)
	}
}

// A source's first daemon run only marks items seen; a backfill over
// their window delivers them, once.
func TestBackfillDeliversWhatFirstRunMarkedSeen(t *testing.T) {
	ctx := context.Background()
	e := newBackfillEnv(t, nil)
	if rep := e.r.RunSource(ctx, e.src, RunOptions{}); rep.Err != nil || !rep.FirstRun || rep.Queued != 0 {
		t.Fatalf("first run = %+v", rep)
	}
	o := e.opts("2025-10-20", "2025-11-01")
	rep, err := e.r.Backfill(ctx, e.src, o)
	if err != nil || rep.Queued != 1 || rep.New != 0 {
		t.Fatalf("backfill: %v, report %+v", err, rep)
	}
	e.r.Flush(ctx)
	if got := e.delivered(); !slices.Equal(got, paths(signing)) {
		t.Errorf("delivered %v", got)
	}
	// The daemon's next run does not deliver it again.
	if rep := e.r.RunSource(ctx, e.src, RunOptions{Force: true}); rep.Err != nil || rep.Queued != 0 {
		t.Errorf("second daemon run = %+v", rep)
	}
}

func TestBackfillRejectsBadWindow(t *testing.T) {
	e := newBackfillEnv(t, nil)
	for _, o := range []BackfillOptions{
		{},
		{Since: day("2025-05-01"), Until: day("2025-05-01")},
		{Since: day("2025-05-02"), Until: day("2025-05-01")},
	} {
		if _, err := e.r.Backfill(context.Background(), e.src, o); err == nil {
			t.Errorf("window %v–%v accepted", o.Since, o.Until)
		}
	}
}

// googleNews sends requests for news.google.com to a local server.
type googleNews struct {
	g  fetch.Getter
	to string
}

func (n googleNews) Get(ctx context.Context, src fetch.Source, raw string, prev fetch.Validators) (*fetch.Response, error) {
	if rest, ok := strings.CutPrefix(raw, "https://news.google.com"); ok {
		raw = n.to + rest
	}
	return n.g.Get(ctx, src, raw, prev)
}

func TestBackfillSearchSplitsFullWindows(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var queries []string
	// One story every day; a search returns at most 100, newest first,
	// like Google News, plus one undated story.
	news := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/a/") { // articles: gone, the summary stays
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query().Get("q")
		mu.Lock()
		queries = append(queries, q)
		mu.Unlock()
		if r.URL.Path != "/rss/search" || r.URL.Query().Get("hl") != "en-US" {
			http.NotFound(w, r)
			return
		}
		var after, before time.Time
		for _, f := range strings.Fields(q) {
			if v, ok := strings.CutPrefix(f, "after:"); ok {
				after, _ = time.Parse(time.DateOnly, v)
			}
			if v, ok := strings.CutPrefix(f, "before:"); ok {
				before, _ = time.Parse(time.DateOnly, v)
			}
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>search</title>`)
		b.WriteString(`<item><title>UN Convention against Cybercrime explained</title><link>` + "http://" + r.Host + `/a/explained</link><guid>explained</guid></item>`)
		n := 1
		for d := before.Add(-24 * time.Hour); d.After(after) && n < 100; d = d.Add(-24 * time.Hour) {
			fmt.Fprintf(&b, `<item><title>UN Convention against Cybercrime: update of %s</title><link>http://%s/a/%s</link><guid>%s</guid><pubDate>%s</pubDate></item>`,
				d.Format(time.DateOnly), r.Host, d.Format(time.DateOnly), d.Format(time.DateOnly), d.Add(12*time.Hour).Format(time.RFC1123Z))
			n++
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, b.String())
	}))
	defer news.Close()
	e := newBackfillEnv(t, func(c *fetch.Client) fetch.Getter { return googleNews{g: c, to: news.URL} })
	src := Source{Source: fetch.Source{ID: "gn", Kind: fetch.KindFeed, URL: e.site.URL() + "/feed/", Lang: "en",
		Archive: &fetch.Archive{Query: `"cybercrime convention"`}}}
	o := e.opts("2025-01-01", "2025-07-01") // 181 days
	rep, err := e.r.Backfill(ctx, src, o)
	if err != nil {
		t.Fatalf("Backfill: %v", err)
	}
	e.r.Flush(ctx)
	days := map[string]bool{}
	undatedTaken := false
	for _, r := range e.sink.records() {
		if r.Item.Key == "explained" {
			undatedTaken = true
			continue
		}
		if r.Item.Published.Before(o.Since) || !r.Item.Published.Before(o.Until) {
			t.Errorf("delivered %s dated %s, outside the window", r.Item.Key, r.Item.Published)
		}
		days[r.Item.Key] = true
	}
	if len(days) != 181 || !undatedTaken {
		t.Errorf("delivered %d days of the window's 181 (undated taken: %v); %d queries: %q", len(days), undatedTaken, len(queries), queries)
	}
	if len(queries) < 3 || !strings.Contains(queries[0], `"cybercrime convention" after:2024-12-31 before:2025-07-01`) {
		t.Errorf("queries %q", queries)
	}
	if rep.Pages != 1+len(queries) { // the feed's current page, then the searches
		t.Errorf("report pages %d, queries %d", rep.Pages, len(queries))
	}
}
