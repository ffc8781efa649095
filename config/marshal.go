package config

import (
	"bytes"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/treatywatch/treatywatch/internal/redact"
)

// Redacted replaces secret values.
const Redacted = redact.Mask

// Marshal returns the effective config (defaults applied, paths resolved)
// as YAML, with secrets replaced by "***": webhook secrets, API tokens,
// SMTP passwords, passwords in URLs, sensitive headers (Authorization,
// Cookie, anything naming a token, key or secret) and Slack webhook paths.
// The output parses back to the same config, secrets aside.
func (c *Config) Marshal() ([]byte, error) {
	r := c.redacted()
	escapeStrings(reflect.ValueOf(r).Elem())
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

// redacted returns a deep copy of c with the secrets replaced.
func (c *Config) redacted() *Config {
	r := *c
	r.HTTP.AllowPrivate = slices.Clone(c.HTTP.AllowPrivate)
	r.Sources = make([]Source, len(c.Sources))
	for i, s := range c.Sources {
		s.Headers = redactHeaders(s.Headers)
		s.Proxy = redactURL(s.Proxy)
		s.URL = redactURL(s.URL)
		s.MinWords = clonePtr(s.MinWords)
		s.DeliverExisting = clonePtr(s.DeliverExisting)
		s.Page = clonePtr(s.Page)
		s.Archive = clonePtr(s.Archive)
		r.Sources[i] = s
	}
	if c.Sources == nil {
		r.Sources = nil
	}
	r.Sinks = make([]Sink, len(c.Sinks))
	for i, s := range c.Sinks {
		s.Secret = redactString(s.Secret)
		s.Headers = redactHeaders(s.Headers)
		s.URL = redactURL(s.URL)
		if t := s.Transport; t != nil {
			tc := *t
			tc.To = slices.Clone(t.To)
			tc.Token = redactString(t.Token)
			tc.URL = redactURL(t.URL)
			if chatPreset(tc.Preset) {
				tc.URL = redactPath(tc.URL)
			}
			if m := t.SMTP; m != nil {
				mc := *m
				mc.Password = redactString(m.Password)
				mc.StartTLS = clonePtr(m.StartTLS)
				tc.SMTP = &mc
			}
			s.Transport = &tc
		}
		r.Sinks[i] = s
	}
	if c.Sinks == nil {
		r.Sinks = nil
	}
	r.Store.DSN = redactURL(c.Store.DSN)
	return &r
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func redactString(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}

func redactHeaders(h map[string]string) map[string]string { return redact.Headers(h) }

// redactURL hides the password of the user info, the values of query
// parameters with sensitive names and a chat webhook's secret path.
func redactURL(s string) string { return redact.URL(s) }

// Secrets returns every credential the config holds: sink secrets, API
// tokens, SMTP passwords, passwords and keys in URLs, sensitive header
// values. The commands hide them from every output.
func (c *Config) Secrets() []string {
	var out []string
	headers := func(h map[string]string) {
		for k, v := range h {
			if redact.SensitiveName(k) && v != "" {
				out = append(out, v)
				// "Bearer xyz": the token alone may be printed too.
				if _, tok, ok := strings.Cut(v, " "); ok {
					out = append(out, tok)
				}
			}
		}
	}
	for _, s := range c.Sources {
		headers(s.Headers)
		out = append(out, redact.Secrets(s.URL)...)
		out = append(out, redact.Secrets(s.Proxy)...)
	}
	for _, s := range c.Sinks {
		headers(s.Headers)
		out = append(out, redact.Secrets(s.URL)...)
		if s.Secret != "" {
			out = append(out, s.Secret)
		}
		if t := s.Transport; t != nil {
			out = append(out, redact.Secrets(t.URL)...)
			if u, err := url.Parse(t.URL); err == nil && chatPreset(t.Preset) && len(u.Path) > 1 {
				// A chat webhook's path is its secret.
				out = append(out, strings.TrimPrefix(u.Path, "/"))
			}
			if t.Token != "" {
				out = append(out, t.Token)
			}
			if t.SMTP != nil && t.SMTP.Password != "" {
				out = append(out, t.SMTP.Password)
			}
		}
	}
	return out
}

// redactPath hides the path of a chat webhook URL, which is its secret
// (https://hooks.slack.com/services/T/B/XXXX becomes
// https://hooks.slack.com/***). The "***" is written as is, not
// percent-encoded, so it reads as a redaction.
func redactPath(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" || u.Path == "" || u.Path == "/" {
		return s
	}
	u.Path, u.RawPath = "", ""
	return strings.ReplaceAll(u.String()+"/"+Redacted, "%2A", "*")
}

// escapeStrings doubles the "$" of every "${" in the strings under v, so
// that Parse does not expand them again.
func escapeStrings(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); strings.Contains(s, "${") {
			v.SetString(strings.ReplaceAll(s, "${", "$${"))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			escapeStrings(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				escapeStrings(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			escapeStrings(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			escapeStrings(e)
			v.SetMapIndex(k, e)
		}
	}
}
