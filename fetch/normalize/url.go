package normalize

import (
	"net/url"
	"strings"
)

// TrackingParam reports whether a query parameter only tracks the
// reader (a campaign, a click id) and says nothing about the page.
func TrackingParam(name string) bool {
	k := strings.ToLower(name)
	if strings.HasPrefix(k, "utm_") {
		return true
	}
	switch k {
	case "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
		"mc_cid", "mc_eid", "_hsenc", "_hsmi":
		return true
	}
	return false
}

// Link resolves raw against base (nil: raw must be absolute), unwraps a
// Google redirect link, lower-cases the host and drops tracking
// parameters; the rest, the fragment included, is kept. Links that are
// not http(s) come back resolved and otherwise untouched; a link that
// does not parse comes back trimmed.
func Link(raw string, base *url.URL) string {
	u, _ := parse(raw, base)
	if u == nil {
		return strings.TrimSpace(raw)
	}
	return u.String()
}

// Canonical returns the identity form of raw, an absolute link: Link,
// plus the scheme in lower case, the default port and the fragment
// dropped and an empty path written "/". What is left of the query is
// kept byte for byte, so links whose meaning depends on it stay apart.
// A string that is not an http(s) link comes back trimmed.
func Canonical(raw string) string {
	u, ok := parse(raw, nil)
	if !ok {
		return strings.TrimSpace(raw)
	}
	return canonical(u)
}

// CanonicalURL is Canonical for a parsed absolute link.
func CanonicalURL(u *url.URL) string {
	c := *u
	if !web(&c) {
		return c.String()
	}
	clean(&c)
	return canonical(&c)
}

// WebLink reports whether raw is an absolute http(s) link.
func WebLink(raw string) bool {
	_, ok := parse(raw, nil)
	return ok
}

// parse resolves raw and cleans it; ok is false when the result is not
// an absolute http(s) link (u is nil when raw does not parse).
func parse(raw string, base *url.URL) (u *url.URL, ok bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, false
	}
	if strings.ContainsAny(raw, "\t\n\r") {
		raw = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(raw)
	}
	raw = strings.ReplaceAll(raw, " ", "%20")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if !web(u) {
		return u, false
	}
	clean(u)
	return u, true
}

func web(u *url.URL) bool {
	s := strings.ToLower(u.Scheme)
	return (s == "http" || s == "https") && u.Host != ""
}

// clean lower-cases the host, unwraps a Google redirect and drops
// tracking parameters, in place.
func clean(u *url.URL) {
	u.Host = strings.ToLower(u.Host)
	if target := googleRedirect(u); target != nil {
		*u = *target
		u.Host = strings.ToLower(u.Host)
	}
	if u.RawQuery == "" {
		return
	}
	parts := strings.Split(u.RawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(k); err == nil && TrackingParam(k) {
			continue
		}
		kept = append(kept, p)
	}
	u.RawQuery = strings.Join(kept, "&")
}

// canonical writes a cleaned web link in its identity form.
func canonical(u *url.URL) string {
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	if port := c.Port(); (c.Scheme == "http" && port == "80") || (c.Scheme == "https" && port == "443") {
		c.Host = strings.TrimSuffix(c.Host, ":"+port)
	}
	c.Fragment, c.RawFragment = "", ""
	if c.Path == "" && c.Opaque == "" {
		c.Path = "/"
	}
	c.ForceQuery = false
	return c.String()
}

// googleRedirect returns the target of a google.com/url?url=... wrapper
// (Google Alerts links), or nil.
func googleRedirect(u *url.URL) *url.URL {
	host := strings.TrimPrefix(u.Hostname(), "www.")
	if host != "google.com" || u.Path != "/url" {
		return nil
	}
	q := u.Query()
	for _, k := range []string{"url", "q"} {
		if t, err := url.Parse(q.Get(k)); err == nil && (t.Scheme == "http" || t.Scheme == "https") && t.Host != "" {
			return t
		}
	}
	return nil
}
