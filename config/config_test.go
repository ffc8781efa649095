package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// testEnv is the environment the fixture files are parsed with, so that
// expected messages do not depend on the machine.
func testEnv(k string) (string, bool) {
	v, ok := map[string]string{
		"HOME":                   "/home/test",
		"TW_TEST_COOKIE":         "cookie-value",
		"TW_TEST_SESSION":        "s3ss10n-value",
		"TW_TEST_KEY":            "k3y-value",
		"TW_TEST_SECRET":         "s3cr3t-value",
		"TW_TEST_SMTP_PASSWORD":  "smtp-pa55-value",
		"TW_TEST_POSTMARK_TOKEN": "postmark-t0ken-value",
		"TW_TEST_SENDGRID_TOKEN": "sendgrid-t0ken-value",
	}[k]
	return v, ok
}

// secretValues are the values of testEnv that Marshal must never print.
var secretValues = []string{"s3ss10n-value", "k3y-value", "s3cr3t-value", "smtp-pa55-value", "postmark-t0ken-value", "sendgrid-t0ken-value", "XXXXSECRET"}

func parseFile(t *testing.T, path string) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parse(path, data, testEnv)
}

func TestBadFiles(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"bad_archive.bad.yaml", `testdata/bad_archive.bad.yaml:4: sources[0].min_words: must not be negative, got -1
testdata/bad_archive.bad.yaml:6: sources[0].headers.X-Note: bad header value (no control characters or line breaks)
testdata/bad_archive.bad.yaml:8: sources[0].archive.page_param: bad query parameter name "page&x=1"
testdata/bad_archive.bad.yaml:9: sources[0].archive.max_pages: must not be negative, got -2
testdata/bad_archive.bad.yaml:10: sources[0].archive.sitemap: bad URL "sitemap.xml" (want an absolute http or https URL)
testdata/bad_archive.bad.yaml:14: sinks[0].transport.kind: required (webhook or smtp)`},
		{"bad_windows.bad.yaml", `testdata/bad_windows.bad.yaml:4: sources[0].active.days: bad days "mon-fry" (want day names mon..sun, ranges like mon-fri, separated by commas)
testdata/bad_windows.bad.yaml:4: sources[0].active.hours: bad hours "7-19": "7" is not a time of day (HH:MM)
testdata/bad_windows.bad.yaml:4: sources[0].active.timezone: unknown time zone "Europe/Berlín" (want an IANA name such as "Europe/Berlin" or "UTC")
testdata/bad_windows.bad.yaml:7: sources[1].active: set days, hours or both (e.g. days: mon-fri, hours: "07:00-19:00")
testdata/bad_windows.bad.yaml:9: sinks[0].secret: required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true
testdata/bad_windows.bad.yaml:12: sinks[0].quiet: is quiet all the time: nothing would ever be sent
testdata/bad_windows.bad.yaml:13: sinks[0].max_bytes: must be at least 1KiB, got 512
testdata/bad_windows.bad.yaml:16: sinks[1].quiet: not used by sinks of type file
testdata/bad_windows.bad.yaml:17: sinks[1].max_bytes: not used by sinks of type file
testdata/bad_windows.bad.yaml:20: sinks[2].transport.to: not used by preset discord (the URL is the channel)`},
		{"bad_dns.bad.yaml", `testdata/bad_dns.bad.yaml:2: http.dns: bad DNS server "resolver.example.org" (want an IP address and port, e.g. "10.0.0.2:53")`},
		{"bad_cidr.bad.yaml", `testdata/bad_cidr.bad.yaml:4: http.allow_private[1]: bad entry "10.0.0.0/33" (want a CIDR, an IP address, "loopback", "private", "link-local" or "all-addresses-unsafe")
testdata/bad_cidr.bad.yaml:5: http.allow_private[2]: bad entry "intranet" (want a CIDR, an IP address, "loopback", "private", "link-local" or "all-addresses-unsafe")
testdata/bad_cidr.bad.yaml:7: http.allow_private[4]: "0.0.0.0/0" covers a large part of all addresses, which turns the guard against requests to internal hosts off; list the ranges you need ("loopback", "private", 10.1.0.0/16), or write "all-addresses-unsafe" to turn the guard off knowingly`},
		{"bad_cron.bad.yaml", `testdata/bad_cron.bad.yaml:12: sources[3].schedule: bad cron spec "*/61 * * * *": step 61 does not fit the minute field (0-59)
testdata/bad_cron.bad.yaml:15: sources[4].schedule: bad cron spec "every day": expected exactly 5 fields, found 2: [every day]`},
		{"bad_proxy.bad.yaml", `testdata/bad_proxy.bad.yaml:4: sources[0].proxy: bad proxy URL "ftp://proxy.example.org:21" (want http, https, socks5 or socks5h with a host)
testdata/bad_proxy.bad.yaml:7: sources[1].proxy: bad proxy URL "socks5://" (want http, https, socks5 or socks5h with a host)
testdata/bad_proxy.bad.yaml:10: sources[2].charset: unknown charset "koi9-r"
testdata/bad_proxy.bad.yaml:11: sources[2].lang: bad language tag "ru_RU!" (want BCP 47, e.g. "en" or "pt-BR")
testdata/bad_proxy.bad.yaml:13: sources[2].headers.Bad Header: bad header name "Bad Header"`},
		{"treaty_kind.bad.yaml", `testdata/treaty_kind.bad.yaml:5: sources[0].page: only for kind page
testdata/treaty_kind.bad.yaml:9: sources[1].kind: unknown kind "telex" (want feed, page or treaty)`},
		{"bad_selector.bad.yaml", `testdata/bad_selector.bad.yaml:7: sources[0].page.item: bad CSS selector "article.post[": expected identifier, found EOF instead
testdata/bad_selector.bad.yaml:8: sources[0].page.link: bad CSS selector "a:nth-child(x)": unexpected character while attempting to parse expression of form an+b
testdata/bad_selector.bad.yaml:10: sources[0].page.date: bad CSS selector "time[datetime": unexpected EOF in attribute selector
testdata/bad_selector.bad.yaml:11: sources[0].page.date_layout: "dd.mm.yyyy" is not a Go time layout (write the reference time, e.g. "January 2, 2006")
testdata/bad_selector.bad.yaml:12: sources[0].page.summary: bad CSS selector ">>": expected identifier, found > instead
testdata/bad_selector.bad.yaml:15: sources[1].page: only for kind page`},
		{"bad_timezone.bad.yaml", `testdata/bad_timezone.bad.yaml:8: sinks[0].timezone: unknown time zone "Europe/Berlín" (want an IANA name such as "Europe/Berlin" or "UTC")`},
		{"bad_units.bad.yaml", `testdata/bad_units.bad.yaml:2: defaults.timeout: bad duration "30 seconds" (want e.g. "30s", "5m", "1h30m")
testdata/bad_units.bad.yaml:3: defaults.max_body: bad size "10MB" (want bytes or a number with KiB, MiB or GiB, e.g. "10MiB")
testdata/bad_units.bad.yaml:4: defaults.min_words: want an integer, got "many"
testdata/bad_units.bad.yaml:6: http.host_interval: must not be negative, got -1s
testdata/bad_units.bad.yaml:7: http.per_host: must be at least 1, got 0
testdata/bad_units.bad.yaml:11: sources[0].timeout: bad duration "5" (want e.g. "30s", "5m", "1h30m")
testdata/bad_units.bad.yaml:12: sources[0].max_body: bad size "-3KiB" (want bytes or a number with KiB, MiB or GiB, e.g. "10MiB")
testdata/bad_units.bad.yaml:13: sources[0].deliver_existing: want true or false, got "maybe"
testdata/bad_units.bad.yaml:15: sinks[0].secret: required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true
testdata/bad_units.bad.yaml:18: sinks[0].timeout: must be positive, got 0s
testdata/bad_units.bad.yaml:20: retention.irrelevant: must be 0 (keep) or at least 1h, got 30m0s`},
		{"bad_url.bad.yaml", `testdata/bad_url.bad.yaml:1: contact: bad contact "treatywatch" (want an http, https or mailto URL)
testdata/bad_url.bad.yaml:4: sources[0].url: bad URL "www.eff.org/rss/updates.xml" (want an absolute http or https URL)
testdata/bad_url.bad.yaml:6: sources[1].url: bad URL "ftp://example.org/feed.xml" (want an absolute http or https URL)
testdata/bad_url.bad.yaml:7: sources[2].url: required
testdata/bad_url.bad.yaml:10: sinks[0].secret: required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true
testdata/bad_url.bad.yaml:12: sinks[0].url: bad URL "/relative/path" (want an absolute http or https URL)`},
		{"duplicate_id.bad.yaml", `testdata/duplicate_id.bad.yaml:6: sources[2].id: duplicate source id "eff" (first at line 2)
testdata/duplicate_id.bad.yaml:9: sources[3].id: bad id "EFF Deeplinks" (want lower-case letters, digits, '.', '_' or '-', starting with a letter or digit)`},
		{"duplicate_key.bad.yaml", `testdata/duplicate_key.bad.yaml:4: sources[0].url: duplicate key (first at line 3)`},
		{"duplicate_sink.bad.yaml", `testdata/duplicate_sink.bad.yaml:7: sinks[1].secret: required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true
testdata/duplicate_sink.bad.yaml:7: sinks[1].name: duplicate sink name "out" (first at line 5)
testdata/duplicate_sink.bad.yaml:10: sinks[2].path: file "/home/test/.local/share/treatywatch/items.jsonl" is already written by sinks[0]`},
		{"empty.bad.yaml", `testdata/empty.bad.yaml:1: sources: at least one source is required
testdata/empty.bad.yaml:1: sinks: at least one sink is required`},
		{"misplaced.bad.yaml", `testdata/misplaced.bad.yaml:7: sinks[0].url: not used by sinks of type file
testdata/misplaced.bad.yaml:8: sinks[0].schedule: not used by sinks of type file
testdata/misplaced.bad.yaml:9: sinks[1].secret: required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true
testdata/misplaced.bad.yaml:12: sinks[1].format: not used by sinks of type webhook
testdata/misplaced.bad.yaml:17: sinks[2].transport.preset: not used by kind smtp
testdata/misplaced.bad.yaml:18: sinks[2].transport.token: not used by kind smtp
testdata/misplaced.bad.yaml:19: sinks[2].transport.from: bad email address "not an address"
testdata/misplaced.bad.yaml:21: sinks[2].transport.smtp.port: must be between 1 and 65535, got 70000
testdata/misplaced.bad.yaml:21: sinks[2].transport.smtp.username: required when a password is set`},
		{"missing_required.bad.yaml", `testdata/missing_required.bad.yaml:2: sources[0].id: required
testdata/missing_required.bad.yaml:3: sources[1].page: required for kind page (at least item and link selectors)
testdata/missing_required.bad.yaml:9: sources[2].page.item: required (a CSS selector)
testdata/missing_required.bad.yaml:9: sources[2].page.link: required (a CSS selector)
testdata/missing_required.bad.yaml:12: sinks[0].url: required for webhook sinks
testdata/missing_required.bad.yaml:12: sinks[0].secret: required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true
testdata/missing_required.bad.yaml:14: sinks[1].transport: required for digest sinks (kind webhook or smtp)
testdata/missing_required.bad.yaml:16: sinks[2].name: required
testdata/missing_required.bad.yaml:19: sinks[3].transport.token: required for preset postmark
testdata/missing_required.bad.yaml:19: sinks[3].transport.from: required for preset postmark
testdata/missing_required.bad.yaml:19: sinks[3].transport.to: at least one recipient is required for preset postmark`},
		{"sink_enums.bad.yaml", `testdata/sink_enums.bad.yaml:6: sinks[0].type: unknown sink type "email" (want file, webhook or digest)
testdata/sink_enums.bad.yaml:9: sinks[1].format: unknown format "xml" (want jsonl, csv or atom)
testdata/sink_enums.bad.yaml:12: sinks[2].empty: unknown mode "always" (want skip or notify)
testdata/sink_enums.bad.yaml:15: sinks[2].transport.preset: unknown preset "mailgun" (want generic, postmark, sendgrid, slack, discord, teams or ntfy)
testdata/sink_enums.bad.yaml:20: sinks[3].transport.kind: unknown transport kind "pigeon" (want webhook or smtp)`},
		{"syntax.bad.yaml", `testdata/syntax.bad.yaml:3: bad YAML: mapping values are not allowed in this context`},
		{"unknown_key.bad.yaml", `testdata/unknown_key.bad.yaml:4: sources[0].shedule: unknown field (did you mean "schedule"?)
testdata/unknown_key.bad.yaml:8: sinks[0].colour: unknown field`},
		{"unset_env.bad.yaml", `testdata/unset_env.bad.yaml:10: sinks[0].secret: environment variable TW_TEST_UNSET_SECRET is not set
testdata/unset_env.bad.yaml:13: sinks[1].url: bad environment variable name "bad-name"`},
		{"wrong_shape.bad.yaml", `testdata/wrong_shape.bad.yaml:2: sources: want a list, got a mapping
testdata/wrong_shape.bad.yaml:5: sinks[0]: want a mapping, got a scalar
testdata/wrong_shape.bad.yaml:6: http: want a mapping, got a scalar`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := parseFile(t, filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatalf("no error, config %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config returned along with the error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error mismatch\ngot:\n%s\nwant:\n%s", got, tt.want)
			}
			// Each joined error is an *Error naming the file and a line.
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				var ce *Error
				if !errors.As(e, &ce) {
					t.Errorf("%v is not a *config.Error", e)
					continue
				}
				if ce.File != filepath.Join("testdata", tt.file) || ce.Line < 1 {
					t.Errorf("%v: file %q line %d", e, ce.File, ce.Line)
				}
			}
		})
	}
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no expected error in the table", f)
		}
	}
	if len(files) < 12 {
		t.Errorf("only %d bad files", len(files))
	}
}

func TestGoodFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("only %d good files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := parseFile(t, f)
			if err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
			if len(cfg.Sources) == 0 || len(cfg.Sinks) == 0 {
				t.Fatalf("empty config: %+v", cfg)
			}
		})
	}
}

func TestMinimalDefaults(t *testing.T) {
	cfg, err := parseFile(t, "testdata/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.DataDir(), "/home/test/.local/share/treatywatch"; got != want {
		t.Errorf("DataDir = %q, want %q", got, want)
	}
	want := Defaults{Schedule: "@every 30m", Timeout: Duration(30 * time.Second), MaxBody: 10 * MiB, MinWords: 80}
	if cfg.Defaults != want {
		t.Errorf("Defaults = %+v, want %+v", cfg.Defaults, want)
	}
	if h := cfg.HTTP; h.PerHost != 1 || h.HostInterval.D() != time.Second || h.MaxRedirects != 5 {
		t.Errorf("HTTP = %+v", h)
	}
	if cfg.Contact != DefaultContact {
		t.Errorf("Contact = %q", cfg.Contact)
	}
	s := cfg.Sources[0]
	if s.Kind != fetch.KindFeed || s.Name != "eff" {
		t.Errorf("source defaults: kind %q name %q", s.Kind, s.Name)
	}
	k := cfg.Sinks[0]
	if k.Format != FormatJSONL || k.Path != "/home/test/.local/share/treatywatch/items.jsonl" {
		t.Errorf("file sink defaults: format %q path %q", k.Format, k.Path)
	}
}

func TestPageWebhookFile(t *testing.T) {
	cfg, err := parseFile(t, "testdata/page_webhook.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.DataDir(), filepath.Join("testdata", "state"); got != want {
		t.Errorf("DataDir = %q, want %q (relative to the file)", got, want)
	}
	if got, want := cfg.Classify.Rules, filepath.Join("testdata", "rules", "uncc.yaml"); got != want {
		t.Errorf("Classify.Rules = %q, want %q", got, want)
	}
	// Explicit zeros stay zero.
	if cfg.Defaults.MinWords != 0 || cfg.HTTP.MaxRedirects != 0 {
		t.Errorf("explicit zeros replaced: min_words %d, max_redirects %d", cfg.Defaults.MinWords, cfg.HTTP.MaxRedirects)
	}
	src, ok := cfg.Source("techaccord")
	if !ok {
		t.Fatal("source techaccord missing")
	}
	got := src.FetchSource(cfg.Defaults)
	want := fetch.Source{
		ID:    "techaccord",
		Kind:  fetch.KindPage,
		URL:   "https://cybertechaccord.org/press-releases/",
		Name:  "Cybersecurity Tech Accord",
		Lang:  "en",
		Actor: "Cybersecurity Tech Accord",
		Headers: map[string]string{
			"Cookie":          "consent=yes; session=s3ss10n-value",
			"Accept-Language": "en",
			"X-Literal":       "${NOT_EXPANDED}",
		},
		Proxy:   "socks5://127.0.0.1:1080",
		Charset: "windows-1252",
		Timeout: 45 * time.Second,
		MaxBody: 512 << 10,
		Page: &fetch.PageSelectors{
			Item:       "article.post, div.press-release",
			Link:       "h2 > a[href]",
			Title:      "h2",
			Date:       "time[datetime]",
			DateLayout: "January 2, 2006",
			Summary:    "div.excerpt p:first-of-type",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FetchSource =\n%+v\nwant\n%+v", got, want)
	}
	eff := src.Effective(cfg.Defaults)
	if eff != (Effective{Schedule: "@hourly", Timeout: 45 * time.Second, MaxBody: 512 << 10, MinWords: 120, DeliverExisting: false}) {
		t.Errorf("Effective = %+v", eff)
	}
	icj, _ := cfg.Source("icj")
	if e := icj.Effective(cfg.Defaults); e != (Effective{Schedule: "*/15 * * * *", Timeout: 20 * time.Second, MaxBody: 2 << 20, MinWords: 0, DeliverExisting: true}) {
		t.Errorf("icj Effective = %+v", e)
	}
	if !icj.Disabled {
		t.Error("icj not disabled")
	}
	fs := icj.FetchSource(cfg.Defaults)
	if fs.Page != nil || fs.Archive == nil || *fs.Archive != (fetch.Archive{PageParam: "paged", MaxPages: 5, Sitemap: "https://www.icj.org/sitemap.xml"}) {
		t.Errorf("icj FetchSource page %+v archive %+v", fs.Page, fs.Archive)
	}
	hook := cfg.Sinks[0]
	if hook.Secret != "s3cr3t-value" || hook.URL != "https://hooks.example.org/treatywatch?api_key=k3y-value" || hook.Timeout.D() != 5*time.Second {
		t.Errorf("webhook sink = %+v", hook)
	}
	if csv := cfg.Sinks[1]; csv.Path != filepath.Join("testdata", "out", "items.csv") || csv.Format != FormatCSV {
		t.Errorf("csv sink = %+v", csv)
	}
	var prefixes []string
	for _, p := range cfg.HTTP.AllowedPrefixes() {
		prefixes = append(prefixes, p.String())
	}
	if want := []string{"127.0.0.0/8", "::1/128", "10.20.0.0/16", "::1/128"}; !slices.Equal(prefixes, want) {
		t.Errorf("AllowedPrefixes = %v, want %v", prefixes, want)
	}
}

func TestDigestFiles(t *testing.T) {
	cfg, err := parseFile(t, "testdata/digest_smtp.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Sinks[1]
	if d.Type != SinkDigest || d.Schedule != "0 8 * * 1-5" || d.Empty != EmptyNotify || d.Timeout.D() != 30*time.Second {
		t.Errorf("digest = %+v", d)
	}
	if d.Location().String() != "Europe/Berlin" {
		t.Errorf("Location = %v", d.Location())
	}
	if d.TemplateHTML != filepath.Join("testdata", "templates", "digest.html.tmpl") {
		t.Errorf("TemplateHTML = %q", d.TemplateHTML)
	}
	tr := d.Transport
	if tr == nil || tr.Kind != TransportSMTP || tr.SMTP == nil {
		t.Fatalf("transport = %+v", tr)
	}
	if m := tr.SMTP; m.Host != "smtp.example.org" || m.Port != 2525 || m.Password != "smtp-pa55-value" || m.UseStartTLS() {
		t.Errorf("smtp = %+v", m)
	}
	if !slices.Equal(tr.To, []string{"analyst@example.org", "Desk <desk@example.org>"}) {
		t.Errorf("to = %v", tr.To)
	}

	cfg, err = parseFile(t, "testdata/digest_presets.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantURL := map[string]string{
		"generic":  "https://mail-relay.example.org/send",
		"postmark": PostmarkURL,
		"sendgrid": SendGridURL,
		"slack":    "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
	}
	for _, s := range cfg.Sinks {
		if s.Transport.URL != wantURL[s.Name] || s.Transport.Preset != s.Name {
			t.Errorf("%s: preset %q url %q", s.Name, s.Transport.Preset, s.Transport.URL)
		}
		if s.Schedule == "" || s.Timezone == "" || s.Empty != EmptySkip {
			t.Errorf("%s: defaults not applied: %+v", s.Name, s)
		}
	}
	if loc := cfg.Sinks[2].Location(); loc.String() != "Asia/Ho_Chi_Minh" {
		t.Errorf("Location = %v", loc)
	}
}

func TestDefault(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TREATYWATCH_DATA_DIR", dir)
	cfg, err := Default()
	if err != nil {
		t.Fatalf("embedded default does not load:\n%v", err)
	}
	if cfg.DataDir() != dir {
		t.Errorf("DataDir = %q, want %q", cfg.DataDir(), dir)
	}
	if n := len(cfg.Sources); n < 25 {
		t.Errorf("%d sources, want at least 25", n)
	}
	urls := map[string]string{}
	for _, s := range cfg.Sources {
		if (s.Kind != fetch.KindFeed && s.Kind != fetch.KindTreaty) || s.Lang == "" || s.Name == s.ID || s.Disabled {
			t.Errorf("source %s: kind %q lang %q name %q disabled %v", s.ID, s.Kind, s.Lang, s.Name, s.Disabled)
		}
		if prev, dup := urls[s.URL]; dup {
			t.Errorf("sources %s and %s share %s", prev, s.ID, s.URL)
		}
		urls[s.URL] = s.ID
	}
	for _, id := range []string{"un-news-en", "un-press", "eff", "hrw", "gnews-reuters", "gnews-ap", "tass", "kommersant"} {
		if _, ok := cfg.Source(id); !ok {
			t.Errorf("source %s missing", id)
		}
	}
	if s, _ := cfg.Source("eff"); s.Actor != "Electronic Frontier Foundation" {
		t.Errorf("eff actor %q", s.Actor)
	}
	if s, _ := cfg.Source("the-register"); s.Actor != "" {
		t.Errorf("press source has actor %q", s.Actor)
	}
	if s, _ := cfg.Source("gnews-reuters"); !strings.Contains(s.URL, "site:reuters.com") || s.Archive == nil || s.Archive.Query == "" {
		t.Errorf("gnews-reuters = %+v", s)
	}
	if len(cfg.Sinks) != 1 {
		t.Fatalf("%d sinks, want 1", len(cfg.Sinks))
	}
	if k := cfg.Sinks[0]; k.Type != SinkFile || k.Format != FormatJSONL || k.Path != filepath.Join(dir, "items.jsonl") {
		t.Errorf("default sink = %+v", k)
	}
}

func TestDataDirResolution(t *testing.T) {
	const doc = "sources: [{id: a, url: 'https://a.example/feed'}]\nsinks: [{name: f, type: file}]\n"
	tests := []struct {
		name string
		env  map[string]string
		want string
		err  string
	}{
		{"explicit env", map[string]string{"TREATYWATCH_DATA_DIR": "/srv/tw", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/srv/tw", ""},
		{"xdg", map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/treatywatch", ""},
		{"relative xdg ignored", map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/h"}, "/h/.local/share/treatywatch", ""},
		{"home", map[string]string{"HOME": "/h"}, "/h/.local/share/treatywatch", ""},
		{"nothing", map[string]string{}, "", "c.yaml:1: data_dir: no data directory: set data_dir, $TREATYWATCH_DATA_DIR, $XDG_DATA_HOME or $HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			cfg, err := parse("c.yaml", []byte(doc), env)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DataDir() != tt.want {
				t.Errorf("DataDir = %q, want %q", cfg.DataDir(), tt.want)
			}
		})
	}
}

func TestHomeInPaths(t *testing.T) {
	doc := "data_dir: ~/tw\nclassify: {rules: ~/rules.yaml}\nsources: [{id: a, url: 'https://a.example/'}]\nsinks: [{name: f, type: file, path: ../out.jsonl}]\n"
	cfg, err := parse("/etc/treatywatch/config.yaml", []byte(doc), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir() != "/home/test/tw" || cfg.Classify.Rules != "/home/test/rules.yaml" || cfg.Sinks[0].Path != "/etc/out.jsonl" {
		t.Errorf("data_dir %q rules %q path %q", cfg.DataDir(), cfg.Classify.Rules, cfg.Sinks[0].Path)
	}
	noHome := func(string) (string, bool) { return "", false }
	_, err = parse("c.yaml", []byte(doc), noHome)
	if want := "c.yaml:1: data_dir: cannot expand ~: $HOME is not set\nc.yaml:2: classify.rules: cannot expand ~: $HOME is not set"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestExpandEnv(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "alpha", "EMPTY": "", "N": "3"}[k]
		return v, ok
	}
	tests := []struct {
		in, want, err string
	}{
		{"plain", "plain", ""},
		{"${A}", "alpha", ""},
		{"x-${A}-${A}-y", "x-alpha-alpha-y", ""},
		{"${EMPTY}", "", ""},
		{"$A stays", "$A stays", ""},
		{"$${A}", "${A}", ""},
		{"cost: $5", "cost: $5", ""},
		{"${MISSING}", "", "environment variable MISSING is not set"},
		{"${A", "", `unterminated ${ in "${A"`},
		{"${1X}", "", `bad environment variable name "1X"`},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, env)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("expandEnv(%q) err = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEnvInConfig(t *testing.T) {
	t.Setenv("TW_TEST_HOOK_SECRET", "hunter2")
	t.Setenv("TW_TEST_PER_HOST", "4")
	t.Setenv("TW_TEST_TIMEOUT", "12s")
	t.Setenv("TREATYWATCH_DATA_DIR", t.TempDir())
	doc := `http:
  per_host: ${TW_TEST_PER_HOST}
sources:
  - id: a
    url: https://a.example/feed
    timeout: ${TW_TEST_TIMEOUT}
    name: "quoted ${TW_TEST_PER_HOST}"
sinks:
  - name: hook
    type: webhook
    url: https://hooks.example/x
    secret: ${TW_TEST_HOOK_SECRET}
    headers: {X-Token: "t-${TW_TEST_HOOK_SECRET}"}
`
	cfg, err := Parse("env.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.PerHost != 4 || cfg.Sources[0].Timeout.D() != 12*time.Second || cfg.Sources[0].Name != "quoted 4" {
		t.Errorf("expanded values: per_host %d timeout %s name %q", cfg.HTTP.PerHost, cfg.Sources[0].Timeout, cfg.Sources[0].Name)
	}
	if s := cfg.Sinks[0]; s.Secret != "hunter2" || s.Headers["X-Token"] != "t-hunter2" {
		t.Errorf("sink = %+v", s)
	}
	out, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") {
		t.Errorf("secret in Marshal output:\n%s", out)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type input struct {
		name string
		data []byte
	}
	inputs := []input{{"default.yaml", DefaultYAML()}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{f, data})
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in.name), func(t *testing.T) {
			c1, err := parse(in.name, in.data, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c1.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secretValues {
				if strings.Contains(string(out), s) {
					t.Errorf("Marshal output contains secret %q:\n%s", s, out)
				}
			}
			c2, err := parse("effective.yaml", out, testEnv)
			if err != nil {
				t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
			}
			if want := c1.redacted(); !reflect.DeepEqual(c2, want) {
				t.Errorf("round trip differs\nparsed back: %+v\nwant:        %+v\nyaml:\n%s", c2, want, out)
			}
			out2, err := c2.Marshal()
			if err != nil || string(out2) != string(out) {
				t.Errorf("second Marshal differs (err %v):\n%s", err, out2)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	cfg, err := parseFile(t, "testdata/page_webhook.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.redacted()
	if r.Sinks[0].Secret != Redacted || r.Sinks[0].Headers["Authorization"] != Redacted || r.Sinks[0].Headers["X-Team"] != "policy" {
		t.Errorf("sink not redacted as expected: %+v", r.Sinks[0])
	}
	if got, want := r.Sinks[0].URL, "https://hooks.example.org/treatywatch?api_key=***"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if r.Sources[0].Headers["Cookie"] != Redacted || r.Sources[0].Headers["Accept-Language"] != "en" {
		t.Errorf("source headers = %v", r.Sources[0].Headers)
	}
	// The original is untouched.
	if cfg.Sinks[0].Secret != "s3cr3t-value" || cfg.Sources[0].Headers["Cookie"] == Redacted {
		t.Error("redacted() changed the original config")
	}
	for _, tt := range []struct{ in, want string }{
		{"http://user:pw@proxy.example:3128", "http://user:***@proxy.example:3128"},
		{"https://a.example/feed?author=5&keywords=x", "https://a.example/feed?author=5&keywords=x"},
		{"https://a.example/x?token=abc&q=1", "https://a.example/x?q=1&token=***"},
	} {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWindowsAndBudgets(t *testing.T) {
	cfg, err := parseFile(t, "testdata/windows_budgets.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	active := cfg.Sources[0].Active.Parsed()
	if active == nil || active.String() != "mon-fri 07:00-19:00 America/New_York" {
		t.Fatalf("active = %v", active)
	}
	// 2026-12-07 is a Monday; 12:00 UTC is 07:00 in New York.
	if mon := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC); !active.Contains(mon) || active.Contains(mon.Add(-time.Minute)) {
		t.Errorf("active window does not open at 07:00 New York time")
	}
	if cfg.Sources[1].Active.Parsed().Contains(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("06:00-01:00 contains 03:00")
	}
	if cfg.Sources[1].Active.Parsed().Location() != time.UTC {
		t.Errorf("window time zone does not default to UTC")
	}
	want := map[string]Size{"hook": 64 * KiB, "team-chat": 28 * KiB, "phone": 4096, "discord": 6000, "mail": DefaultSMTPMaxBytes}
	for _, s := range cfg.Sinks {
		if s.MaxBytes != want[s.Name] {
			t.Errorf("%s: max_bytes = %d, want %d", s.Name, s.MaxBytes, want[s.Name])
		}
	}
	if q := cfg.Sinks[1].Quiet.Parsed(); q == nil || !q.Contains(time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC)) {
		t.Errorf("quiet 22:00-07:00 Berlin does not contain 00:30 Berlin")
	}
	if cfg.Sources[0].Active != nil && (*Window)(nil).Parsed() != nil {
		t.Error("a nil window parses")
	}
}

func TestRedactChatURLs(t *testing.T) {
	for _, f := range []string{"testdata/digest_presets.good.yaml", "testdata/windows_budgets.good.yaml"} {
		cfg, err := parseFile(t, f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := cfg.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		for _, bad := range []string{"%2A", "XXXXSECRET", "treatywatch-secret-topic", "IncomingWebhook"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: config output contains %q:\n%s", f, bad, text)
			}
		}
		for _, want := range []string{"https://hooks.slack.com/***", "https://discord.com/***", "https://ntfy.sh/***"} {
			if strings.Contains(f, "presets") != strings.Contains(want, "slack") {
				continue
			}
			if !strings.Contains(text, "url: "+want+"\n") {
				t.Errorf("%s: config output lacks %q:\n%s", f, want, text)
			}
		}
	}
}

func TestLoad(t *testing.T) {
	t.Setenv("TREATYWATCH_DATA_DIR", t.TempDir())
	if _, err := Load("testdata/minimal.good.yaml"); err != nil {
		t.Errorf("Load: %v", err)
	}
	_, err := Load("testdata/does-not-exist.yaml")
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "testdata/does-not-exist.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		spec string
		ok   bool
	}{
		{"@every 30m", true},
		{"@hourly", true},
		{"@daily", true},
		{"0 8 * * *", true},
		{"*/15 * * * *", true},
		{"0 8 * * 1-5", true},
		{"0 */6 * * *", true},
		{"CRON_TZ=Europe/Berlin 0 8 * * *", true},
		{"*/59 * * * *", true},
		{"*/61 * * * *", false},
		{"0 */24 * * *", false},
		{"0 0 */12 */13 *", false},
		{"0 8 * *", false},
		{"0 0 0 8 * * *", false},
		{"@every", false},
		{"@fortnightly", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := ParseSchedule(tt.spec)
		if (err == nil) != tt.ok {
			t.Errorf("ParseSchedule(%q) err = %v, want ok=%v", tt.spec, err, tt.ok)
		}
	}
}

func TestUnits(t *testing.T) {
	sizes := []struct {
		in   string
		want Size
		str  string
		ok   bool
	}{
		{"10MiB", 10 * MiB, "10MiB", true},
		{"512KiB", 512 * KiB, "512KiB", true},
		{"1GiB", GiB, "1GiB", true},
		{"1536KiB", 1536 * KiB, "1536KiB", true},
		{"2048", 2 * KiB, "2KiB", true},
		{"100B", 100, "100", true},
		{" 3 MiB ", 3 * MiB, "3MiB", true},
		{"10MB", 0, "", false},
		{"-1", 0, "", false},
		{"1.5MiB", 0, "", false},
		{"", 0, "", false},
		{"99999999999GiB", 0, "", false},
	}
	for _, tt := range sizes {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
			continue
		}
		if tt.ok && got.String() != tt.str {
			t.Errorf("Size(%d).String() = %q, want %q", got, got.String(), tt.str)
		}
	}
	durations := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"0", 0, true},
		{"5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range durations {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestValidateInCode(t *testing.T) {
	t.Setenv("TREATYWATCH_DATA_DIR", t.TempDir())
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config does not validate in code: %v", err)
	}
	cfg.Sources = append(cfg.Sources, Source{ID: "eff", Kind: fetch.KindFeed, URL: "https://x.example/"})
	cfg.Sinks[0].Format = "yaml"
	err = cfg.Validate()
	want := `config: sources[41].id: duplicate source id "eff" (first at sources[8])
config: sinks[0].format: unknown format "yaml" (want jsonl, csv or atom)`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestSuggest(t *testing.T) {
	fields := yamlFields(reflect.TypeFor[Source]())
	for _, tt := range []struct{ in, want string }{
		{"shedule", "schedule"},
		{"urll", "url"},
		{"ID", ""}, // too short to guess from
		{"completely_different", ""},
	} {
		if got := suggest(tt.in, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoadMakesPathsAbsolute(t *testing.T) {
	if _, err := Load("testdata/page_webhook.good.yaml"); err == nil {
		t.Fatal("expected the unset TW_TEST_* variables to be reported")
	}
	t.Setenv("TW_TEST_SESSION", "s")
	t.Setenv("TW_TEST_KEY", "k")
	t.Setenv("TW_TEST_SECRET", "x")
	cfg, err := Load("testdata/page_webhook.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "testdata", "state"); cfg.DataDir() != want {
		t.Errorf("DataDir = %q, want %q", cfg.DataDir(), want)
	}
}

// TestInline covers decoder cases that need no fixture file.
func TestInline(t *testing.T) {
	const src = "sources: [{id: a, url: 'https://a.example/feed'}]\n"
	const sink = "sinks: [{name: f, type: file}]\n"
	tests := []struct {
		name, doc, want string
	}{
		{"two documents", src + sink + "---\nsources: []\n", "x.yaml:3: more than one YAML document"},
		{"merge key", "base: &b {type: file}\n" + src + "sinks:\n  - <<: *b\n    name: f\n",
			"x.yaml:1: base: unknown field\nx.yaml:4: sinks[0]: merge keys (<<) are not supported"},
		{"nested unknown", src + "sinks:\n  - name: d\n    type: digest\n    transport:\n      kind: smtp\n      to: [a@b.example]\n      from: c@d.example\n      smtp: {host: h, prot: 25}\n",
			`x.yaml:9: sinks[0].transport.smtp.prot: unknown field (did you mean "port"?)`},
		{"headers not a map", "sources: [{id: a, url: 'https://a.example/', headers: [x]}]\n" + sink,
			`x.yaml:1: sources[0].headers: want a mapping of names to strings, got a list`},
		{"to not a list", src + "sinks:\n  - name: d\n    type: digest\n    transport: {kind: smtp, to: {a: b}, from: c@d.example, smtp: {host: h}}\n",
			`x.yaml:5: sinks[0].transport.to: want a list of strings, got a mapping`},
		{"page key typo", "sources:\n  - id: p\n    kind: page\n    url: https://p.example/\n    page: {item: li, link: a, titel: h2}\n" + sink,
			`x.yaml:5: sources[0].page.titel: unknown field (did you mean "title"?)`},
		{"negative step", "defaults: {schedule: '*/0 * * * *'}\n" + src + sink,
			`x.yaml:1: defaults.schedule: bad cron spec "*/0 * * * *": step of range should be a positive number: */0`},
		{"local zone", src + "sinks: [{name: d, type: digest, timezone: Local, transport: {kind: webhook, preset: slack, url: 'https://hooks.example/x'}}]\n",
			`x.yaml:2: sinks[0].timezone: unknown time zone "Local" (want an IANA name such as "Europe/Berlin" or "UTC")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("x.yaml", []byte(tt.doc), testEnv)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
	// Anchors and aliases are fine.
	doc := "x-hdr: &h {Accept: text/xml}\n"
	if _, err := parse("x.yaml", []byte(doc+src+sink), testEnv); err == nil {
		t.Error("top-level x-hdr key accepted")
	}
	doc = "sources:\n  - id: a\n    url: https://a.example/\n    headers: &h {Accept: text/xml}\n  - id: b\n    url: https://b.example/\n    headers: *h\n" + sink
	cfg, err := parse("x.yaml", []byte(doc), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sources[1].Headers["Accept"] != "text/xml" {
		t.Errorf("alias not followed: %v", cfg.Sources[1].Headers)
	}
}

func TestWebhookSigningAndGuardOptOut(t *testing.T) {
	const head = "sources:\n  - id: a\n    url: https://a.example/feed\n"
	const file = "sinks:\n  - {name: f, type: file}\n"
	tests := []struct {
		name, doc, wantErr string
	}{
		{"secret", head + "sinks:\n  - {name: h, type: webhook, url: https://h.example/x, secret: k3y-value}\n", ""},
		{"unsigned said", head + "sinks:\n  - {name: h, type: webhook, url: https://h.example/x, unsigned: true}\n", ""},
		{"no secret", head + "sinks:\n  - {name: h, type: webhook, url: https://h.example/x}\n", "sinks[0].secret: required for webhook sinks"},
		{"both", head + "sinks:\n  - {name: h, type: webhook, url: https://h.example/x, secret: k, unsigned: true}\n", "remove one of them"},
		{"all v4", "http: {allow_private: [0.0.0.0/0]}\n" + head + file, "write \"all-addresses-unsafe\""},
		{"all v6", "http: {allow_private: [\"::/0\"]}\n" + head + file, "covers a large part"},
		{"half v4", "http: {allow_private: [0.0.0.0/1]}\n" + head + file, "covers a large part"},
		{"opt-out", "http: {allow_private: [all-addresses-unsafe]}\n" + head + file, ""},
		{"private ranges", "http: {allow_private: [private, loopback, 10.1.0.0/16]}\n" + head + file, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(tc.doc))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if tc.name == "opt-out" && len(cfg.HTTP.AllowedPrefixes()) != 2 {
				t.Errorf("opt-out prefixes: %v", cfg.HTTP.AllowedPrefixes())
			}
		})
	}
}
