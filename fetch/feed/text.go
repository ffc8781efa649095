package feed

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// plainText turns an HTML fragment (or plain text with entities) into
// plain text: tags dropped, script and style skipped, entities decoded,
// blocks separated, whitespace collapsed.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapse(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Script || a == atom.Style || a == atom.Template {
				skip++
			} else if blockTag[a] {
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if (a == atom.Script || a == atom.Style || a == atom.Template) && skip > 0 {
				skip--
			} else if blockTag[a] {
				b.WriteByte(' ')
			}
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			if blockTag[atom.Lookup(name)] {
				b.WriteByte(' ')
			}
		}
	}
}

// blockTag lists the elements that separate words.
var blockTag = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Table: true, atom.Tr: true, atom.Td: true, atom.Th: true, atom.Blockquote: true,
	atom.Pre: true, atom.Hr: true, atom.Dd: true, atom.Dt: true, atom.Dl: true,
	atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Figure: true, atom.Figcaption: true, atom.Img: true, atom.Aside: true, atom.Nav: true,
}

// collapse trims s and folds every run of white space into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// trackingParam reports whether a query parameter only tracks the reader.
func trackingParam(key string) bool {
	k := strings.ToLower(key)
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

// absURL resolves raw against base, unwraps Google redirect links and
// strips tracking parameters. It returns raw trimmed when it cannot be
// parsed.
func absURL(raw string, base *url.URL) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	raw = strings.ReplaceAll(raw, " ", "%20")
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return u.String()
	}
	u.Host = strings.ToLower(u.Host)
	if target := googleRedirect(u); target != nil {
		u = target
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		kept := parts[:0]
		for _, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if k, err := url.QueryUnescape(k); err == nil && trackingParam(k) {
				continue
			}
			kept = append(kept, p)
		}
		u.RawQuery = strings.Join(kept, "&")
	}
	return u.String()
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
