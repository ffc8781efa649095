package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify/rules"
)

// Options configure a Server.
type Options struct {
	Reader Reader
	// Users may write corrections; with none, every write is refused.
	Users []User
	// OpenRead lets anyone read; otherwise reading needs a user too.
	// Callers set it for a loopback listen address unless told otherwise.
	OpenRead bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
	// NextRun, when set, says when the daemon runs a configured source
	// next (from its schedule, its last fetch, the earliest time it may
	// run again and whether its last run failed); ok is false for a
	// source not in the config.
	NextRun func(id string, lastFetch, notBefore time.Time, failed bool, now time.Time) (next time.Time, ok bool)
	// Topics are the rule pack's topics (filters, charts, corrections
	// take their ids and order from it); the embedded pack's when nil.
	Topics rules.Taxonomy
}

// Server serves the dashboard pages and the JSON API.
type Server struct {
	r        Reader
	auth     *auth
	openRead bool
	now      func() time.Time
	log      *slog.Logger
	tax      rules.Taxonomy
	topics   []rules.Topic // tax's ids
	pages    *pages
	csrf     *http.CrossOriginProtection
	nextRun  func(id string, lastFetch, notBefore time.Time, failed bool, now time.Time) (time.Time, bool)
}

// New builds a Server; it fails on a malformed user entry.
func New(o Options) (*Server, error) {
	if o.Reader == nil {
		return nil, errors.New("dashboard: no reader")
	}
	a, err := newAuth(o.Users)
	if err != nil {
		return nil, err
	}
	s := &Server{r: o.Reader, auth: a, openRead: o.OpenRead, now: o.Now, log: o.Log, tax: o.Topics,
		csrf: http.NewCrossOriginProtection(), nextRun: o.NextRun}
	if s.tax == nil {
		s.tax = rules.DefaultTaxonomy()
	}
	s.topics = s.tax.IDs()
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pages, err = loadPages(s.tax); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the dashboard on its own mux.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	return mux
}

// Register adds the dashboard's routes to mux (beside /metrics, say).
func (s *Server) Register(mux *http.ServeMux) {
	read := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.guard(false, h)) }
	write := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.guard(true, h)) }
	read("GET /{$}", s.pageOverview)
	read("GET /actors", s.pageActors)
	read("GET /actors/{name}", s.pageActor)
	read("GET /treaty", s.pageTreaty)
	read("GET /items", s.pageItems)
	read("GET /items/{id}", s.pageItem)
	write("POST /items/{id}/corrections", s.formCorrection)
	read("GET /sources", s.pageSources)
	mux.Handle("GET /static/", s.static())

	read("GET /api/v1/items", s.apiItems)
	read("GET /api/v1/items/{id}", s.apiItem)
	write("POST /api/v1/items/{id}/corrections", s.apiCorrection)
	read("GET /api/v1/aggregates/timeline", s.apiTimeline)
	read("GET /api/v1/aggregates/topics", overRange(s, s.topicTable))
	read("GET /api/v1/actors", overRange(s, s.actorTables))
	read("GET /api/v1/treaty", s.apiTreaty)
	read("GET /api/v1/sources", s.apiSources)
	read("GET /api/v1/facets", s.apiFacets)
}

type ctxKey struct{}

// userOf returns the authenticated user of a request ("" when none).
func userOf(r *http.Request) string {
	u, _ := r.Context().Value(ctxKey{}).(string)
	return u
}

// guard applies cross-origin protection to writes and authentication
// where it is needed, and sets the security headers.
func (s *Server) guard(write bool, h http.HandlerFunc) http.Handler {
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		user := s.auth.user(r)
		if user == "" && (write || !s.openRead) {
			if write && len(s.auth.users) == 0 {
				s.fail(w, r, http.StatusForbidden, errors.New("writing is off: the config has no dashboard users (dashboard.users)"))
				return
			}
			if !isAPI(r) {
				// Pages ask the browser for a login; the API answers 401
				// without a challenge (its clients send credentials up
				// front, and scripts must not hang on a login prompt).
				w.Header().Set("WWW-Authenticate", `Basic realm="treatywatch", charset="UTF-8"`)
			}
			s.fail(w, r, http.StatusUnauthorized, errors.New("authentication required"))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, user)))
	})
	if write {
		next = s.csrf.Handler(next)
	}
	return next
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers an error: JSON for the API, a page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	if code >= 500 {
		s.log.Error("dashboard request failed", "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	s.render(w, r, code, "error", "Error", map[string]any{"Code": code, "Message": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.Encode(v)
}

// badRequest marks errors in the request's parameters.
type badRequest struct{ error }

func (s *Server) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	switch {
	case errors.As(err, new(badRequest)):
		s.fail(w, r, http.StatusBadRequest, err)
	case errors.Is(err, ErrNotFound):
		s.fail(w, r, http.StatusNotFound, err)
	case err != nil:
		s.fail(w, r, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

const maxPerPage = 200

// topicParam is the topic a query string names: "" (no filter) or one of
// the pack's topics.
func (s *Server) topicParam(v string) (rules.Topic, error) {
	if t := rules.Topic(v); t == "" || s.tax.Has(t) {
		return t, nil
	}
	return "", badRequest{fmt.Errorf("topic=%q: want one of %s", v, rules.JoinTopics(s.topics, ", "))}
}

// itemQuery reads the item filters from the query string.
func (s *Server) itemQuery(v url.Values) (ItemQuery, int, error) {
	q := ItemQuery{
		Text: strings.TrimSpace(v.Get("q")), Stance: v.Get("stance"), Actor: v.Get("actor"),
		Lang: v.Get("lang"), Source: v.Get("source"), From: v.Get("from"), To: v.Get("to"),
		Relevance: v.Get("relevance"), Corrected: v.Get("corrected") == "1" || v.Get("corrected") == "true",
	}
	if q.Relevance == "relevant" {
		q.Relevance = RelevantOnly
	}
	if !slices.Contains([]string{RelevantOnly, IrrelevantOnly, AnyRelevance}, q.Relevance) {
		return q, 0, badRequest{fmt.Errorf("relevance=%q: want relevant, irrelevant or all", q.Relevance)}
	}
	if !validStance(q.Stance) && q.Stance != unlabelled {
		return q, 0, badRequest{fmt.Errorf("stance=%q: want supportive, neutral, mixed, critical or unlabelled", q.Stance)}
	}
	if q.Stance == unlabelled {
		q.Relevance = RelevantOnly
	}
	var err error
	if q.Topic, err = s.topicParam(v.Get("topic")); err != nil {
		return q, 0, err
	}
	for _, d := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(dayLayout, d.v); err != nil {
			return q, 0, badRequest{fmt.Errorf("%s=%q: want a day as YYYY-MM-DD", d.name, d.v)}
		}
	}
	q.Limit = 50
	if pp := v.Get("per_page"); pp != "" {
		n, err := strconv.Atoi(pp)
		if err != nil || n < 1 || n > maxPerPage {
			return q, 0, badRequest{fmt.Errorf("per_page=%q: want 1 to %d", pp, maxPerPage)}
		}
		q.Limit = n
	}
	page := 1
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100000 {
			return q, 0, badRequest{fmt.Errorf("page=%q: want a number from 1", p)}
		}
		page = n
	}
	q.Offset = (page - 1) * q.Limit
	return q, page, nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest{fmt.Errorf("item id %q: want a positive number", r.PathValue("id"))}
	}
	return id, nil
}

func (s *Server) apiItems(w http.ResponseWriter, r *http.Request) {
	q, page, err := s.itemQuery(r.URL.Query())
	if err != nil {
		s.answer(w, r, nil, err)
		return
	}
	p, err := s.r.SearchItems(r.Context(), q)
	s.answer(w, r, struct {
		Query ItemQuery `json:"query"`
		Page  int       `json:"page"`
		ItemPage
	}{q, page, p}, err)
}

func (s *Server) apiItem(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.answer(w, r, nil, err)
		return
	}
	d, err := s.r.ItemDetail(r.Context(), id)
	s.answer(w, r, d, err)
}

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	topic, err := s.topicParam(r.URL.Query().Get("topic"))
	if err != nil {
		s.answer(w, r, nil, err)
		return
	}
	overRange(s, func(ctx context.Context, rg Range) (Timeline, error) { return s.timeline(ctx, rg, topic) })(w, r)
}

// overRange is the handler of a view over the request's date range: it
// parses the range (from, to, days) and answers with what view computes.
func overRange[T any](s *Server, view func(context.Context, Range) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rg, err := s.parseRange(r.Context(), r.URL.Query().Get)
		if err != nil {
			s.answer(w, r, nil, err)
			return
		}
		v, err := view(r.Context(), rg)
		s.answer(w, r, v, err)
	}
}

func (s *Server) apiTreaty(w http.ResponseWriter, r *http.Request) {
	t, err := s.treaty(r.Context())
	s.answer(w, r, t, err)
}

func (s *Server) apiSources(w http.ResponseWriter, r *http.Request) {
	h, err := s.sourceHealth(r.Context())
	s.answer(w, r, h, err)
}

// sourceHealth is the store's view of the sources, with the next run
// from the schedule when the server knows the config. A source the
// config no longer has keeps its state and is marked unconfigured.
func (s *Server) sourceHealth(ctx context.Context) ([]SourceHealth, error) {
	now := s.now()
	hs, err := s.r.SourceHealth(ctx, now)
	if err != nil || s.nextRun == nil {
		return hs, err
	}
	for i, h := range hs {
		next, ok := s.nextRun(h.ID, h.LastFetch, h.NextRun, h.Failures > 0, now)
		if !ok {
			hs[i].Unconfigured = true
			continue
		}
		hs[i].NextRun = next
	}
	return hs, nil
}

func (s *Server) apiFacets(w http.ResponseWriter, r *http.Request) {
	f, err := s.r.Facets(r.Context())
	s.answer(w, r, f, err)
}

// correctionInput is what an analyst sends.
type correctionInput struct {
	Relevant bool          `json:"relevant"`
	Topics   []rules.Topic `json:"topics"`
	Stance   string        `json:"stance"`
	Reason   string        `json:"reason"`
	Note     string        `json:"note"`
}

// Reasons an analyst can give.
var reasons = []string{"", "quoted-opponent", "irony", "off-topic", "wrong-actor", "wrong-topic", "confirmed", "other"}

func (s *Server) correction(r *http.Request, in correctionInput) (Correction, error) {
	id, err := pathID(r)
	if err != nil {
		return Correction{}, err
	}
	in.Topics = trimAll(in.Topics)
	slices.Sort(in.Topics)
	in.Topics = slices.Compact(in.Topics)
	for _, t := range in.Topics {
		if !s.tax.Has(t) {
			return Correction{}, badRequest{fmt.Errorf("topic %q: want one of %s", t, rules.JoinTopics(s.topics, ", "))}
		}
	}
	if !validStance(in.Stance) {
		return Correction{}, badRequest{fmt.Errorf("stance %q: want supportive, neutral, mixed or critical", in.Stance)}
	}
	if !in.Relevant && (in.Stance != "" || len(in.Topics) > 0) {
		return Correction{}, badRequest{errors.New("an item marked not relevant has no stance and no topics")}
	}
	if in.Relevant && in.Stance == "" {
		return Correction{}, badRequest{errors.New("a relevant item needs a stance")}
	}
	if !slices.Contains(reasons, in.Reason) {
		return Correction{}, badRequest{fmt.Errorf("reason %q: want one of %s", in.Reason, strings.Join(reasons[1:], ", "))}
	}
	if len(in.Note) > 2000 {
		return Correction{}, badRequest{errors.New("note: at most 2000 characters")}
	}
	return s.r.AddCorrection(r.Context(), Correction{
		ItemID: id, Label: Label{Relevant: in.Relevant, Topics: in.Topics, Stance: in.Stance},
		Reason: in.Reason, Note: strings.TrimSpace(in.Note), Who: userOf(r), At: s.now(),
	})
}

func (s *Server) apiCorrection(w http.ResponseWriter, r *http.Request) {
	var in correctionInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.answer(w, r, nil, badRequest{fmt.Errorf("correction: %w", err)})
		return
	}
	c, err := s.correction(r, in)
	if err != nil {
		s.answer(w, r, nil, err)
		return
	}
	s.log.Info("label corrected", "item", c.ItemID, "user", c.Who, "stance", c.Label.Stance, "relevant", c.Label.Relevant)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) formCorrection(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	in := correctionInput{
		Relevant: r.PostForm.Get("relevant") == "1", Topics: rules.TopicsOf(r.PostForm["topic"]), Stance: r.PostForm.Get("stance"),
		Reason: r.PostForm.Get("reason"), Note: r.PostForm.Get("note"),
	}
	if !in.Relevant {
		in.Stance, in.Topics = "", nil
	}
	c, err := s.correction(r, in)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.As(err, new(badRequest)) {
			code = http.StatusBadRequest
		} else if errors.Is(err, ErrNotFound) {
			code = http.StatusNotFound
		}
		s.fail(w, r, code, err)
		return
	}
	s.log.Info("label corrected", "item", c.ItemID, "user", c.Who, "stance", c.Label.Stance, "relevant", c.Label.Relevant)
	http.Redirect(w, r, fmt.Sprintf("/items/%d?corrected=%d#labels", c.ItemID, c.ID), http.StatusSeeOther)
}
