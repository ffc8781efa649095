package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/internal/window"
	"github.com/treatywatch/treatywatch/sinks"
)

// app is everything a command needs, built from the config by wire.
type app struct {
	cfg        *config.Config
	cfgName    string
	log        *slog.Logger
	store      *store.Store
	client     *fetch.Client
	fetchers   map[fetch.Kind]fetch.Fetcher
	extractor  *extract.Extractor
	classifier *lazyEngine
	sinks      []sinks.Sink
	sources    []pipeline.Source
	pipe       *pipeline.Pipeline
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
	// sinkNames, with noSinks, gives the pipeline the config's sinks by
	// name only (nothing is opened, nothing can be delivered): a dry run
	// counts what each would be queued.
	sinkNames bool
	// metrics, when set, registers the pipeline's metrics.
	metrics func(st *store.Store) *pipeline.Metrics
	// retryBackoff is the first delay after a failed delivery (doubling
	// up to 15 minutes); zero means the pipeline's default.
	retryBackoff time.Duration
	// exclusive: the command fetches or delivers, so on an SQLite
	// database it waits until no other process does.
	exclusive bool
	// batch: the command runs a bounded batch of sources and exits
	// (once, backfill), so its collector may trade memory under the
	// soft limit for CPU (setBatchGC).
	batch bool
}

// wire loads the config and builds the store, fetchers, classifier, sinks
// and pipeline. Close the returned app's store when done.
func wire(ctx context.Context, c *common, stderr io.Writer, o wireOptions) (*app, error) {
	log, err := c.logger(stderr)
	if err != nil {
		return nil, err
	}
	limit, err := setMemoryLimit(c.memoryLimit)
	if err != nil {
		return nil, err
	}
	if o.batch {
		setBatchGC(limit)
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
	a.client = fetch.NewClient(cfg.ClientOptions(fmt.Sprintf("treatywatch/%s (+%s)", version, cfg.Contact), log))
	a.fetchers = map[fetch.Kind]fetch.Fetcher{
		fetch.KindFeed:   feed.New(a.client, feed.Options{Logger: log}),
		fetch.KindPage:   page.New(a.client),
		fetch.KindTreaty: treaty.New(a.client, log),
	}
	a.sources = enabledSources(cfg)
	if o.noSinks && o.sinkNames {
		for _, sc := range cfg.Sinks {
			a.sinks = append(a.sinks, brokenSink{name: sc.Name, err: errors.New("a dry run delivers nothing")})
		}
	}
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
	a.pipe = pipeline.New(pipeline.Options{
		Store: a.store, Logger: log, Metrics: a.metrics, Redact: redact.Of(stderr).String, Lease: cfg.Store.Lease.D(),
		Ingest: pipeline.IngestOptions{Fetchers: a.fetchers, Extractor: a.extractor, Classifier: a.classifier,
			MinWords: cfg.Defaults.MinWords, FieldCaps: &fieldCaps, Backoff: cfg.Defaults.SourceBackoff()},
		Outbox:   pipeline.OutboxOptions{Sinks: a.sinks, Backoff: schedule.Backoff{Base: o.retryBackoff}, Quiet: quietHours(cfg)},
		Schedule: pipeline.SchedulerOptions{PerHost: cfg.HTTP.PerHost},
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

// loadClassifier returns the config's classifier: a rule pack from a file
// loaded now, the built-in one when first used.
func loadClassifier(cfg *config.Config) (*lazyEngine, error) {
	if cfg.Classify.Rules == "" {
		return &lazyEngine{load: classify.Default}, nil
	}
	e, err := loadRulesFile(cfg.Classify.Rules)
	if err != nil {
		return nil, err
	}
	return &lazyEngine{load: func() (*classify.Engine, error) { return e, nil }}, nil
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
