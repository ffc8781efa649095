package config

import (
	"fmt"
	"maps"
	"net/mail"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones validate even on hosts without zoneinfo

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html/charset"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/text/language"

	"github.com/treatywatch/treatywatch/internal/schedule"
	"github.com/treatywatch/treatywatch/internal/window"
)

// ParseSchedule parses a cron spec the way the config validates it (see
// schedule.Parse).
func ParseSchedule(spec string) (schedule.Schedule, error) { return schedule.Parse(spec) }

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

const maxIDLen = 64

// validator checks a config after defaults; problems go to p.errs with the
// line of the field, or of the nearest enclosing field in the file.
type validator struct {
	p *parser
}

func (v *validator) add(path, format string, args ...any) {
	if v.p.hasFailed(path) {
		return // already reported by the decoder
	}
	v.p.errs = append(v.p.errs, &Error{File: v.p.file, Line: v.p.lineOf(path), Path: path, Msg: fmt.Sprintf(format, clipArgs(args)...)})
}

// where names the place of path for a message: its line when known.
func (v *validator) where(path string) string {
	if n := v.p.lineOf(path); n > 0 {
		return fmt.Sprintf("line %d", n)
	}
	return path
}

func (v *validator) config(c *Config) {
	v.contact("contact", c.Contact)
	if c.DataDirPath == "" && !v.p.hasFailed("data_dir") {
		v.add("data_dir", "required")
	}
	v.defaults("defaults", c.Defaults)
	v.http("http", c.HTTP)
	for _, f := range []struct {
		name string
		v    Size
	}{{"title", c.Fields.Title}, {"summary", c.Fields.Summary}, {"content", c.Fields.Content},
		{"author", c.Fields.Author}, {"url", c.Fields.URL}} {
		if f.v < minFieldCap {
			v.add("fields."+f.name, "must be at least %s, got %s", minFieldCap, f.v)
		}
	}
	v.store("store", c.Store)
	if r := c.Retention.Irrelevant.D(); r < 0 || (r > 0 && r < time.Hour) {
		v.add("retention.irrelevant", "must be 0 (keep) or at least 1h, got %s", c.Retention.Irrelevant)
	}

	if len(c.Sources) == 0 {
		v.add("sources", "at least one source is required")
	}
	ids := map[string]string{}
	for i, s := range c.Sources {
		path := fmt.Sprintf("sources[%d]", i)
		v.source(path, s)
		if s.ID == "" {
			continue
		}
		if first, dup := ids[s.ID]; dup {
			v.add(path+".id", "duplicate source id %q (first at %s)", s.ID, v.where(first))
		} else {
			ids[s.ID] = path
		}
	}

	v.dashboard("dashboard", c.Dashboard)

	if len(c.Sinks) == 0 {
		v.add("sinks", "at least one sink is required")
	}
	names := map[string]string{}
	files := map[string]string{}
	for i, s := range c.Sinks {
		path := fmt.Sprintf("sinks[%d]", i)
		v.sink(path, s)
		if s.Name != "" {
			if first, dup := names[s.Name]; dup {
				v.add(path+".name", "duplicate sink name %q (first at %s)", s.Name, v.where(first))
			} else {
				names[s.Name] = path
			}
		}
		if s.Type == SinkFile && s.Path != "" {
			if first, dup := files[s.Path]; dup {
				v.add(path+".path", "file %q is already written by %s", s.Path, first)
			} else {
				files[s.Path] = path
			}
		}
	}
}

func (v *validator) defaults(path string, d Defaults) {
	v.schedule(path+".schedule", d.Schedule)
	if d.Timeout <= 0 {
		v.add(path+".timeout", "must be positive, got %s", d.Timeout)
	}
	if d.MaxBody <= 0 {
		v.add(path+".max_body", "must be positive, got %s", d.MaxBody)
	}
	if d.MinWords < 0 {
		v.add(path+".min_words", "must not be negative, got %d", d.MinWords)
	}
	// Unset means the default; set, it must be positive.
	if d.Backoff < 0 || d.Backoff == 0 && v.p.present(path+".backoff") {
		v.add(path+".backoff", "must be positive, got %s", d.Backoff)
	}
	if d.BackoffMax < 0 || d.BackoffMax == 0 && v.p.present(path+".backoff_max") {
		v.add(path+".backoff_max", "must be positive, got %s", d.BackoffMax)
	}
	if b := d.SourceBackoff(); b.Base > 0 && b.Cap > 0 && b.Cap < b.Base {
		v.add(path+".backoff_max", "%s is below the backoff %s", b.Cap, b.Base)
	}
}

func (v *validator) http(path string, h HTTP) {
	if h.PerHost < 1 {
		v.add(path+".per_host", "must be at least 1, got %d", h.PerHost)
	}
	if h.HostInterval < 0 {
		v.add(path+".host_interval", "must not be negative, got %s", h.HostInterval)
	}
	if h.MaxRedirects < 0 {
		v.add(path+".max_redirects", "must not be negative, got %d", h.MaxRedirects)
	}
	if h.DNS != "" {
		if _, err := netip.ParseAddrPort(h.DNS); err != nil {
			v.add(path+".dns", "bad DNS server %q (want an IP address and port, e.g. \"10.0.0.2:53\")", h.DNS)
		}
	}
	for i, s := range h.AllowPrivate {
		ps, err := allowPrefixes(s)
		if err != nil {
			v.add(fmt.Sprintf("%s.allow_private[%d]", path, i), "%s", err.Error())
			continue
		}
		if s == AllowAllUnsafe {
			continue
		}
		for _, p := range ps {
			if p.Bits() < 7 || p.Addr().Is4() && p.Bits() < 8 {
				v.add(fmt.Sprintf("%s.allow_private[%d]", path, i),
					"%q covers a large part of all addresses, which turns the guard against requests to internal hosts off; list the ranges you need (\"loopback\", \"private\", 10.1.0.0/16), or write %q to turn the guard off knowingly", s, AllowAllUnsafe)
			}
		}
	}
}

func (v *validator) source(path string, s Source) {
	switch {
	case s.ID == "":
		v.add(path+".id", "required")
	case len(s.ID) > maxIDLen:
		v.add(path+".id", "%q is longer than %d characters", s.ID, maxIDLen)
	case !idPattern.MatchString(s.ID):
		v.add(path+".id", "bad id %q (want lower-case letters, digits, '.', '_' or '-', starting with a letter or digit)", s.ID)
	}
	switch s.Kind {
	case "feed", "page", "treaty":
	default:
		v.add(path+".kind", "unknown kind %q (want feed, page or treaty)", s.Kind)
	}
	v.httpURL(path+".url", s.URL)
	if s.Schedule != "" {
		v.schedule(path+".schedule", s.Schedule)
	}
	if s.Lang != "" {
		if _, err := language.Parse(s.Lang); err != nil {
			v.add(path+".lang", "bad language tag %q (want BCP 47, e.g. \"en\" or \"pt-BR\")", s.Lang)
		}
	}
	v.headers(path+".headers", s.Headers)
	if s.Proxy != "" {
		u, err := url.Parse(s.Proxy)
		if err != nil || u.Host == "" || !oneOf(u.Scheme, "http", "https", "socks5", "socks5h") {
			v.add(path+".proxy", "bad proxy URL %q (want http, https, socks5 or socks5h with a host)", s.Proxy)
		}
	}
	if s.Charset != "" {
		if enc, _ := charset.Lookup(s.Charset); enc == nil {
			v.add(path+".charset", "unknown charset %q", s.Charset)
		}
	}
	if s.Timeout < 0 {
		v.add(path+".timeout", "must not be negative, got %s", s.Timeout)
	}
	if s.MinWords != nil && *s.MinWords < 0 {
		v.add(path+".min_words", "must not be negative, got %d", *s.MinWords)
	}
	switch {
	case s.Kind == "page" && s.Page == nil:
		v.add(path+".page", "required for kind page (at least item and link selectors)")
	case s.Kind == "page":
		v.page(path+".page", *s.Page)
	case s.Kind != "page" && s.Page != nil:
		v.add(path+".page", "only for kind page")
	}
	if a := s.Archive; a != nil {
		v.archive(path+".archive", *a)
	}
	if s.Active != nil {
		v.window(path+".active", *s.Active)
	}
}

// window checks an active or quiet window field by field.
func (v *validator) window(path string, w Window) {
	if w.Days == "" && w.Hours == "" {
		v.add(path, "set days, hours or both (e.g. days: mon-fri, hours: \"07:00-19:00\")")
		return
	}
	if _, err := window.Parse(w.Days, "", ""); err != nil {
		v.add(path+".days", "%s", err.Error())
	}
	if _, err := window.Parse("", w.Hours, ""); err != nil {
		v.add(path+".hours", "%s", err.Error())
	}
	if _, err := window.Parse("", "", w.Timezone); err != nil {
		v.add(path+".timezone", "%s", err.Error())
	}
}

// minMaxBytes is the smallest body budget: below it even a record whose
// text fields are all cut may not fit.
const minMaxBytes = 1 * KiB

func (v *validator) page(path string, p Page) {
	for _, f := range []struct {
		key, sel string
		required bool
	}{
		{"item", p.Item, true},
		{"link", p.Link, true},
		{"title", p.Title, false},
		{"date", p.Date, false},
		{"summary", p.Summary, false},
	} {
		fp := path + "." + f.key
		if f.sel == "" {
			if f.required {
				v.add(fp, "required (a CSS selector)")
			}
			continue
		}
		if _, err := cascadia.Compile(f.sel); err != nil {
			v.add(fp, "bad CSS selector %q: %v", f.sel, err)
		}
	}
	if p.DateLayout != "" {
		// Any layout with a reference-time element formats some other
		// moment differently from the layout text itself.
		other := time.Date(1999, time.November, 28, 23, 58, 57, 0, time.FixedZone("X", 3600))
		if other.Format(p.DateLayout) == p.DateLayout {
			v.add(path+".date_layout", "%q is not a Go time layout (write the reference time, e.g. \"January 2, 2006\")", p.DateLayout)
		}
		if p.Date == "" {
			v.add(path+".date_layout", "needs a date selector")
		}
	}
}

var paramPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

func (v *validator) archive(path string, a Archive) {
	if a.PageParam != "" && !paramPattern.MatchString(a.PageParam) {
		v.add(path+".page_param", "bad query parameter name %q", a.PageParam)
	}
	if a.MaxPages < 0 {
		v.add(path+".max_pages", "must not be negative, got %d", a.MaxPages)
	}
	if a.Sitemap != "" {
		v.httpURL(path+".sitemap", a.Sitemap)
	}
}

// sinkFields lists the keys each sink type uses besides name and type.
var sinkFields = map[string][]string{
	SinkFile:    {"path", "format"},
	SinkWebhook: {"url", "secret", "unsigned", "timeout", "headers", "quiet", "max_bytes"},
	SinkDigest:  {"timeout", "schedule", "timezone", "empty", "template_html", "template_text", "transport", "quiet", "max_bytes"},
}

func (v *validator) sink(path string, s Sink) {
	switch {
	case s.Name == "":
		v.add(path+".name", "required")
	case len(s.Name) > maxIDLen || !idPattern.MatchString(s.Name):
		v.add(path+".name", "bad name %q (want lower-case letters, digits, '.', '_' or '-', at most %d)", s.Name, maxIDLen)
	}
	allowed, ok := sinkFields[s.Type]
	if !ok {
		if s.Type == "" {
			v.add(path+".type", "required (file, webhook or digest)")
		} else {
			v.add(path+".type", "unknown sink type %q (want file, webhook or digest)", s.Type)
		}
		return
	}
	v.unused(path, s, append([]string{"name", "type"}, allowed...), "sinks of type "+s.Type)
	if s.Quiet != nil {
		v.window(path+".quiet", *s.Quiet)
		if w := s.Quiet.Parsed(); w != nil && w.Always() {
			v.add(path+".quiet", "is quiet all the time: nothing would ever be sent")
		}
	}
	if _, set := v.p.lines[path+".max_bytes"]; (set || s.MaxBytes != 0) && s.MaxBytes < minMaxBytes {
		v.add(path+".max_bytes", "must be at least %s, got %s", minMaxBytes, s.MaxBytes)
	}
	switch s.Type {
	case SinkFile:
		if !oneOf(s.Format, FormatJSONL, FormatCSV, FormatAtom) {
			v.add(path+".format", "unknown format %q (want jsonl, csv or atom)", s.Format)
		}
	case SinkWebhook:
		if s.URL == "" {
			v.add(path+".url", "required for webhook sinks")
		} else {
			v.httpURL(path+".url", s.URL)
		}
		switch {
		case s.Secret == "" && !s.Unsigned:
			v.add(path+".secret", "required for webhook sinks, so that receivers can check the signature (set ${ENV_VAR}); to send unsigned requests say unsigned: true")
		case s.Secret != "" && s.Unsigned:
			v.add(path+".unsigned", "unsigned: true with a secret: remove one of them")
		}
		v.positive(path+".timeout", s.Timeout)
		v.headers(path+".headers", s.Headers)
	case SinkDigest:
		v.positive(path+".timeout", s.Timeout)
		v.schedule(path+".schedule", s.Schedule)
		if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" {
			v.add(path+".timezone", "unknown time zone %q (want an IANA name such as \"Europe/Berlin\" or \"UTC\")", s.Timezone)
		}
		if !oneOf(s.Empty, EmptySkip, EmptyNotify) {
			v.add(path+".empty", "unknown mode %q (want skip or notify)", s.Empty)
		}
		if s.Transport == nil {
			v.add(path+".transport", "required for digest sinks (kind webhook or smtp)")
		} else {
			v.transport(path+".transport", *s.Transport)
		}
	}
}

func (v *validator) transport(path string, t Transport) {
	switch t.Kind {
	case TransportWebhook:
		v.unused(path, t, []string{"kind", "preset", "url", "to", "from", "token"}, "kind webhook")
		if _, ok := presetMaxBytes[t.Preset]; !ok {
			v.add(path+".preset", "unknown preset %q (want generic, postmark, sendgrid, slack, discord, teams or ntfy)", t.Preset)
			return
		}
		if t.URL == "" {
			v.add(path+".url", "required for preset %s", t.Preset)
		} else {
			v.httpURL(path+".url", t.URL)
		}
		if oneOf(t.Preset, PresetPostmark, PresetSendGrid) {
			if t.Token == "" {
				v.add(path+".token", "required for preset %s", t.Preset)
			}
			if t.From == "" {
				v.add(path+".from", "required for preset %s", t.Preset)
			}
		}
		if chatPreset(t.Preset) && len(t.To) > 0 {
			v.add(path+".to", "not used by preset %s (the URL is the channel)", t.Preset)
		}
		if !chatPreset(t.Preset) && len(t.To) == 0 {
			v.add(path+".to", "at least one recipient is required for preset %s", t.Preset)
		}
	case TransportSMTP:
		v.unused(path, t, []string{"kind", "to", "from", "smtp"}, "kind smtp")
		if t.SMTP == nil {
			v.add(path+".smtp", "required for kind smtp (at least host)")
		} else {
			m := *t.SMTP
			if m.Host == "" {
				v.add(path+".smtp.host", "required")
			}
			if m.Port < 1 || m.Port > 65535 {
				v.add(path+".smtp.port", "must be between 1 and 65535, got %d", m.Port)
			}
			if m.Password != "" && m.Username == "" {
				v.add(path+".smtp.username", "required when a password is set")
			}
		}
		if t.From == "" {
			v.add(path+".from", "required for kind smtp")
		}
		if len(t.To) == 0 {
			v.add(path+".to", "at least one recipient is required")
		}
	case "":
		v.add(path+".kind", "required (webhook or smtp)")
		return
	default:
		v.add(path+".kind", "unknown transport kind %q (want webhook or smtp)", t.Kind)
		return
	}
	if t.From != "" {
		if _, err := mail.ParseAddress(t.From); err != nil {
			v.add(path+".from", "bad email address %q", t.From)
		}
	}
	for i, to := range t.To {
		if _, err := mail.ParseAddress(to); err != nil {
			v.add(fmt.Sprintf("%s.to[%d]", path, i), "bad email address %q", to)
		}
	}
}

// unused reports every non-zero field of the struct s whose key is not in
// allowed.
func (v *validator) unused(path string, s any, allowed []string, what string) {
	rv := reflect.ValueOf(s)
	for key, idx := range orderedFields(rv.Type()) {
		if oneOf(key, allowed...) || rv.Field(idx).IsZero() {
			continue
		}
		v.add(path+"."+key, "not used by %s", what)
	}
}

// orderedFields yields yaml key and field index in declaration order.
func orderedFields(t reflect.Type) func(func(string, int) bool) {
	return func(yield func(string, int) bool) {
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !yield(name, i) {
				return
			}
		}
	}
}

func (v *validator) schedule(path, spec string) {
	if _, err := ParseSchedule(spec); err != nil {
		v.add(path, "bad cron spec %q: %v", spec, err)
	}
}

func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.add(path, "must be positive, got %s", d)
	}
}

func (v *validator) httpURL(path, s string) {
	if s == "" {
		v.add(path, "required")
		return
	}
	if err := checkHTTPURL(s); err != nil {
		v.add(path, "%s", err.Error())
	}
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || !oneOf(u.Scheme, "http", "https") || u.Host == "" || strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("bad URL %q (want an absolute http or https URL)", s)
	}
	return nil
}

func (v *validator) contact(path, s string) {
	u, err := url.Parse(s)
	switch {
	case err == nil && u.Scheme == "mailto" && u.Opaque != "":
	case err == nil && oneOf(u.Scheme, "http", "https") && u.Host != "":
	default:
		v.add(path, "bad contact %q (want an http, https or mailto URL)", s)
	}
}

func (v *validator) headers(path string, h map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if !httpguts.ValidHeaderFieldName(k) {
			v.add(path+"."+k, "bad header name %q", k)
		} else if !httpguts.ValidHeaderFieldValue(h[k]) {
			v.add(path+"."+k, "bad header value (no control characters or line breaks)")
		}
	}
}

// AllowAllUnsafe is the allow_private entry that lets requests reach any
// address: the SSRF guard is off. A CIDR that covers as much is refused.
const AllowAllUnsafe = "all-addresses-unsafe"

// minFieldCap is the smallest cap a field may have.
const minFieldCap Size = 64

// allowPrefixes turns an allow_private entry into prefixes.
func allowPrefixes(s string) ([]netip.Prefix, error) {
	switch s {
	case AllowAllUnsafe:
		return mustPrefixes("0.0.0.0/0", "::/0"), nil
	case "loopback":
		return mustPrefixes("127.0.0.0/8", "::1/128"), nil
	case "private":
		return mustPrefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"), nil
	case "link-local":
		return mustPrefixes("169.254.0.0/16", "fe80::/10"), nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return []netip.Prefix{p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
	}
	return nil, fmt.Errorf("bad entry %q (want a CIDR, an IP address, \"loopback\", \"private\", \"link-local\" or \"%s\")", s, AllowAllUnsafe)
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }

func (v *validator) dashboard(path string, d Dashboard) {
	if !oneOf(d.Read, "", ReadLoopback, ReadOpen, ReadUsers) {
		v.add(path+".read", "%q: want loopback, open or users", d.Read)
	}
	names := map[string]bool{}
	for i, u := range d.Users {
		p := fmt.Sprintf("%s.users[%d]", path, i)
		if u.Name == "" {
			v.add(p+".name", "required")
		} else if names[u.Name] {
			v.add(p+".name", "duplicate user %q", u.Name)
		}
		names[u.Name] = true
		if !strings.HasPrefix(u.PasswordHash, "pbkdf2-sha256$") {
			v.add(p+".password_hash", "want the output of `treatywatch serve --hash-password` (pbkdf2-sha256$...), never the password itself")
		}
	}
}

func (v *validator) store(path string, s Store) {
	switch s.Driver {
	case StoreSQLite:
		if strings.HasPrefix(s.DSN, "postgres://") || strings.HasPrefix(s.DSN, "postgresql://") {
			v.add(path+".dsn", "a PostgreSQL URL with driver sqlite: set driver: postgres")
		}
	case StorePostgres:
		if s.DSN == "" {
			v.add(path+".dsn", "required for driver postgres (postgres://user@host:5432/treatywatch; a password as ${ENV_VAR})")
		} else if !strings.HasPrefix(s.DSN, "postgres://") && !strings.HasPrefix(s.DSN, "postgresql://") {
			v.add(path+".dsn", "want a postgres:// URL, got %q", redactURL(s.DSN))
		}
	default:
		v.add(path+".driver", "unknown driver %q: want sqlite or postgres", s.Driver)
	}
	if s.Lease.D() < time.Second {
		v.add(path+".lease", "%s is too short: want at least 1s (default 1m)", s.Lease)
	}
}
