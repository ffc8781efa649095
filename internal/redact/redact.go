package redact

import (
	"encoding/base64"
	"errors"
	"maps"
	"net/url"
	"strings"
)

// Mask replaces a secret value.
const Mask = "***"

// SensitiveName reports whether a header or query parameter name looks
// like it carries a credential: one of its words (split on "-", "_", ".")
// is token, secret, key, password and the like.
func SensitiveName(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return r == '-' || r == '_' || r == '.' || r == ' '
	})
	for _, w := range words {
		switch w {
		case "authorization", "cookie", "token", "secret", "key", "apikey",
			"password", "passwd", "pwd", "sig", "signature", "auth",
			"credential", "credentials", "session":
			return true
		}
	}
	return false
}

// Headers returns a copy of h with the values of sensitive headers
// masked.
func Headers(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := maps.Clone(h)
	for k, v := range out {
		if SensitiveName(k) && v != "" {
			out[k] = Mask
		}
	}
	return out
}

// hookSegments are path segments after which chat services put the
// webhook's secret (Slack's /services/T/B/X, Discord's /api/webhooks/id/token,
// Teams' /webhookb2/...).
var hookSegments = []string{"services", "hooks", "webhooks", "webhookb2", "workflows"}

// URL masks the credentials of a URL: the password of the user info, the
// values of query parameters with sensitive names and the path after a
// chat webhook's "services"/"hooks"/"webhooks" segment. Text that does not
// parse as a URL is returned unchanged (Scrubber still catches the
// secrets in it).
func URL(raw string) string {
	if raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
			changed = true
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		qChanged := false
		for k := range q {
			if SensitiveName(k) {
				q[k] = []string{Mask}
				qChanged = true
			}
		}
		if qChanged {
			u.RawQuery = q.Encode()
			changed = true
		}
	}
	if p := hookPath(u.Path); p != u.Path {
		u.Path, u.RawPath = p, ""
		changed = true
	}
	if !changed {
		return raw
	}
	return strings.ReplaceAll(u.String(), "%2A%2A%2A", Mask)
}

// hookPath cuts a path after its first webhook segment, when more
// follows it.
func hookPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		for _, h := range hookSegments {
			if strings.EqualFold(s, h) && i+1 < len(segs) && segs[i+1] != "" {
				return strings.Join(segs[:i+1], "/") + "/" + Mask
			}
		}
	}
	return p
}

// Secrets returns the credential parts of a URL (password and the Basic
// credentials made of it, sensitive query values, the secret path of a
// chat webhook), for a Scrubber.
func Secrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil
	}
	var out []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			// The Basic Authorization header a client builds from it is
			// as good as the password.
			out = append(out, p, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)))
		}
	}
	for k, vs := range u.Query() {
		if SensitiveName(k) {
			out = append(out, vs...)
		}
	}
	if p := hookPath(u.Path); p != u.Path {
		cut := strings.TrimSuffix(p, Mask)
		out = append(out, strings.TrimPrefix(u.Path, cut))
	}
	return out
}

// URLError masks the URL inside a *url.Error (what net/http returns for a
// failed request, printing its URL in full) and returns err.
func URLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = URL(ue.URL)
	}
	return err
}
