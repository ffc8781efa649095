package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/digest"
	"github.com/treatywatch/treatywatch/sinks/file"
	"github.com/treatywatch/treatywatch/sinks/webhook"
)

// buildSinks turns the config's sinks into sinks: a plain switch on type.
func buildSinks(cfg *config.Config, st *store.Store, log *slog.Logger) ([]sinks.Sink, error) {
	var out []sinks.Sink
	var topics rules.Taxonomy
	if slices.ContainsFunc(cfg.Sinks, func(sc config.Sink) bool { return sc.Type == config.SinkDigest }) {
		var err error
		if topics, err = topicsOf(cfg); err != nil {
			return nil, err
		}
	}
	for _, sc := range cfg.Sinks {
		s, err := buildSink(sc, st, topics, log)
		var pe *fs.PathError
		if err != nil && sc.Type == config.SinkFile && errors.As(err, &pe) {
			// A file sink that cannot open its file fails alone: its
			// records wait in the outbox, the other sinks deliver.
			log.Error("sink cannot write; its records stay queued until it can", "sink", sc.Name, "err", err)
			out = append(out, brokenSink{name: sc.Name, err: err})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func buildSink(sc config.Sink, st *store.Store, topics rules.Taxonomy, log *slog.Logger) (sinks.Sink, error) {
	switch sc.Type {
	case config.SinkFile:
		return file.New(sc.Name, sc.Path, sc.Format)
	case config.SinkWebhook:
		return webhook.New(webhook.Options{
			Name: sc.Name, URL: sc.URL, Secret: sc.Secret, Timeout: sc.Timeout.D(), Headers: sc.Headers,
			MaxBytes: int(sc.MaxBytes),
		}), nil
	case config.SinkDigest:
		return buildDigest(sc, st, topics, log)
	}
	return nil, fmt.Errorf("unknown sink type %q", sc.Type)
}

func buildDigest(sc config.Sink, st *store.Store, topics rules.Taxonomy, log *slog.Logger) (*digest.Sink, error) {
	tr, err := buildTransport(sc)
	if err != nil {
		return nil, err
	}
	var tmplHTML, tmplText string
	for _, t := range []struct {
		path string
		dst  *string
	}{{sc.TemplateHTML, &tmplHTML}, {sc.TemplateText, &tmplText}} {
		if t.path == "" {
			continue
		}
		b, err := os.ReadFile(t.path)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		*t.dst = string(b)
	}
	return digest.New(digest.Options{
		Name: sc.Name, Schedule: sc.Schedule, Location: sc.Location(), Empty: sc.Empty,
		TemplateHTML: tmplHTML, TemplateText: tmplText, Transport: tr, Topics: topics,
		State: st, Health: st, History: st, Logger: log,
	})
}

// buildTransport turns a digest's transport config into a transport.
func buildTransport(sc config.Sink) (digest.Transport, error) {
	t := sc.Transport
	if t == nil {
		return nil, errors.New("no transport")
	}
	switch t.Kind {
	case config.TransportWebhook:
		return digest.NewWebhook(digest.WebhookConfig{
			Preset: t.Preset, URL: t.URL, Token: t.Token, From: t.From, To: t.To,
			Client:   &http.Client{Timeout: max(sc.Timeout.D(), 10*time.Second)},
			MaxBytes: int(sc.MaxBytes),
		})
	case config.TransportSMTP:
		if t.SMTP == nil {
			return nil, errors.New("smtp transport without smtp settings")
		}
		mode := digest.TLSStartTLS
		if !t.SMTP.UseStartTLS() {
			mode = digest.TLSNone
		}
		return digest.NewSMTP(digest.SMTPConfig{
			Host: t.SMTP.Host, Port: t.SMTP.Port, Username: t.SMTP.Username, Password: t.SMTP.Password,
			From: t.From, To: t.To, TLS: mode, MaxBytes: int(sc.MaxBytes),
		})
	}
	return nil, fmt.Errorf("unknown transport kind %q", t.Kind)
}

// brokenSink stands for a sink that could not be set up (its file cannot
// be opened): every write fails with why, so its records stay queued and
// the other sinks are not held back.
type brokenSink struct {
	name string
	err  error
}

func (b brokenSink) Name() string { return b.name }

func (b brokenSink) Write(context.Context, []sinks.Record) error { return b.err }

func (b brokenSink) Check(context.Context) error { return b.err }
