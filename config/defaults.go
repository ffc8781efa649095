package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// Default values.
const (
	DefaultContact         = "https://github.com/treatywatch/treatywatch"
	DefaultSchedule        = "@every 30m"
	DefaultTimeout         = 30 * time.Second
	DefaultMaxBody         = 10 * MiB
	DefaultMinWords        = 80
	DefaultBackoff         = time.Minute
	DefaultBackoffMax      = 4 * time.Hour
	DefaultPerHost         = 1
	DefaultHostInterval    = time.Second
	DefaultMaxRedirects    = 5
	DefaultSinkTimeout     = 10 * time.Second
	DefaultDigestSchedule  = "0 8 * * *"
	DefaultDigestTimezone  = "UTC"
	DefaultSMTPPort        = 587
	DefaultStoreLease      = time.Minute
	defaultDataDirEnv      = "TREATYWATCH_DATA_DIR"
	defaultDataDirBasename = "treatywatch"
)

// applyDefaults fills unset fields. Values a user may set to zero on
// purpose (min_words, host_interval, max_redirects) are only defaulted when
// the key is absent from the file, which present reports.
// A path that cannot be resolved is reported through fail.
func applyDefaults(c *Config, base string, env lookupFunc, present func(path string) bool, fail func(path string, err error)) {
	if c.Contact == "" {
		c.Contact = DefaultContact
	}
	d := &c.Defaults
	if d.Schedule == "" {
		d.Schedule = DefaultSchedule
	}
	if d.Timeout == 0 && !present("defaults.timeout") {
		d.Timeout = Duration(DefaultTimeout)
	}
	if d.MaxBody == 0 && !present("defaults.max_body") {
		d.MaxBody = DefaultMaxBody
	}
	if d.MinWords == 0 && !present("defaults.min_words") {
		d.MinWords = DefaultMinWords
	}
	fc := fetch.DefaultFieldCaps()
	for _, f := range []struct {
		v   *Size
		def int
	}{{&c.Fields.Title, fc.Title}, {&c.Fields.Summary, fc.Summary}, {&c.Fields.Content, fc.Content},
		{&c.Fields.Author, fc.Author}, {&c.Fields.URL, fc.URL}} {
		if *f.v == 0 {
			*f.v = Size(f.def)
		}
	}
	h := &c.HTTP
	if h.PerHost == 0 && !present("http.per_host") {
		h.PerHost = DefaultPerHost
	}
	if h.HostInterval == 0 && !present("http.host_interval") {
		h.HostInterval = Duration(DefaultHostInterval)
	}
	if h.MaxRedirects == 0 && !present("http.max_redirects") {
		h.MaxRedirects = DefaultMaxRedirects
	}

	home, _ := env("HOME")
	resolve := func(path string, p *string) {
		if *p == "" {
			return
		}
		r, err := resolvePath(*p, base, home)
		if err != nil {
			fail(path, err)
			return
		}
		*p = r
	}
	if c.DataDirPath == "" {
		dir, err := defaultDataDir(env, home)
		if err != nil {
			fail("data_dir", err)
		}
		c.DataDirPath = dir
	} else {
		resolve("data_dir", &c.DataDirPath)
	}
	resolve("classify.rules", &c.Classify.Rules)
	if c.Store.Driver == "" {
		c.Store.Driver = StoreSQLite
	}
	if c.Store.Driver == StoreSQLite {
		if c.Store.DSN == "" && c.DataDirPath != "" && !strings.HasPrefix(c.DataDirPath, "~") {
			c.Store.DSN = filepath.Join(c.DataDirPath, "treatywatch.db")
		} else if !strings.Contains(c.Store.DSN, "://") {
			resolve("store.dsn", &c.Store.DSN)
		}
	}
	if c.Store.Lease == 0 {
		c.Store.Lease = Duration(DefaultStoreLease)
	}

	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Kind == "" {
			s.Kind = "feed"
		}
		if s.Name == "" {
			s.Name = s.ID
		}
	}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		path := fmt.Sprintf("sinks[%d]", i)
		timeoutSet := present(path + ".timeout")
		switch s.Type {
		case SinkFile:
			if s.Format == "" {
				s.Format = FormatJSONL
			}
			if s.Path == "" && c.DataDirPath != "" && !strings.HasPrefix(c.DataDirPath, "~") {
				s.Path = filepath.Join(c.DataDirPath, "items."+s.Format)
			} else {
				resolve(path+".path", &s.Path)
			}
		case SinkWebhook:
			if s.Timeout == 0 && !timeoutSet {
				s.Timeout = Duration(DefaultSinkTimeout)
			}
		case SinkDigest:
			if s.Timeout == 0 && !timeoutSet {
				s.Timeout = Duration(DefaultSinkTimeout)
			}
			if s.Schedule == "" {
				s.Schedule = DefaultDigestSchedule
			}
			if s.Timezone == "" {
				s.Timezone = DefaultDigestTimezone
			}
			if s.Empty == "" {
				s.Empty = EmptySkip
			}
			resolve(path+".template_html", &s.TemplateHTML)
			resolve(path+".template_text", &s.TemplateText)
			if t := s.Transport; t != nil {
				applyTransportDefaults(t)
			}
		}
		if s.MaxBytes == 0 && !present(path+".max_bytes") {
			s.MaxBytes = DefaultMaxBytes(*s)
		}
	}
}

// Body budgets (max_bytes) by receiver, from each API's documented limit.
// Chat APIs count characters; a budget in bytes of the same number is
// never more than that many characters.
const (
	// Webhook sinks: no API prescribes one; 1 MiB keeps a record well
	// inside what HTTP collectors accept by default.
	DefaultWebhookMaxBytes = 1 * MiB
	// SMTP: Postfix's default message_size_limit is 10,240,000 bytes.
	DefaultSMTPMaxBytes = 10_240_000
)

// presetMaxBytes is the default budget of each digest webhook preset.
var presetMaxBytes = map[string]Size{
	// Generic email APIs: 10 MB is the smallest common limit (Postmark,
	// Amazon SES).
	PresetGeneric: 10 * 1000 * 1000,
	// Postmark: "10 MB" per message, attachments included.
	PresetPostmark: 10 * 1000 * 1000,
	// SendGrid v3 mail/send: the whole message under 30 MB.
	PresetSendGrid: 30 * 1000 * 1000,
	// Slack: message text is truncated past 40,000 characters.
	PresetSlack: 40_000,
	// Discord: at most 6,000 characters across a message's embeds
	// (content 2,000, an embed description 4,096).
	PresetDiscord: 6_000,
	// Microsoft Teams incoming webhooks: a message of at most 28 KB.
	PresetTeams: 28 * KiB,
	// ntfy: a message body of at most 4,096 bytes (larger ones turn into
	// an attachment).
	PresetNtfy: 4_096,
}

// chatPreset reports whether a preset posts to a channel URL rather than
// to mail recipients.
func chatPreset(p string) bool {
	return p == PresetSlack || p == PresetDiscord || p == PresetTeams || p == PresetNtfy
}

// DefaultMaxBytes returns the body budget a sink gets when max_bytes is
// not set: by transport preset for digests, DefaultWebhookMaxBytes for
// webhooks, 0 (none) for files.
func DefaultMaxBytes(s Sink) Size {
	switch s.Type {
	case SinkWebhook:
		return DefaultWebhookMaxBytes
	case SinkDigest:
		if s.Transport == nil {
			return 0
		}
		if s.Transport.Kind == TransportSMTP {
			return DefaultSMTPMaxBytes
		}
		return presetMaxBytes[s.Transport.Preset]
	}
	return 0
}

func applyTransportDefaults(t *Transport) {
	switch t.Kind {
	case TransportWebhook:
		if t.Preset == "" {
			t.Preset = PresetGeneric
		}
		if t.URL == "" {
			switch t.Preset {
			case PresetPostmark:
				t.URL = PostmarkURL
			case PresetSendGrid:
				t.URL = SendGridURL
			}
		}
	case TransportSMTP:
		if m := t.SMTP; m != nil {
			if m.Port == 0 {
				m.Port = DefaultSMTPPort
			}
			if m.StartTLS == nil {
				on := true
				m.StartTLS = &on
			}
		}
	}
}

// defaultDataDir is $TREATYWATCH_DATA_DIR, else $XDG_DATA_HOME/treatywatch
// (when absolute, as the XDG spec requires), else ~/.local/share/treatywatch.
func defaultDataDir(env lookupFunc, home string) (string, error) {
	if v, _ := env(defaultDataDirEnv); v != "" {
		return resolvePath(v, ".", home)
	}
	if v, _ := env("XDG_DATA_HOME"); v != "" && filepath.IsAbs(v) {
		return filepath.Join(v, defaultDataDirBasename), nil
	}
	if home == "" {
		return "", errors.New("no data directory: set data_dir, $TREATYWATCH_DATA_DIR, $XDG_DATA_HOME or $HOME")
	}
	return filepath.Join(home, ".local", "share", defaultDataDirBasename), nil
}

// resolvePath expands a leading "~/" and makes a relative path relative to
// base (the config file's directory).
func resolvePath(p, base, home string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home == "" {
			return p, errors.New("cannot expand ~: $HOME is not set")
		}
		return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	return filepath.Join(base, p), nil
}
