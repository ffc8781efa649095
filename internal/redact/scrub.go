package redact

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// minSecret is the shortest value a Scrubber hides: shorter ones would
// mask ordinary words. Validation refuses shorter secrets for signing.
const minSecret = 4

// Scrubber replaces known secret values in text. The zero value and nil
// hide nothing; Add makes it hide more. It is safe for concurrent use.
type Scrubber struct {
	mu       sync.RWMutex
	replacer *strings.Replacer
	secrets  []string
}

// NewScrubber returns a Scrubber that hides the given secrets.
func NewScrubber(secrets ...string) *Scrubber {
	s := &Scrubber{}
	s.Add(secrets...)
	return s
}

// Add adds secrets to hide, with their URL-escaped forms (a library may
// print a secret as it appears in a URL).
func (s *Scrubber) Add(secrets ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range secrets {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if len(form) >= minSecret && !slices.Contains(s.secrets, form) {
				s.secrets = append(s.secrets, form)
			}
		}
	}
	// The longest first, so that a secret containing another is hidden
	// whole.
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(s.secrets))
	for _, v := range s.secrets {
		pairs = append(pairs, v, Mask)
	}
	s.replacer = strings.NewReplacer(pairs...)
}

// String returns text with every known secret masked.
func (s *Scrubber) String(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	r := s.replacer
	s.mu.RUnlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// Writer returns a writer that masks secrets in each Write before passing
// it on. Each Write must hold whole values (as log handlers, fmt.Fprint
// and text/tabwriter cells do).
func (s *Scrubber) Writer(w io.Writer) io.Writer {
	return scrubWriter{s: s, w: w}
}

// Of returns the Scrubber behind a writer made by Writer, or nil.
func Of(w io.Writer) *Scrubber {
	if sw, ok := w.(scrubWriter); ok {
		return sw.s
	}
	return nil
}

type scrubWriter struct {
	s *Scrubber
	w io.Writer
}

func (sw scrubWriter) Write(p []byte) (int, error) {
	out := sw.s.String(string(p))
	if _, err := io.WriteString(sw.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Handler returns a slog.Handler that masks secrets in the message and in
// every string, error and Stringer attribute before h sees them.
func (s *Scrubber) Handler(h slog.Handler) slog.Handler {
	if s == nil {
		return h
	}
	return scrubHandler{s: s, h: h}
}

type scrubHandler struct {
	s *Scrubber
	h slog.Handler
}

func (sh scrubHandler) Enabled(ctx context.Context, l slog.Level) bool { return sh.h.Enabled(ctx, l) }

func (sh scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, sh.s.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(sh.attr(a))
		return true
	})
	return sh.h.Handle(ctx, out)
}

func (sh scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = sh.attr(a)
	}
	return scrubHandler{s: sh.s, h: sh.h.WithAttrs(clean)}
}

func (sh scrubHandler) WithGroup(name string) slog.Handler {
	return scrubHandler{s: sh.s, h: sh.h.WithGroup(name)}
}

func (sh scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, sh.s.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = sh.attr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, sh.s.String(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, sh.s.String(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
