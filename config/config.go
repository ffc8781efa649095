package config

import (
	"maps"
	"net/netip"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/window"
)

// Config is the whole configuration file. After Load, Parse or Default the
// defaults are applied (see the field comments) and the config is valid.
type Config struct {
	// Contact is a URL (or mailto:) that goes into the User-Agent so site
	// owners can reach us. Default: the project's repository.
	Contact string `yaml:"contact"`
	// DataDirPath is where the store and the default file sink live.
	// Default: $TREATYWATCH_DATA_DIR, else $XDG_DATA_HOME/treatywatch, else
	// ~/.local/share/treatywatch. A relative path is taken relative to the
	// config file; "~/" is the home directory. Use DataDir to read it.
	DataDirPath string `yaml:"data_dir"`
	// Defaults apply to every source that does not set its own value.
	Defaults Defaults `yaml:"defaults"`
	// HTTP holds the client settings shared by all sources.
	HTTP HTTP `yaml:"http"`
	// Classify selects the rule pack.
	Classify Classify `yaml:"classify,omitempty"`
	// Sources are the feeds and pages to watch. At least one.
	Sources []Source `yaml:"sources"`
	// Sinks receive the relevant, labelled items. At least one.
	Sinks []Sink `yaml:"sinks"`
	// Dashboard configures `serve` and `run --listen`.
	Dashboard Dashboard `yaml:"dashboard,omitempty"`
	// Fields caps each stored and delivered field after cleaning.
	Fields Fields `yaml:"fields"`
	// Store is where the state lives. Default: an SQLite file in
	// data_dir.
	Store Store `yaml:"store,omitempty"`
	// Retention bounds how long the store keeps items.
	Retention Retention `yaml:"retention"`
}

// Retention is how long the store keeps items.
type Retention struct {
	// Irrelevant is how long an irrelevant item is kept after it was
	// first seen (e.g. "2160h", 90 days); 0, the default, keeps it for
	// good. Irrelevant items are stored lean (key, URL, title, dates,
	// labels and a hash of their text); one deleted while its feed still
	// lists it is seen as new on the next run, classified and stored
	// again. Items an analyst corrected, and items with a record waiting
	// for a sink, are kept.
	Irrelevant Duration `yaml:"irrelevant"`
}

// Fields are the caps on an item's fields after cleaning: a longer value
// is cut (text fields end in "…"), counted in the metric
// treatywatch_fields_truncated_total and named in the record's
// "truncated" list. Defaults: title 1KiB, summary 16KiB, content 256KiB,
// author 512B, url 4KiB.
type Fields struct {
	Title   Size `yaml:"title"`
	Summary Size `yaml:"summary"`
	Content Size `yaml:"content"`
	Author  Size `yaml:"author"`
	URL     Size `yaml:"url"`
}

// Caps converts the caps for the pipeline.
func (f Fields) Caps() fetch.FieldCaps {
	return fetch.FieldCaps{Title: int(f.Title), Summary: int(f.Summary), Content: int(f.Content),
		Author: int(f.Author), URL: int(f.URL)}
}

// Store drivers.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// Store selects the state database.
type Store struct {
	// Driver is "sqlite" (default; one process at a time) or "postgres"
	// (several instances may share one database).
	Driver string `yaml:"driver,omitempty"`
	// DSN is the SQLite file (default <data_dir>/treatywatch.db; a
	// relative path is taken relative to the config file) or the
	// PostgreSQL URL (postgres://user@host/db; write a password as
	// ${ENV_VAR}). Required for postgres.
	DSN string `yaml:"dsn,omitempty"`
	// Lease is how long an instance's claim on a source run, an outbox
	// record or a digest window lasts without renewal: a claim is renewed
	// a few times per lease while the instance lives, and the claims of
	// an instance that died go to another after it. Default 1m.
	Lease Duration `yaml:"lease,omitempty"`
}

// Dashboard configures the web dashboard.
type Dashboard struct {
	// Users may write label corrections (HTTP basic auth, or their
	// password as a bearer token). Without users every write is refused.
	Users []DashboardUser `yaml:"users,omitempty"`
	// Read is who may read: "loopback" (default: anyone when the listen
	// address is a loopback address, users only elsewhere), "open" or
	// "users".
	Read string `yaml:"read,omitempty"`
}

// DashboardUser is one analyst.
type DashboardUser struct {
	Name string `yaml:"name"`
	// PasswordHash is what `treatywatch serve --hash-password` prints
	// (PBKDF2-SHA256 with a random salt); the password is never stored.
	PasswordHash string `yaml:"password_hash"`
}

// Dashboard read modes.
const (
	ReadLoopback = "loopback"
	ReadOpen     = "open"
	ReadUsers    = "users"
)

// DataDir returns the resolved data directory (never empty after loading).
func (c *Config) DataDir() string { return c.DataDirPath }

// Source returns the source with the given id.
func (c *Config) Source(id string) (Source, bool) {
	for _, s := range c.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// Defaults are per-source settings used when a source leaves them unset.
type Defaults struct {
	// Schedule is a robfig/cron/v3 spec: five fields ("*/30 * * * *") or a
	// descriptor ("@every 30m", "@hourly"). Default "@every 30m".
	Schedule string `yaml:"schedule"`
	// Timeout bounds one request. Default 30s.
	Timeout Duration `yaml:"timeout"`
	// MaxBody caps a response body. Default 10MiB.
	MaxBody Size `yaml:"max_body"`
	// DeliverExisting delivers the items found on a source's first
	// successful fetch; by default they are only marked seen.
	DeliverExisting bool `yaml:"deliver_existing"`
	// MinWords: an item with fewer words of text is "thin" and its full
	// text is extracted. Default 80; 0 turns extraction off.
	MinWords int `yaml:"min_words"`
	// Backoff is the wait after a source's failed run; it doubles per
	// failure in a row up to BackoffMax. A server's Retry-After is
	// honoured when longer. Unset: 1m and 4h.
	Backoff    Duration `yaml:"backoff,omitempty"`
	BackoffMax Duration `yaml:"backoff_max,omitempty"`
}

// SourceBackoff returns the backoff after failed runs, with the
// defaults for what is unset.
func (d Defaults) SourceBackoff() schedule.Backoff {
	b := schedule.Backoff{Base: DefaultBackoff, Cap: DefaultBackoffMax}
	if d.Backoff != 0 {
		b.Base = d.Backoff.D()
	}
	if d.BackoffMax != 0 {
		b.Cap = d.BackoffMax.D()
	}
	return b
}

// HTTP configures the shared HTTP client.
type HTTP struct {
	// PerHost is the number of concurrent requests per host. Default 1.
	PerHost int `yaml:"per_host"`
	// HostInterval is the minimum gap between two requests to one host.
	// Default 1s.
	HostInterval Duration `yaml:"host_interval"`
	// MaxRedirects bounds redirects per request. Default 5; 0 follows none.
	MaxRedirects int `yaml:"max_redirects"`
	// DNS is a DNS server (IP:port, "10.0.0.2:53") that resolves host
	// names instead of the system's resolver. Empty: the system's.
	DNS string `yaml:"dns,omitempty"`
	// AllowPrivate lists address ranges the SSRF guard lets through: CIDRs
	// ("10.1.0.0/16"), single addresses, or the keywords "loopback",
	// "private" and "link-local".
	AllowPrivate []string `yaml:"allow_private,omitempty"`
}

// AllowedPrefixes expands AllowPrivate into address prefixes. The config
// has been validated, so entries that do not parse are skipped.
func (h HTTP) AllowedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range h.AllowPrivate {
		p, _ := allowPrefixes(s)
		out = append(out, p...)
	}
	return out
}

// Classify configures the classifier.
type Classify struct {
	// Rules is the path of a user rule pack; empty means the built-in pack.
	// A relative path is taken relative to the config file.
	Rules string `yaml:"rules,omitempty"`
}

// Source is one feed or page to watch.
type Source struct {
	// ID names the source in the store, logs and records:
	// [a-z0-9][a-z0-9._-]*, at most 64 characters, unique. Required.
	ID string `yaml:"id"`
	// Name is what people call it. Default: the ID.
	Name string `yaml:"name"`
	// Kind is "feed" (RSS, Atom, RDF, JSON Feed), "page" (a listing page
	// read with CSS selectors) or "treaty" (a UN Treaty Collection status
	// document: its participant rows become signature and ratification
	// events). Default "feed".
	Kind fetch.Kind `yaml:"kind"`
	// URL is the feed or page, absolute http or https. Required.
	URL string `yaml:"url"`
	// Schedule overrides Defaults.Schedule.
	Schedule string `yaml:"schedule,omitempty"`
	// Lang is the BCP 47 language the source publishes in ("en", "ru").
	Lang string `yaml:"lang,omitempty"`
	// Actor is who speaks when the source publishes its own statements;
	// empty for news outlets and aggregators.
	Actor string `yaml:"actor,omitempty"`
	// Headers are sent with every request (Cookie included).
	Headers map[string]string `yaml:"headers,omitempty"`
	// Proxy is an http, https, socks5 or socks5h URL.
	Proxy string `yaml:"proxy,omitempty"`
	// Charset overrides the charset the response declares.
	Charset string `yaml:"charset,omitempty"`
	// Timeout overrides Defaults.Timeout when not zero.
	Timeout Duration `yaml:"timeout,omitempty"`
	// MaxBody overrides Defaults.MaxBody when not zero.
	MaxBody Size `yaml:"max_body,omitempty"`
	// MinWords overrides Defaults.MinWords when set.
	MinWords *int `yaml:"min_words,omitempty"`
	// DeliverExisting overrides Defaults.DeliverExisting when set.
	DeliverExisting *bool `yaml:"deliver_existing,omitempty"`
	// Disabled sources are kept in the config but never run.
	Disabled bool `yaml:"disabled,omitempty"`
	// Active limits when the source is fetched: outside the window it is
	// not fetched (a run that falls outside waits for the window to open),
	// and `check` says when it resumes. Empty: always.
	Active *Window `yaml:"active,omitempty"`
	// Page holds the CSS selectors of a page source; required for kind
	// page, refused for kind feed.
	Page *Page `yaml:"page,omitempty"`
	// Archive tells a backfill where older items are.
	Archive *Archive `yaml:"archive,omitempty"`
}

// Page describes a listing page with CSS selectors (checked at load).
type Page struct {
	// Item selects one element per entry. Required.
	Item string `yaml:"item"`
	// Link selects, inside an item, the element whose href is the entry's
	// URL. Required.
	Link string `yaml:"link"`
	// Title selects the title inside an item; empty: the link's text.
	Title string `yaml:"title,omitempty"`
	// Date selects the publication date inside an item.
	Date string `yaml:"date,omitempty"`
	// DateLayout is a Go time layout for Date ("January 2, 2006"); empty
	// means the date is guessed.
	DateLayout string `yaml:"date_layout,omitempty"`
	// Summary selects an optional summary inside an item.
	Summary string `yaml:"summary,omitempty"`
}

// Archive tells a backfill how to walk older items.
type Archive struct {
	// PageParam is the query parameter of a paginated feed ("paged" for
	// WordPress).
	PageParam string `yaml:"page_param,omitempty"`
	// MaxPages bounds pagination; 0 means the backfill's own limit.
	MaxPages int `yaml:"max_pages,omitempty"`
	// Sitemap is an absolute http(s) URL of a sitemap or sitemap index.
	Sitemap string `yaml:"sitemap,omitempty"`
	// Query is a news search query; date operators are added per window.
	Query string `yaml:"query,omitempty"`
}

// Effective is a source's settings with the defaults filled in.
type Effective struct {
	Schedule        string
	Timeout         time.Duration
	MaxBody         int64
	MinWords        int
	DeliverExisting bool
}

// Effective returns the source's own settings, falling back to d.
func (s Source) Effective(d Defaults) Effective {
	e := Effective{
		Schedule:        d.Schedule,
		Timeout:         d.Timeout.D(),
		MaxBody:         d.MaxBody.Bytes(),
		MinWords:        d.MinWords,
		DeliverExisting: d.DeliverExisting,
	}
	if s.Schedule != "" {
		e.Schedule = s.Schedule
	}
	if s.Timeout != 0 {
		e.Timeout = s.Timeout.D()
	}
	if s.MaxBody != 0 {
		e.MaxBody = s.MaxBody.Bytes()
	}
	if s.MinWords != nil {
		e.MinWords = *s.MinWords
	}
	if s.DeliverExisting != nil {
		e.DeliverExisting = *s.DeliverExisting
	}
	return e
}

// FetchSource converts the source into what the fetchers take.
func (s Source) FetchSource(d Defaults) fetch.Source {
	out := fetch.Source{
		ID:      s.ID,
		Kind:    s.Kind,
		URL:     s.URL,
		Name:    s.Name,
		Lang:    s.Lang,
		Actor:   s.Actor,
		Headers: maps.Clone(s.Headers),
		Proxy:   s.Proxy,
		Charset: s.Charset,
		Timeout: s.Effective(d).Timeout,
		MaxBody: s.Effective(d).MaxBody,
	}
	if p := s.Page; p != nil {
		out.Page = &fetch.PageSelectors{
			Item:       p.Item,
			Link:       p.Link,
			Title:      p.Title,
			Date:       p.Date,
			DateLayout: p.DateLayout,
			Summary:    p.Summary,
		}
	}
	if a := s.Archive; a != nil && *a != (Archive{}) {
		out.Archive = &fetch.Archive{
			PageParam: a.PageParam,
			MaxPages:  a.MaxPages,
			Sitemap:   a.Sitemap,
			Query:     a.Query,
		}
	}
	return out
}

// Sink types.
const (
	SinkFile    = "file"
	SinkWebhook = "webhook"
	SinkDigest  = "digest"
)

// File sink formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
	FormatAtom  = "atom"
)

// Digest empty-window modes.
const (
	EmptySkip   = "skip"
	EmptyNotify = "notify"
)

// Transport kinds and webhook presets of a digest.
const (
	TransportWebhook = "webhook"
	TransportSMTP    = "smtp"

	PresetGeneric  = "generic"
	PresetPostmark = "postmark"
	PresetSendGrid = "sendgrid"
	PresetSlack    = "slack"
	PresetDiscord  = "discord"
	PresetTeams    = "teams"
	PresetNtfy     = "ntfy"
)

// Sink is one destination. Which fields apply depends on Type; a field set
// for a type that does not use it is an error.
type Sink struct {
	// Name is unique among sinks; the outbox and event ids use it. Required.
	Name string `yaml:"name"`
	// Type is "file", "webhook" or "digest". Required.
	Type string `yaml:"type"`

	// Path (file) is the output file. Default <data_dir>/items.<format>.
	Path string `yaml:"path,omitempty"`
	// Format (file) is "jsonl" (default), "csv" or "atom".
	Format string `yaml:"format,omitempty"`

	// URL (webhook) is the absolute http(s) endpoint. Required.
	URL string `yaml:"url,omitempty"`
	// Secret (webhook) is the HMAC-SHA256 key; write it as ${ENV_VAR}.
	// Required unless Unsigned is true.
	Secret string `yaml:"secret,omitempty"`
	// Unsigned (webhook) sends requests without a signature: receivers
	// cannot tell them from forgeries. Must be said explicitly.
	Unsigned bool `yaml:"unsigned,omitempty"`
	// Timeout (webhook, digest) bounds one delivery. Default 10s.
	Timeout Duration `yaml:"timeout,omitempty"`
	// Headers (webhook) are added to every request.
	Headers map[string]string `yaml:"headers,omitempty"`

	// Schedule (digest) is a cron spec. Default "0 8 * * *".
	Schedule string `yaml:"schedule,omitempty"`
	// Timezone (digest) is an IANA zone name for Schedule. Default "UTC".
	Timezone string `yaml:"timezone,omitempty"`
	// Empty (digest) is "skip" (default) or "notify" for an empty window.
	Empty string `yaml:"empty,omitempty"`
	// TemplateHTML and TemplateText (digest) are optional user template
	// files (html/template, text/template), relative to the config file.
	TemplateHTML string `yaml:"template_html,omitempty"`
	TemplateText string `yaml:"template_text,omitempty"`
	// Transport (digest) says how the digest is sent. Required.
	Transport *Transport `yaml:"transport,omitempty"`

	// Quiet (webhook, digest) is when nothing is sent: records wait in the
	// outbox until the window ends (a digest due inside it goes out when
	// it ends). Empty: never quiet.
	Quiet *Window `yaml:"quiet,omitempty"`
	// MaxBytes (webhook, digest) bounds one request body. Text fields are
	// cut in a fixed order, with a marker, to fit; the envelope and the
	// event id never are. Default: the documented limit of the receiver
	// (see DefaultMaxBytes).
	MaxBytes Size `yaml:"max_bytes,omitempty"`
}

// Window is a weekly time window in a time zone, for active and quiet.
type Window struct {
	// Days are weekday names and ranges: "mon-fri", "sat,sun",
	// "mon-wed,fri". Empty: every day.
	Days string `yaml:"days,omitempty"`
	// Hours is "HH:MM-HH:MM" ("07:00-19:00"); a span across midnight
	// ("22:00-07:00") belongs to the day it starts. Empty: all day.
	Hours string `yaml:"hours,omitempty"`
	// Timezone is an IANA zone name. Default "UTC".
	Timezone string `yaml:"timezone,omitempty"`
}

// Parsed returns the window to test times against; nil when w is nil.
// The config has been validated, so it parses.
func (w *Window) Parsed() *window.Window {
	if w == nil {
		return nil
	}
	p, err := window.Parse(w.Days, w.Hours, w.Timezone)
	if err != nil {
		return nil
	}
	return p
}

// Location returns the digest's time zone (UTC when unset or invalid; the
// config has been validated).
func (s Sink) Location() *time.Location {
	if s.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Transport sends a digest: through an email API's webhook or SMTP.
type Transport struct {
	// Kind is "webhook" or "smtp". Required.
	Kind string `yaml:"kind"`
	// Preset (webhook) shapes the request body: "generic" (default,
	// {subject, html, text, to}), "postmark", "sendgrid" (email APIs), or
	// "slack", "discord", "teams", "ntfy" (chat and push webhooks, where
	// the URL is the channel).
	Preset string `yaml:"preset,omitempty"`
	// URL (webhook) is the endpoint. Default for postmark
	// https://api.postmarkapp.com/email and for sendgrid
	// https://api.sendgrid.com/v3/mail/send; required otherwise.
	URL string `yaml:"url,omitempty"`
	// To are the recipients' addresses; required for the email presets
	// and smtp, refused for the chat presets.
	To []string `yaml:"to,omitempty"`
	// From is the sender's address; required for smtp, postmark, sendgrid.
	From string `yaml:"from,omitempty"`
	// Token is the API token of postmark or sendgrid (required there).
	Token string `yaml:"token,omitempty"`
	// SMTP (smtp) holds the server settings. Required for kind smtp.
	SMTP *SMTP `yaml:"smtp,omitempty"`
}

// Default endpoints of the webhook presets that have one.
const (
	PostmarkURL = "https://api.postmarkapp.com/email"
	SendGridURL = "https://api.sendgrid.com/v3/mail/send"
)

// SMTP is a mail server.
type SMTP struct {
	// Host is required.
	Host string `yaml:"host"`
	// Port defaults to 587.
	Port int `yaml:"port"`
	// Username and Password authenticate (PLAIN) when Username is set.
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
	// StartTLS upgrades the connection; default true.
	StartTLS *bool `yaml:"starttls"`
}

// UseStartTLS reports whether STARTTLS is on (the default).
func (s SMTP) UseStartTLS() bool { return s.StartTLS == nil || *s.StartTLS }
