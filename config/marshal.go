package config

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Redacted replaces secret values.
const Redacted = "***"

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

// sensitiveName reports whether a header or query parameter name looks
// like it carries a credential: one of its words (split on "-", "_", ".")
// is token, secret, key, password and the like.
func sensitiveName(name string) bool {
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

func redactHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := maps.Clone(h)
	for k, v := range out {
		if sensitiveName(k) && v != "" {
			out[k] = Redacted
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

// redactURL hides the password of the user info and the values of query
// parameters with sensitive names.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return s
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Redacted)
			changed = true
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if sensitiveName(k) {
				q[k] = []string{Redacted}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return s
	}
	return strings.ReplaceAll(u.String(), "%2A%2A%2A", Redacted)
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
