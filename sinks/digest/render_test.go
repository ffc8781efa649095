package digest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/sinks"
)

var (
	winEnd = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC) // 07:00 in Berlin
	window = sinks.Window{Start: winEnd.Add(-24 * time.Hour), End: winEnd}
)

func windowRecords() []sinks.Record {
	at := winEnd.Add(-2 * time.Hour)
	return []sinks.Record{
		rec("a1", "NGOs urge parliaments to reject the treaty", classify.StanceCritical, 0.9, at, "human-rights", "ratification"),
		rec("a2", "Privacy groups call it a surveillance pact", classify.StanceCritical, 0.8, at, "privacy-surveillance"),
		rec("a3", "UNODC welcomes two new ratifications", classify.StanceSupportive, 0.7, at, "ratification"),
		rec("a4", "Explainer: the cooperation chapter", classify.StanceNeutral, 0.6, at, "international-cooperation"),
		rec("a5", "Industry: better text, still flawed", classify.StanceMixed, 0.5, at, "privacy-surveillance", "security-research"),
		rec("a6", "Passing mention in a briefing", classify.StanceNeutral, 0.1, at),
		rec("a1", "NGOs urge parliaments to reject the treaty", classify.StanceCritical, 0.9, at, "human-rights", "ratification"), // duplicate event
	}
}

func TestRenderSectionsCountsAndSubject(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	m, err := s.Render(window, windowRecords(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "treatywatch digest 2026-11-23: 6 items, 2 critical, 1 supportive"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	if m.ID != s.ID(winEnd) || len(m.ID) != 32 || m.Items != 6 {
		t.Errorf("id %q items %d", m.ID, m.Items)
	}
	uniq, also := dedupe(windowRecords())
	d := s.buildData(window, uniq, also, nil, nil)
	var got []string
	for _, tp := range d.Topics {
		got = append(got, tp.ID)
	}
	wantTopics := "human-rights,privacy-surveillance,international-cooperation,security-research,ratification,untagged"
	if strings.Join(got, ",") != wantTopics {
		t.Errorf("topics = %v, want %s", got, wantTopics)
	}
	for _, tp := range d.Topics {
		if tp.ID == "privacy-surveillance" {
			if tp.Count != 2 || len(tp.Stances) != 2 || tp.Stances[0].Stance != "critical" || tp.Stances[1].Stance != "mixed" {
				t.Errorf("privacy section = %+v", tp)
			}
		}
		if tp.ID == "ratification" {
			if tp.Items[0].EventID != "a1" || tp.Items[0].Stance != "critical" || len(tp.Items[0].AlsoIn) != 1 {
				t.Errorf("ratification items = %+v", tp.Items)
			}
		}
	}
	for _, want := range []string{"Human rights", "Privacy and surveillance", "Untagged", "Evidence sentence for a2.",
		"https://example.org/a3", "Source a4", "23 Nov 2026", "Also in: Signature and ratification"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("html lacks %q", want)
		}
		if !strings.Contains(m.Text, want) && want != "Also in: Signature and ratification" {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Count(m.Text, "NGOs urge parliaments") != 2 { // listed under both of its topics, once each
		t.Errorf("a1 should be listed twice (two topics), text:\n%s", m.Text)
	}
	// Treaty counts: a1 and a3 carry "ratification"; a3 mentions ratifications.
	if d.Treaty == nil || d.Treaty.Items != 2 || d.Treaty.Ratification != 1 {
		t.Errorf("treaty = %+v", d.Treaty)
	}
	if !strings.Contains(m.Text, "TREATY STATUS IN THE NEWS") {
		t.Error("text lacks the treaty section")
	}
}

func TestRenderCapAndMore(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, func(o *Options) { o.PerTopic = 2 })
	var recs []sinks.Record
	for i, st := range []classify.Stance{classify.StanceNeutral, classify.StanceCritical, classify.StanceSupportive, classify.StanceCritical, classify.StanceNeutral} {
		recs = append(recs, rec(string(rune('a'+i)), "Item "+string(rune('A'+i)), st, float64(i)/10, winEnd.Add(-time.Hour), "gender"))
	}
	d := s.buildData(window, recs, nil, nil, nil)
	tp := d.Topics[0]
	// Top two by score are e (0.4, neutral) and d (0.3, critical), shown critical first.
	if tp.Count != 5 || tp.More != 3 || len(tp.Items) != 2 || tp.Items[0].EventID != "d" || tp.Items[1].EventID != "e" {
		t.Fatalf("section = %+v", tp)
	}
	m, err := s.Render(window, recs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "and 3 more") || !strings.Contains(m.Text, "... and 3 more") {
		t.Error("missing 'and 3 more'")
	}
}

func TestRenderDeltasAndFailingSources(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	recs := windowRecords()
	recs[0].Result.Actor = "Human Rights Watch"
	recs[2].Result.Actor = "UNODC"
	prev := &Stats{WindowEnd: winEnd.Add(-24 * time.Hour), Total: 4,
		Topics: map[rules.Topic]int{"human-rights": 3, "privacy-surveillance": 1, "geopolitics": 2}, Actors: []string{"UNODC"}}
	hs := []sinks.SourceStatus{
		{ID: "un-press", Name: "UN Press", State: "ok"},
		{ID: "eff", Name: "EFF Deeplinks", State: "blocked", Failures: 4, LastError: "403 cloudflare challenge"},
		{ID: "hrw", Name: "HRW <script>", State: "failing", Failures: 1, LastSuccess: winEnd.Add(-48 * time.Hour)},
	}
	uniq, also := dedupe(recs)
	d := s.buildData(window, uniq, also, prev, hs)
	deltas := map[string]TopicDelta{}
	for _, td := range d.Changes.Topics {
		deltas[td.ID] = td
	}
	for id, want := range map[string]string{"human-rights": "-2", "privacy-surveillance": "+1", "geopolitics": "-2", "ratification": "+2"} {
		if deltas[id].Delta != want {
			t.Errorf("delta %s = %q, want %q", id, deltas[id].Delta, want)
		}
	}
	if d.Changes.TotalDelta != "+2" || len(d.Changes.NewActors) != 1 || d.Changes.NewActors[0] != "Human Rights Watch" {
		t.Errorf("changes = %+v", d.Changes)
	}
	if len(d.Failing) != 2 || d.Failing[0].Name != "EFF Deeplinks" || d.Failing[1].LastSuccess != "21 Nov 2026 07:00" {
		t.Errorf("failing = %+v", d.Failing)
	}
	m, err := s.Render(window, recs, prev, hs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Since the last digest", "New actors:</strong> Human Rights Watch", "Sources failing or blocked (2)",
		"EFF Deeplinks", "403 cloudflare challenge", "HRW &lt;script&gt;"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	for _, want := range []string{"SINCE THE LAST DIGEST", "New actors: Human Rights Watch", "SOURCES FAILING OR BLOCKED (2)", "- EFF Deeplinks: blocked, 4 failures"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

func TestRenderEscapesHostileContent(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	r := rec("x", `<script>alert(1)</script><img src=x onerror=alert(2)> "quoted"`, classify.StanceCritical, 1, winEnd.Add(-time.Hour), `evil"><b>topic`)
	r.Item.URL = "javascript:alert(3)"
	r.Item.SourceName = "<b>bold source</b>"
	r.Result.Evidence[0].Sentence = "</div><iframe src=//evil>"
	m, err := s.Render(window, []sinks.Record{r}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img", "<iframe", "javascript:", "<b>bold", `evil"><b>`} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("html contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;bold source&lt;/b&gt;", "&lt;/div&gt;&lt;iframe"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("html lacks escaped %q", want)
		}
	}
	if strings.Contains(m.Text, "javascript:") {
		t.Error("text part carries a javascript: link")
	}
	// Stance colours survive html/template's CSS sanitising.
	if strings.Contains(m.HTML, "ZgotmplZ") || !strings.Contains(m.HTML, "border-left:4px solid #b42318") {
		t.Error("stance colour was filtered out of the HTML")
	}
}

func TestRenderEmptyAndUserTemplates(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, func(o *Options) {
		o.TemplateHTML = `<p>{{.Total}} for {{.Date}}{{range .Topics}} [{{.Label}}:{{.Count}}]{{end}}</p>`
		o.TemplateText = `{{.Subject}}|{{range .Topics}}{{.ID}}={{.Count}};{{end}}`
	})
	m, err := s.Render(window, windowRecords()[:2], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.HTML != `<p>2 for 2026-11-23 [Human rights:1] [Privacy and surveillance:1] [Signature and ratification:1]</p>` {
		t.Errorf("user html = %q", m.HTML)
	}
	if m.Text != "treatywatch digest 2026-11-23: 2 items, 2 critical|human-rights=1;privacy-surveillance=1;ratification=1;" {
		t.Errorf("user text = %q", m.Text)
	}
	empty, err := s.Render(window, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Subject != "treatywatch digest 2026-11-23: nothing new" || empty.Items != 0 {
		t.Errorf("empty subject = %q", empty.Subject)
	}

	for _, bad := range []Options{
		{TemplateHTML: `{{.NoSuchField}}`},
		{TemplateText: `{{range .Topics}}{{.Nope}}{{end}}`},
		{TemplateHTML: `{{if}}`},
		{Empty: "sometimes"},
		{Schedule: "61 * * * *"},
		{Schedule: "@every 1h"},
		{Schedule: "CRON_TZ=Asia/Tokyo 0 7 * * *"},
	} {
		o := Options{Name: "d", Schedule: "0 7 * * *", Transport: &recorder{}, State: &fileState{dir: t.TempDir()}}
		if bad.TemplateHTML != "" {
			o.TemplateHTML = bad.TemplateHTML
		}
		if bad.TemplateText != "" {
			o.TemplateText = bad.TemplateText
		}
		if bad.Empty != "" {
			o.Empty = bad.Empty
		}
		if bad.Schedule != "" {
			o.Schedule = bad.Schedule
		}
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", bad)
		}
	}
}

func TestWriteRefusesOutsideAWindow(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	if err := s.Write(context.Background(), windowRecords()); !errors.Is(err, ErrWindowOnly) {
		t.Fatalf("Write = %v, want ErrWindowOnly", err)
	}
}

func TestCheckUsesTransport(t *testing.T) {
	r := &recorder{checkErr: errors.New("unreachable")}
	s := newTestSink(t, r, &fileState{dir: t.TempDir()}, nil)
	if err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Check = %v", err)
	}
	r.checkErr = nil
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNextAcrossDST(t *testing.T) {
	tests := []struct {
		name, spec string
		from       time.Time
		want       []string // successive Next values, RFC 3339 in Berlin
	}{
		{"spring forward", "0 7 * * *", time.Date(2026, 3, 28, 8, 0, 0, 0, time.UTC),
			[]string{"2026-03-29T07:00:00+02:00", "2026-03-30T07:00:00+02:00"}},
		{"fall back", "0 7 * * *", time.Date(2026, 10, 24, 6, 0, 0, 0, time.UTC),
			[]string{"2026-10-25T07:00:00+01:00", "2026-10-26T07:00:00+01:00"}},
		{"weekdays", "30 6 * * 1-5", time.Date(2026, 10, 23, 4, 0, 0, 0, time.UTC), // Friday 06:00
			[]string{"2026-10-23T06:30:00+02:00", "2026-10-26T06:30:00+01:00"}},
		// 02:30 does not exist on 29 March in Berlin: it runs once, shifted
		// by the gap.
		{"in the gap", "30 2 * * *", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"}},
		// 02:30 happens twice on 25 October: it runs once.
		{"twice at fall back", "30 2 * * *", time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC),
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, func(o *Options) { o.Schedule = tt.spec })
			at := tt.from
			for _, want := range tt.want {
				at = s.Next(at)
				if got := at.Format(time.RFC3339); got != want {
					t.Fatalf("Next = %s, want %s", got, want)
				}
			}
		})
	}
	// Across spring forward the interval between two 07:00 sends is 23 h.
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	a := s.Next(time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC))
	b := s.Next(a)
	if d := b.Sub(a); d != 23*time.Hour {
		t.Errorf("interval across spring forward = %s, want 23h", d)
	}
}

// TestSyndicatedStoriesCountOnce: the same release carried by several
// outlets (same URL, or the same headline) is one entry, counted once,
// with the other outlets listed.
func TestSyndicatedStoriesCountOnce(t *testing.T) {
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	at := winEnd.Add(-time.Hour)
	release := "UNODC welcomes the first ratifications of the Convention against Cybercrime"
	a := rec("a", release, classify.StanceSupportive, 3, at, "ratification")
	b := rec("b", release, classify.StanceSupportive, 2, at, "ratification") // same headline
	b.Item.URL = "https://wire.example.net/unodc-welcomes"
	c := rec("c", "UNODC: first ratifications welcomed", classify.StanceSupportive, 1, at, "ratification")
	c.Item.URL = "https://www.example.org/a/" // same article as a
	d := rec("d", "Rights groups warn against ratifying the convention", classify.StanceCritical, 1, at, "ratification")
	e := rec("e", "Mauritius ratified the United Nations Convention against Cybercrime", classify.StanceNeutral, 1, at, "ratification")
	f := rec("f", "Qatar acceded to the United Nations Convention against Cybercrime", classify.StanceNeutral, 1, at, "ratification")
	e.Item.URL, f.Item.URL = "https://treaties.example.org/status", "https://treaties.example.org/status"
	e.Item.SourceID, f.Item.SourceID = "untc", "untc" // one source, one page, two events
	tests := []struct {
		name      string
		recs      []sinks.Record
		wantTotal int
		wantAlso  []string
	}{
		{"same headline and same URL", []sinks.Record{a, b, c, d}, 2, []string{"Source b", "Source c"}},
		{"distinct stories", []sinks.Record{a, d}, 2, nil},
		{"one source's events on one page stay apart", []sinks.Record{a, e, f}, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := s.Render(window, tt.recs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			uniq, also := dedupe(tt.recs)
			d := s.buildData(window, uniq, also, nil, nil)
			if d.Total != tt.wantTotal {
				t.Errorf("total = %d, want %d", d.Total, tt.wantTotal)
			}
			e := d.Topics[0].Items
			var got []string
			for _, x := range e {
				if x.EventID == "a" {
					got = x.AlsoReportedBy
				}
			}
			if !slices.Equal(got, tt.wantAlso) {
				t.Errorf("also reported by = %q, want %q", got, tt.wantAlso)
			}
			if (tt.wantAlso != nil) != strings.Contains(m.Text, "Also reported by: Source b, Source c") {
				t.Errorf("text part:\n%s", m.Text)
			}
		})
	}
}
