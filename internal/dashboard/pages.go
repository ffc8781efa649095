package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var pageNames = []string{"overview", "actors", "actor", "treaty", "items", "item", "sources", "error"}

type pages struct {
	t map[string]*template.Template
}

var funcs = template.FuncMap{
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format(dayLayout)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"delta": func(n int) string {
		switch {
		case n > 0:
			return fmt.Sprintf("+%d", n)
		case n < 0:
			return fmt.Sprintf("−%d", -n)
		}
		return "±0"
	},
	"f1":   func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"pct":  func(v float64) string { return fmt.Sprintf("%+.0f%%", v*100) },
	"join": strings.Join,
	// topics joins topic ids
	"topics": rules.JoinTopics,
	// stance is the stance of an item, unlabelled for none
	"stance": stanceKey,
	"items":  itemsLink,
	"add":    func(a, b int) int { return a + b },
	"add0":   func(a, b float64) float64 { return a + b },
	"minus":  func(a, b int) int { return a - b },
	"overview": func(r Range, topic rules.Topic) string {
		v := url.Values{"from": {r.From}, "to": {r.To}, "bucket": {r.Bucket}}
		if topic != "" {
			v.Set("topic", string(topic))
		}
		return "/?" + v.Encode()
	},
	"contains": slices.Contains[[]rules.Topic],
	"mark":     markWords,
	"voice":    voice,
	"percent": func(n, of int) string {
		if of == 0 {
			return "0"
		}
		return strconv.Itoa(min(100, n*100/of))
	},
}

// loadPages parses the pages; their "topic" function shows a topic id by
// its label in tax.
func loadPages(tax rules.Taxonomy) (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	topic := template.FuncMap{"topic": tax.Label}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).Funcs(topic).ParseFS(templateFS, "templates/layout.html", "templates/chart.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// static serves the embedded stylesheet, script and icon; they change
// only with the binary.
func (s *Server) static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
}

var nav = []struct{ Path, Name string }{
	{"/", "Overview"}, {"/actors", "Who says what"}, {"/treaty", "Treaty"}, {"/items", "Items"}, {"/sources", "Sources"},
}

type layoutData struct {
	Title   string
	Page    string
	Nav     []struct{ Path, Name string }
	Current string
	User    string
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name, title string, data any) {
	t := s.pages.t[name]
	current := "/" + name
	switch name {
	case "overview":
		current = "/"
	case "actor":
		current = "/actors"
	case "item":
		current = "/items"
	}
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "layout", layoutData{Title: title, Page: name, Nav: nav[:], Current: current, User: userOf(r), Data: data})
	if err != nil {
		s.log.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) pageErr(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.As(err, new(badRequest)):
		s.fail(w, r, http.StatusBadRequest, err)
	case errors.Is(err, ErrNotFound):
		s.fail(w, r, http.StatusNotFound, err)
	default:
		s.fail(w, r, http.StatusInternalServerError, err)
	}
}

// rangeForm is what the range form shows.
type rangeForm struct {
	Range
	Topic    rules.Topic
	Topics   []rules.Topic
	NoBucket bool
}

func (s *Server) pageOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rg, err := s.parseRange(ctx, r.URL.Query().Get)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	topic, err := s.topicParam(r.URL.Query().Get("topic"))
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	tl, err := s.timeline(ctx, rg, topic)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	tt, err := s.topicTable(ctx, rg)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	health, err := s.r.SourceHealth(ctx, s.now())
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	var failing []SourceHealth
	for _, h := range health {
		if h.State.Bad() || h.EmptyRuns >= 3 {
			failing = append(failing, h)
		}
	}
	api := "/api/v1/aggregates/timeline?" + r.URL.RawQuery
	s.render(w, r, http.StatusOK, "overview", "Overview", map[string]any{
		"Form": rangeForm{Range: rg, Topic: topic, Topics: s.topics}, "Timeline": tl, "Chart": timelineChart(tl),
		"Topics": tt, "Failing": failing, "Stances": stances, "API": api,
	})
}

func (s *Server) pageActors(w http.ResponseWriter, r *http.Request) {
	rg, err := s.parseRange(r.Context(), r.URL.Query().Get)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	a, err := s.actorTables(r.Context(), rg)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "actors", "Who says what", map[string]any{
		"Form": rangeForm{Range: rg, NoBucket: true}, "Actors": a, "API": "/api/v1/actors?" + r.URL.RawQuery,
	})
}

func (s *Server) pageActor(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p, err := s.r.SearchItems(r.Context(), ItemQuery{Actor: name, Limit: 500})
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	if p.Total == 0 {
		s.pageErr(w, r, fmt.Errorf("%w: no relevant item has the actor %q", ErrNotFound, name))
		return
	}
	counts := map[string]int{}
	for _, it := range p.Items {
		counts[stanceKey(it.Stance)]++
	}
	s.render(w, r, http.StatusOK, "actor", name, map[string]any{
		"Name": name, "Page": p, "Counts": counts, "Stances": stances,
		"Chart": stripChart(fmt.Sprintf("Statements of %s over time, by stance", name), p.Items),
		"API":   "/api/v1/items?" + url.Values{"actor": {name}, "per_page": {"200"}}.Encode(),
	})
}

func (s *Server) pageTreaty(w http.ResponseWriter, r *http.Request) {
	t, err := s.treaty(r.Context())
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "treaty", "Treaty", map[string]any{"Treaty": t, "Chart": treatyChart(t, s.now())})
}

func (s *Server) pageItems(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, page, err := s.itemQuery(v)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	res, err := s.r.SearchItems(r.Context(), q)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	facets, err := s.r.Facets(r.Context())
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	pages := (res.Total + q.Limit - 1) / q.Limit
	link := func(p int) string {
		c := url.Values{}
		for k, vs := range v {
			if k != "page" {
				c[k] = vs
			}
		}
		if p > 1 {
			c.Set("page", strconv.Itoa(p))
		}
		return "/items?" + c.Encode()
	}
	var prev, next string
	if page > 1 {
		prev = link(page - 1)
	}
	if page < pages {
		next = link(page + 1)
	}
	s.render(w, r, http.StatusOK, "items", "Items", map[string]any{
		"Q": q, "Res": res, "Facets": facets, "Topics": s.topics, "Stances": stances[:4], "Page": page, "Pages": pages,
		"Prev": prev, "Next": next, "First": q.Offset + 1, "Last": q.Offset + len(res.Items),
		"API": "/api/v1/items?" + r.URL.RawQuery,
	})
}

// evidenceRow is one piece of evidence as the item page lists it.
type evidenceRow struct {
	classify.Match
	Voice string
}

func voice(m classify.Match) string {
	if m.Kind != "stance" {
		return ""
	}
	if strings.Contains(m.Label, "(reported)") {
		return "reported"
	}
	return "own voice"
}

func (s *Server) pageItem(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	d, err := s.r.ItemDetail(r.Context(), id)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	text := d.Item.Content
	if text == "" {
		text = d.Item.Summary
	}
	var words []string
	for _, m := range d.Machine.Evidence {
		if m.Kind == "stance" || m.Kind == "topic" || m.Kind == "alias" || m.Kind == "actor" {
			words = append(words, m.Words...)
		}
	}
	form := Label{Relevant: d.Relevant, Topics: d.Topics, Stance: d.Stance}
	s.render(w, r, http.StatusOK, "item", d.Title, map[string]any{
		"D": d, "Text": markWords(text, words), "TitleMarked": markWords(d.Item.Title, words),
		"Form": form, "Topics": s.topics, "Stances": stances[:4], "Reasons": reasons[1:],
		"Saved": r.URL.Query().Get("corrected"), "API": fmt.Sprintf("/api/v1/items/%d", id),
		"CanWrite": len(s.auth.users) > 0,
	})
}

func (s *Server) pageSources(w http.ResponseWriter, r *http.Request) {
	h, err := s.sourceHealth(r.Context())
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "sources", "Sources", map[string]any{"Sources": h, "Now": s.now()})
}

// markWords escapes text and wraps every occurrence of the words
// (case-insensitive, longest first) in <mark>, keeping paragraphs.
func markWords(text string, words []string) template.HTML {
	lower := strings.ToLower(text)
	type span struct{ a, b int }
	var spans []span
	ws := slices.Clone(words)
	slices.SortFunc(ws, func(a, b string) int { return len(b) - len(a) })
	ws = slices.Compact(ws)
	taken := make([]bool, len(text))
	for _, w := range ws {
		lw := strings.ToLower(w)
		if lw == "" || len(lw) != len(w) {
			continue
		}
		for off := 0; ; {
			i := strings.Index(lower[off:], lw)
			if i < 0 {
				break
			}
			a, b := off+i, off+i+len(lw)
			off = b
			if slices.Contains(taken[a:b], true) {
				continue
			}
			for k := a; k < b; k++ {
				taken[k] = true
			}
			spans = append(spans, span{a, b})
		}
	}
	slices.SortFunc(spans, func(x, y span) int { return x.a - y.a })
	var out strings.Builder
	pos := 0
	esc := func(s string) {
		out.WriteString(strings.ReplaceAll(template.HTMLEscapeString(s), "\n", "<br>"))
	}
	for _, sp := range spans {
		esc(text[pos:sp.a])
		out.WriteString("<mark>")
		esc(text[sp.a:sp.b])
		out.WriteString("</mark>")
		pos = sp.b
	}
	esc(text[pos:])
	return template.HTML(out.String())
}
