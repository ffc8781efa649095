package digest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/trend"
	"github.com/treatywatch/treatywatch/sinks"
)

// Empty-window policies.
const (
	EmptySkip   = "skip"
	EmptyNotify = "notify"
)

// DefaultPerTopic is how many items a topic section lists by default.
const DefaultPerTopic = 5

// ErrWindowOnly is returned by Write: a digest takes its records only
// through WriteWindow, at its scheduled times.
var ErrWindowOnly = errors.New("digest: records are delivered only through WriteWindow at the scheduled time")

// Message is one rendered digest. It is stored before it is sent, and a
// retry sends the stored message unchanged.
type Message struct {
	// ID is stable for (sink name, window end, recipients): hex of a
	// SHA-256, 32 characters. Transports use it as Message-ID and
	// idempotency key.
	ID      string `json:"id"`
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
	// Mrkdwn is a Slack mrkdwn rendering, used by the Slack preset.
	Mrkdwn string `json:"mrkdwn,omitempty"`
	// Date is when the message was rendered (the Date header).
	Date time.Time `json:"date"`
	// Items is the number of records in the digest.
	Items int `json:"items"`
}

// Transport sends a rendered digest.
type Transport interface {
	// Send delivers m. An error means it may not have been delivered; the
	// same m is offered again later. A *sinks.RetryError asks for a delay.
	Send(ctx context.Context, m Message) error
	// Check tells whether the receiver is reachable without sending.
	Check(ctx context.Context) error
}

// History is the stored item history, by day (store.DailyCounts).
type History = trend.Counter

// Addressed is implemented by transports that know their recipients;
// they are part of the digest id, so a new recipient list gets a new id.
type Addressed interface {
	Recipients() []string
}

// Options configure a digest sink.
type Options struct {
	Name string
	// Schedule is a robfig/cron/v3 spec: five fields or a descriptor such
	// as "@daily"; evaluated in Location.
	Schedule string
	// Location is the IANA zone of Schedule and of the dates shown; nil
	// means UTC.
	Location *time.Location
	// Empty is EmptySkip (default) or EmptyNotify.
	Empty string
	// PerTopic caps the items listed per topic; 0 means DefaultPerTopic.
	PerTopic int
	// Topics are the rule pack's topics: the sections' order and labels;
	// the embedded pack's when nil.
	Topics rules.Taxonomy
	// TemplateHTML and TemplateText are optional user templates
	// (html/template and text/template source) executed with Data; empty
	// means the built-in ones.
	TemplateHTML, TemplateText string
	Transport                  Transport
	State                      sinks.State
	// Health supplies source statuses for the "failing or blocked"
	// section; may be nil.
	Health sinks.Health
	// History supplies the stored daily counts the volume spikes are
	// found in (a topic or actor far above its trailing mean); nil: no
	// spikes are shown.
	History History
	Logger  *slog.Logger
	// Now is the clock (for tests); nil means time.Now.
	Now func() time.Time
}

// Sink is the digest sink. It is safe for concurrent use as far as its
// State and Transport are; the outbox calls it from one goroutine.
type Sink struct {
	name      string
	sched     schedule.Schedule
	loc       *time.Location
	empty     string
	perTopic  int
	tax       rules.Taxonomy
	html      *htmltemplate.Template
	text      *texttemplate.Template
	mrkdwn    *texttemplate.Template
	transport Transport
	state     sinks.State
	health    sinks.Health
	history   History
	log       *slog.Logger
	now       func() time.Time
	rcpts     []string
}

var (
	_ sinks.Scheduled = (*Sink)(nil)
	_ sinks.Checker   = (*Sink)(nil)
)

// ParseSchedule parses a cron spec (five fields, or a descriptor such as
// "@daily") the way the digest does.
func ParseSchedule(spec string) (schedule.Schedule, error) {
	sc, err := schedule.Parse(spec)
	if err != nil {
		return schedule.Schedule{}, fmt.Errorf("digest: schedule %q: %w", spec, err)
	}
	return sc, nil
}

// New checks the options, compiles the templates and returns the sink.
func New(opts Options) (*Sink, error) {
	if strings.TrimSpace(opts.Name) == "" {
		return nil, errors.New("digest: name is required")
	}
	switch spec := strings.TrimSpace(opts.Schedule); {
	case schedule.IsEvery(spec):
		return nil, fmt.Errorf("digest %s: schedule %q: use a cron spec, not @every", opts.Name, opts.Schedule)
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		return nil, fmt.Errorf("digest %s: schedule %q: set the time zone with the location option, not in the spec", opts.Name, opts.Schedule)
	}
	sc, err := ParseSchedule(opts.Schedule)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", opts.Name, err)
	}
	if opts.Transport == nil {
		return nil, fmt.Errorf("digest %s: transport is required", opts.Name)
	}
	if opts.State == nil {
		return nil, fmt.Errorf("digest %s: state is required", opts.Name)
	}
	s := &Sink{
		name: opts.Name, sched: sc, loc: opts.Location, empty: opts.Empty, perTopic: opts.PerTopic,
		transport: opts.Transport, state: opts.State, health: opts.Health, history: opts.History,
		log: opts.Logger, now: opts.Now,
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	switch s.empty {
	case "":
		s.empty = EmptySkip
	case EmptySkip, EmptyNotify:
	default:
		return nil, fmt.Errorf("digest %s: empty must be %q or %q, not %q", opts.Name, EmptySkip, EmptyNotify, opts.Empty)
	}
	if s.tax = opts.Topics; s.tax == nil {
		s.tax = rules.DefaultTaxonomy()
	}
	if s.perTopic <= 0 {
		s.perTopic = DefaultPerTopic
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if a, ok := opts.Transport.(Addressed); ok {
		s.rcpts = slices.Clone(a.Recipients())
		slices.Sort(s.rcpts)
	}
	if s.html, err = parseHTML(opts.TemplateHTML); err != nil {
		return nil, fmt.Errorf("digest %s: html template: %w", opts.Name, err)
	}
	if s.text, err = parseText("text", opts.TemplateText, builtinText); err != nil {
		return nil, fmt.Errorf("digest %s: text template: %w", opts.Name, err)
	}
	if s.mrkdwn, err = parseText("mrkdwn", "", builtinMrkdwn); err != nil {
		return nil, fmt.Errorf("digest %s: mrkdwn template: %w", opts.Name, err)
	}
	// Render a sample once so that a template that fails on real data
	// (a bad field name) fails at load, not at 7 a.m.
	now := time.Date(2026, 1, 2, 7, 0, 0, 0, s.loc)
	if _, err := s.Render(sinks.Window{Start: now.Add(-24 * time.Hour), End: now}, SampleRecords(now), nil, nil); err != nil {
		return nil, fmt.Errorf("digest %s: %w", opts.Name, err)
	}
	return s, nil
}

// Name returns the sink name.
func (s *Sink) Name() string { return s.name }

// Location returns the zone the schedule is evaluated in.
func (s *Sink) Location() *time.Location { return s.loc }

// Write always fails with ErrWindowOnly: the outbox must drive a digest
// through WriteWindow, so that every message belongs to one window and
// has a stable id. The records stay queued.
func (s *Sink) Write(ctx context.Context, recs []sinks.Record) error {
	return ErrWindowOnly
}

// Next returns the first send time strictly after t, returned in the
// sink's Location. The spec is matched against local wall-clock time, so
// "0 7 * * *" stays at 07:00 local across DST changes; a time that falls
// into a spring-forward gap (02:30 on the last Sunday of March in Berlin)
// runs once, shifted forward by the gap (03:30), and a time that occurs
// twice at fall-back runs once, at its first occurrence. A spec that can
// never fire yields the zero time.
func (s *Sink) Next(t time.Time) time.Time {
	lt := t.In(s.loc)
	wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
	for range 1000 {
		wall = s.sched.Next(wall)
		if wall.IsZero() {
			return time.Time{}
		}
		at := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, s.loc)
		// At fall-back the wall time may exist twice: take the first, and
		// never the second once the first has passed.
		first := at
		for _, back := range []time.Duration{time.Hour, 30 * time.Minute} {
			if e := at.Add(-back); sameWall(e, at) {
				first = e
				break
			}
		}
		if first.After(t) {
			return first
		}
		if first.Equal(at) && at.After(t) {
			return at
		}
	}
	return time.Time{}
}

func sameWall(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}

// Check asks the transport whether its receiver is reachable.
func (s *Sink) Check(ctx context.Context) error {
	if err := s.transport.Check(ctx); err != nil {
		return fmt.Errorf("digest %s: %w", s.name, err)
	}
	return nil
}

// ID returns the digest id of the window ending at end.
func (s *Sink) ID(end time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "treatywatch-digest\x00%s\x00%s", s.name, end.UTC().Format(time.RFC3339Nano))
	for _, r := range s.rcpts {
		fmt.Fprintf(h, "\x00%s", strings.ToLower(strings.TrimSpace(r)))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// stored is what WriteWindow keeps under the message key.
type stored struct {
	Message Message `json:"message"`
	Stats   Stats   `json:"stats"`
	// Skip marks an empty window under EmptySkip: nothing to send.
	Skip bool `json:"skip,omitempty"`
}

func (s *Sink) keyMsg(id string) string  { return "digest/" + s.name + "/msg/" + id }
func (s *Sink) keySent(id string) string { return "digest/" + s.name + "/sent/" + id }
func (s *Sink) keyStats() string         { return "digest/" + s.name + "/stats" }

// WriteWindow renders and sends the digest of w. It is idempotent per
// window: once sent it does nothing; a message rendered for w is stored
// before it is sent, and every retry sends that stored message, never a
// new rendering. So a crash between sending and marking it sent
// re-sends the same message (same ID and Message-ID), which receivers
// and idempotency keys collapse.
func (s *Sink) WriteWindow(ctx context.Context, w sinks.Window, recs []sinks.Record) error {
	id := s.ID(w.End)
	log := s.log.With(slog.String("sink", s.name), slog.String("event_id", id))
	if _, ok, err := s.state.GetState(ctx, s.keySent(id)); err != nil {
		return fmt.Errorf("digest %s: read state: %w", s.name, err)
	} else if ok {
		log.Debug("digest already sent", slog.Time("window_end", w.End))
		return nil
	}

	var st stored
	raw, ok, err := s.state.GetState(ctx, s.keyMsg(id))
	if err != nil {
		return fmt.Errorf("digest %s: read state: %w", s.name, err)
	}
	if ok {
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("digest %s: stored message %s: %w", s.name, id, err)
		}
		log.Info("digest resending stored message", slog.Time("window_end", w.End))
	} else {
		uniq, _ := dedupe(recs)
		if len(uniq) == 0 && s.empty == EmptySkip {
			st.Skip = true
		} else {
			prev, err := s.prevStats(ctx)
			if err != nil {
				return err
			}
			health := s.healthStatuses(ctx, log)
			if st.Message, err = s.render(w, recs, prev, health, s.spikes(ctx, w, log)); err != nil {
				return err
			}
			st.Stats = statsOf(w.End, uniq)
		}
		b, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("digest %s: encode message: %w", s.name, err)
		}
		if err := s.state.PutState(ctx, s.keyMsg(id), b); err != nil {
			return fmt.Errorf("digest %s: store message: %w", s.name, err)
		}
	}

	if st.Skip {
		log.Info("digest skipped: empty window", slog.Time("window_end", w.End))
	} else if err := s.transport.Send(ctx, st.Message); err != nil {
		log.Warn("digest send failed", slog.Any("err", err))
		return fmt.Errorf("digest %s: send %s: %w", s.name, id, err)
	}
	// Mark it sent at once, before anything else: the gap between the
	// server taking the message and this mark is the only one in which a
	// crash makes the same message (same ID and Message-ID) go out twice.
	mark := []byte(s.now().UTC().Format(time.RFC3339))
	if err := s.state.PutState(context.WithoutCancel(ctx), s.keySent(id), mark); err != nil {
		return fmt.Errorf("digest %s: mark sent: %w", s.name, err)
	}
	if st.Skip {
		return nil
	}
	log.Info("digest sent", slog.Int("items", st.Message.Items), slog.String("subject", st.Message.Subject))
	stats, err := json.Marshal(st.Stats)
	if err != nil {
		return fmt.Errorf("digest %s: encode stats: %w", s.name, err)
	}
	if err := s.state.PutState(ctx, s.keyStats(), stats); err != nil {
		return fmt.Errorf("digest %s: store stats: %w", s.name, err)
	}
	return nil
}

// Sent reports whether the digest of the window ending at end was sent
// (or skipped as empty).
func (s *Sink) Sent(ctx context.Context, end time.Time) (bool, error) {
	_, ok, err := s.state.GetState(ctx, s.keySent(s.ID(end)))
	if err != nil {
		return false, fmt.Errorf("digest %s: read state: %w", s.name, err)
	}
	return ok, nil
}

// Preview renders the digest of w as WriteWindow would (with the
// previous digest's stats and the current source health) without
// storing or sending anything.
func (s *Sink) Preview(ctx context.Context, w sinks.Window, recs []sinks.Record) (Message, error) {
	prev, err := s.prevStats(ctx)
	if err != nil {
		return Message{}, err
	}
	log := s.log.With(slog.String("sink", s.name))
	return s.render(w, recs, prev, s.healthStatuses(ctx, log), s.spikes(ctx, w, log))
}

// spikes finds the volume spikes of w in the stored history; like
// health, it never fails the digest.
func (s *Sink) spikes(ctx context.Context, w sinks.Window, log *slog.Logger) []trend.Spike {
	if s.history == nil {
		return nil
	}
	spikes, err := trend.Find(ctx, s.history, w.Start, w.End, trend.Options{})
	if err != nil {
		log.Warn("digest: stored history unavailable; no spikes shown", slog.Any("err", err))
		return nil
	}
	return spikes
}

func (s *Sink) prevStats(ctx context.Context) (*Stats, error) {
	raw, ok, err := s.state.GetState(ctx, s.keyStats())
	if err != nil {
		return nil, fmt.Errorf("digest %s: read stats: %w", s.name, err)
	}
	if !ok {
		return nil, nil
	}
	var st Stats
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("digest %s: stored stats: %w", s.name, err)
	}
	return &st, nil
}

// healthStatuses never fails the digest: without health the section is
// left out and the failure is logged.
func (s *Sink) healthStatuses(ctx context.Context, log *slog.Logger) []sinks.SourceStatus {
	if s.health == nil {
		return nil
	}
	hs, err := s.health.SourceStatuses(ctx)
	if err != nil {
		log.Warn("digest: source health unavailable", slog.Any("err", err))
		return nil
	}
	return hs
}

// Render renders the digest of w: subject, HTML, text and Slack mrkdwn.
// prev is the previous digest's stats (nil for the first one); health
// the source statuses (nil for none). It neither stores nor sends.
func (s *Sink) Render(w sinks.Window, recs []sinks.Record, prev *Stats, health []sinks.SourceStatus) (Message, error) {
	return s.render(w, recs, prev, health, nil)
}

func (s *Sink) render(w sinks.Window, recs []sinks.Record, prev *Stats, health []sinks.SourceStatus, spikes []trend.Spike) (Message, error) {
	recs, also := dedupe(recs)
	d := s.buildData(w, recs, also, prev, health)
	d.setSpikes(spikes, s.tax)
	d.ID = s.ID(w.End)
	d.Subject = subject(d)
	m := Message{ID: d.ID, Subject: d.Subject, Date: s.now().UTC().Truncate(time.Second), Items: d.Total}
	var b bytes.Buffer
	if err := s.html.Execute(&b, d); err != nil {
		return Message{}, fmt.Errorf("digest %s: render html: %w", s.name, err)
	}
	m.HTML = b.String()
	b.Reset()
	if err := s.text.Execute(&b, d); err != nil {
		return Message{}, fmt.Errorf("digest %s: render text: %w", s.name, err)
	}
	m.Text = b.String()
	b.Reset()
	if err := s.mrkdwn.Execute(&b, d); err != nil {
		return Message{}, fmt.Errorf("digest %s: render mrkdwn: %w", s.name, err)
	}
	m.Mrkdwn = b.String()
	return m, nil
}

// subject is "treatywatch digest 2026-11-23: 12 items, 5 critical, 3
// supportive" (stances with zero items left out), or "…: nothing new".
func subject(d Data) string {
	if d.Empty {
		return fmt.Sprintf("treatywatch digest %s: nothing new", d.Date)
	}
	parts := []string{plural(d.Total, "item", "items")}
	for _, sc := range d.Stances {
		if st := classify.Stance(sc.Stance); st == classify.StanceCritical || st == classify.StanceSupportive {
			parts = append(parts, fmt.Sprintf("%d %s", sc.Count, sc.Stance))
		}
	}
	return fmt.Sprintf("treatywatch digest %s: %s", d.Date, strings.Join(parts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
