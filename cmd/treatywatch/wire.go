package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/extract"
	"github.com/treatywatch/treatywatch/fetch/feed"
	"github.com/treatywatch/treatywatch/fetch/page"
	"github.com/treatywatch/treatywatch/fetch/treaty"
	"github.com/treatywatch/treatywatch/internal/pipeline"
	"github.com/treatywatch/treatywatch/internal/redact"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/internal/window"
	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/digest"
	"github.com/treatywatch/treatywatch/sinks/file"
	"github.com/treatywatch/treatywatch/sinks/webhook"
)

// app is everything a command needs, built from the config by wire.
type app struct {
	cfg        *config.Config
	cfgName    string
	log        *slog.Logger
	store      *store.Store
	client     *fetch.Client
	fetchers   map[string]fetch.Fetcher
	extractor  *extract.Extractor
	classifier *classify.Engine
	sinks      []sinks.Sink
	sources    []pipeline.Source
	runner     *pipeline.Runner
	metrics    *pipeline.Metrics
}

// loadConfig reads the config file, or the built-in default when path is
// empty, and tells the scrubber behind out (see redact.Of) the config's
// secrets.
func loadConfig(path string, out io.Writer) (*config.Config, string, error) {
	name := path
	var c *config.Config
	var err error
	if path == "" {
		c, err = config.Default()
		name = "built-in default"
	} else {
		c, err = config.Load(path)
	}
	if c != nil {
		redact.Of(out).Add(c.Secrets()...)
	}
	return c, name, err
}

// dbPath is --db, else the config's store (by default treatywatch.db
// in the data directory): an SQLite path or a postgres:// URL.
func dbPath(c *common, cfg *config.Config) string {
	if c.db != "" {
		return c.db
	}
	if cfg.Store.DSN != "" {
		return cfg.Store.DSN
	}
	return filepath.Join(cfg.DataDir(), "treatywatch.db")
}

// wireOptions choose what wire builds.
type wireOptions struct {
	// noSinks leaves sinks out (dry runs, previews).
	noSinks bool
	// metrics, when set, registers the pipeline's metrics.
	metrics func(st *store.Store) *pipeline.Metrics
	// retryBackoff is the first delay after a failed delivery (doubling
	// up to 15 minutes); zero means the pipeline's default.
	retryBackoff time.Duration
	// exclusive: the command fetches or delivers, so on an SQLite
	// database it waits until no other process does.
	exclusive bool
}

// wire loads the config and builds the store, fetchers, classifier, sinks
// and runner. Close the returned app's store when done.
func wire(ctx context.Context, c *common, stderr io.Writer, o wireOptions) (*app, error) {
	log, err := c.logger(stderr)
	if err != nil {
		return nil, err
	}
	if _, err := setMemoryLimit(c.memoryLimit); err != nil {
		return nil, err
	}
	cfg, name, err := loadConfig(c.config, stderr)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, cfgName: name, log: log}
	if slices.Contains(cfg.HTTP.AllowPrivate, config.AllowAllUnsafe) {
		log.Warn("http.allow_private is " + config.AllowAllUnsafe + ": the guard is off, sources and redirects may reach internal hosts and cloud metadata addresses")
	}

	if a.store, err = store.Open(ctx, dbPath(c, cfg)); err != nil {
		return nil, err
	}
	if b := a.store.MigrationBackup(); b != "" {
		log.Info("database schema upgraded; a copy from before the upgrade is kept", "db", a.store.String(), "backup", b)
	}
	if o.exclusive {
		err := a.store.Exclusive(ctx, func(holder string) {
			log.Warn("waiting: an SQLite database has one writer at a time, and another process is working on it; this one starts when it ends (several instances at once need PostgreSQL)",
				"db", a.store.String(), "holder", holder)
		})
		if err != nil {
			a.store.Close()
			return nil, err
		}
	}
	a.classifier, err = loadClassifier(cfg)
	if err != nil {
		a.store.Close()
		return nil, err
	}
	hostGap := cfg.HTTP.HostInterval.D()
	if hostGap == 0 {
		hostGap = -1 // the config's explicit 0 means no gap; the client's 0 means its default
	}
	a.client = fetch.NewClient(fetch.ClientOptions{
		UserAgent:    fmt.Sprintf("treatywatch/%s (+%s)", version, cfg.Contact),
		Timeout:      cfg.Defaults.Timeout.D(),
		MaxBody:      cfg.Defaults.MaxBody.Bytes(),
		PerHost:      cfg.HTTP.PerHost,
		HostInterval: hostGap,
		MaxRedirects: cfg.HTTP.MaxRedirects,
		AllowPrivate: cfg.HTTP.AllowedPrefixes(),
		DNS:          cfg.HTTP.DNS,
		Logger:       log,
	})
	a.fetchers = map[string]fetch.Fetcher{
		fetch.KindFeed:   feed.New(a.client, feed.Options{Logger: log}),
		fetch.KindPage:   page.New(a.client),
		fetch.KindTreaty: treaty.New(a.client, log),
	}
	a.sources = enabledSources(cfg)
	if !o.noSinks {
		if a.sinks, err = buildSinks(cfg, a.store, log); err != nil {
			a.store.Close()
			return nil, err
		}
	}
	if o.metrics != nil {
		a.metrics = o.metrics(a.store)
	}
	a.extractor = extract.New(a.client, extract.Options{})
	// Each source's effective min_words decides whether its thin items
	// get their article text (0: never).
	fieldCaps := cfg.Fields.Caps()
	a.runner = pipeline.New(pipeline.Options{
		Store: a.store, Fetchers: a.fetchers, Extractor: a.extractor, Classifier: a.classifier,
		Sinks: a.sinks, Logger: log, Metrics: a.metrics, MinWords: cfg.Defaults.MinWords, PerHost: cfg.HTTP.PerHost,
		DeliveryBackoff: o.retryBackoff, Quiet: quietHours(cfg), Redact: redact.Of(stderr).String,
		SourceBackoff: cfg.Defaults.SourceBackoff().Base, SourceBackoffCap: cfg.Defaults.SourceBackoff().Cap,
		FieldCaps: &fieldCaps,
		Lease:     cfg.Store.Lease.D(),
	})
	return a, nil
}

// quietHours maps each sink with quiet hours to its window.
func quietHours(cfg *config.Config) map[string]*window.Window {
	out := map[string]*window.Window{}
	for _, s := range cfg.Sinks {
		if w := s.Quiet.Parsed(); w != nil {
			out[s.Name] = w
		}
	}
	return out
}

func loadClassifier(cfg *config.Config) (*classify.Engine, error) {
	if cfg.Classify.Rules == "" {
		return classify.Default()
	}
	return loadRulesFile(cfg.Classify.Rules)
}

func loadRulesFile(path string) (*classify.Engine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rule pack: %w", err)
	}
	pack, err := rules.Load(path, data)
	if err != nil {
		return nil, err
	}
	return classify.New(pack)
}

// buildSinks turns the config's sinks into sinks: a plain switch on type.
func buildSinks(cfg *config.Config, st *store.Store, log *slog.Logger) ([]sinks.Sink, error) {
	var out []sinks.Sink
	for _, sc := range cfg.Sinks {
		s, err := buildSink(sc, st, log)
		var pe *fs.PathError
		if err != nil && sc.Type == config.SinkFile && errors.As(err, &pe) {
			// A file sink that cannot open its file fails alone: its
			// records wait in the outbox, the other sinks deliver.
			log.Error("sink cannot write; its records stay queued until it can", "sink", sc.Name, "err", err)
			out = append(out, brokenSink{name: sc.Name, err: err})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func buildSink(sc config.Sink, st *store.Store, log *slog.Logger) (sinks.Sink, error) {
	switch sc.Type {
	case config.SinkFile:
		return file.New(sc.Name, sc.Path, sc.Format)
	case config.SinkWebhook:
		return webhook.New(webhook.Options{
			Name: sc.Name, URL: sc.URL, Secret: sc.Secret, Timeout: sc.Timeout.D(), Headers: sc.Headers,
			MaxBytes: int(sc.MaxBytes),
		}), nil
	case config.SinkDigest:
		return buildDigest(sc, st, log)
	}
	return nil, fmt.Errorf("unknown sink type %q", sc.Type)
}

func buildDigest(sc config.Sink, st *store.Store, log *slog.Logger) (*digest.Sink, error) {
	tr, err := buildTransport(sc)
	if err != nil {
		return nil, err
	}
	var tmplHTML, tmplText string
	for _, t := range []struct {
		path string
		dst  *string
	}{{sc.TemplateHTML, &tmplHTML}, {sc.TemplateText, &tmplText}} {
		if t.path == "" {
			continue
		}
		b, err := os.ReadFile(t.path)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		*t.dst = string(b)
	}
	return digest.New(digest.Options{
		Name: sc.Name, Schedule: sc.Schedule, Location: sc.Location(), Empty: sc.Empty,
		TemplateHTML: tmplHTML, TemplateText: tmplText, Transport: tr,
		State: st, Health: st, History: st, Treaty: treatyStatus, Logger: log,
	})
}

// treatyStatus is the digest's treaty box: mentions in the news, and,
// when a treaty status source reported in the window, the depositary's
// own counts and the actions it recorded.
func treatyStatus(recs []sinks.Record) *digest.TreatyStatus {
	const maxEvents = 10
	ts := digest.CountTreatyMentions(recs)
	var events []string
	var status string
	var latest time.Time
	for _, r := range recs {
		s, ok := treaty.StatusOf(r.Item)
		if !ok {
			continue
		}
		if r.Item.Fetched.After(latest) || status == "" {
			status, latest = s, r.Item.Fetched
		}
		if len(events) < maxEvents {
			events = append(events, r.Item.Title+" ("+r.Item.Published.Format("2 Jan 2006")+")")
		} else if len(events) == maxEvents {
			events = append(events, "and more: see the ratification section")
		}
	}
	if status == "" {
		return ts
	}
	if ts == nil {
		ts = &digest.TreatyStatus{}
	}
	ts.Official = append([]string{status}, events...)
	return ts
}

// exitErr prints err for the user and returns exit status 1.
func exitErr(stderr io.Writer, cmd string, err error) int {
	var ce interface{ Unwrap() []error }
	if errors.As(err, &ce) && len(ce.Unwrap()) > 1 {
		fmt.Fprintf(stderr, "treatywatch %s:\n", cmd)
		for _, e := range ce.Unwrap() {
			fmt.Fprintf(stderr, "  %v\n", e)
		}
		return 1
	}
	fmt.Fprintf(stderr, "treatywatch %s: %v\n", cmd, err)
	return 1
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

// buildTransport turns a digest's transport config into a transport.
func buildTransport(sc config.Sink) (digest.Transport, error) {
	t := sc.Transport
	if t == nil {
		return nil, errors.New("no transport")
	}
	switch t.Kind {
	case config.TransportWebhook:
		return digest.NewWebhook(digest.WebhookConfig{
			Preset: t.Preset, URL: t.URL, Token: t.Token, From: t.From, To: t.To,
			Client:   &http.Client{Timeout: max(sc.Timeout.D(), 10*time.Second)},
			MaxBytes: int(sc.MaxBytes),
		})
	case config.TransportSMTP:
		if t.SMTP == nil {
			return nil, errors.New("smtp transport without smtp settings")
		}
		mode := digest.TLSStartTLS
		if !t.SMTP.UseStartTLS() {
			mode = digest.TLSNone
		}
		return digest.NewSMTP(digest.SMTPConfig{
			Host: t.SMTP.Host, Port: t.SMTP.Port, Username: t.SMTP.Username, Password: t.SMTP.Password,
			From: t.From, To: t.To, TLS: mode, MaxBytes: int(sc.MaxBytes),
		})
	}
	return nil, fmt.Errorf("unknown transport kind %q", t.Kind)
}

// enabledSources are the config's enabled sources as the pipeline runs
// them.
func enabledSources(cfg *config.Config) []pipeline.Source {
	var out []pipeline.Source
	for _, s := range cfg.Sources {
		if s.Disabled {
			continue
		}
		eff := s.Effective(cfg.Defaults)
		out = append(out, pipeline.Source{
			Source:          s.FetchSource(cfg.Defaults),
			Schedule:        eff.Schedule,
			Spread:          s.Schedule == "",
			DeliverExisting: eff.DeliverExisting,
			Active:          s.Active.Parsed(),
			MinWords:        &eff.MinWords,
		})
	}
	return out
}

// brokenSink stands for a sink that could not be set up (its file cannot
// be opened): every write fails with why, so its records stay queued and
// the other sinks are not held back.
type brokenSink struct {
	name string
	err  error
}

func (b brokenSink) Name() string { return b.name }

func (b brokenSink) Write(context.Context, []sinks.Record) error { return b.err }

func (b brokenSink) Check(context.Context) error { return b.err }
