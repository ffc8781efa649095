package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/digest"
)

// cmdDigest renders a digest without sending it (--preview); the daemon
// sends digests on their schedule.
func cmdDigest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	var c common
	c.register(fs)
	preview := fs.Bool("preview", false, "render the digest and write it without sending")
	since := fs.String("since", "", "with --preview: the relevant items stored since this date (YYYY-MM-DD or RFC 3339) instead of what the next digest holds")
	out := fs.String("out", "", "with --preview: write digest.html and digest.txt into this directory instead of the text to stdout")
	name := fs.String("sink", "", "the digest sink to use (default: the first one in the config)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if !*preview {
		fmt.Fprintln(stderr, "treatywatch digest: say --preview (the daemon sends digests on their schedule)")
		return 2
	}
	a, err := wire(ctx, &c, stderr, wireOptions{})
	if err != nil {
		return exitErr(stderr, "digest", err)
	}
	defer a.store.Close()
	d, err := a.digestSink(*name)
	if err != nil {
		return exitErr(stderr, "digest", err)
	}
	now := time.Now()
	var recs []sinks.Record
	w := sinks.Window{End: now}
	if *since != "" {
		t, err := parseWhen(*since, false)
		if err != nil {
			return exitErr(stderr, "digest", fmt.Errorf("--since: %w", err))
		}
		w.Start = t
		err = a.store.Items(ctx, store.ItemFilter{RelevantOnly: true, Since: t}, func(l store.Labeled) error {
			recs = append(recs, sinks.Record{EventID: sinks.EventID(l.Item.SourceID, l.Item.Key, d.Name()), Item: l.Item, Result: l.Result})
			return nil
		})
		if err != nil {
			return exitErr(stderr, "digest", err)
		}
	} else {
		pending, err := a.store.Window(ctx, d.Name(), now)
		if err != nil {
			return exitErr(stderr, "digest", err)
		}
		for _, p := range pending {
			recs = append(recs, p.Record)
			if w.Start.IsZero() || p.Created.Before(w.Start) {
				w.Start = p.Created
			}
		}
		if w.Start.IsZero() {
			w.Start = now.Add(-24 * time.Hour)
		}
	}
	m, err := d.Preview(ctx, w, recs)
	if err != nil {
		return exitErr(stderr, "digest", err)
	}
	if *out == "" {
		fmt.Fprintf(stdout, "Subject: %s\n\n%s", m.Subject, m.Text)
		return 0
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return exitErr(stderr, "digest", err)
	}
	for name, body := range map[string]string{"digest.html": m.HTML, "digest.txt": m.Text} {
		if err := os.WriteFile(filepath.Join(*out, name), []byte(body), 0o644); err != nil {
			return exitErr(stderr, "digest", err)
		}
	}
	fmt.Fprintf(stdout, "%s\nwrote %s and %s (%d items)\n", m.Subject,
		filepath.Join(*out, "digest.html"), filepath.Join(*out, "digest.txt"), m.Items)
	return 0
}

func (a *app) digestSink(name string) (*digest.Sink, error) {
	for _, s := range a.sinks {
		if d, ok := s.(*digest.Sink); ok && (name == "" || d.Name() == name) {
			return d, nil
		}
	}
	if name != "" {
		return nil, fmt.Errorf("no digest sink named %q in %s", name, a.cfgName)
	}
	return nil, errors.New("the config has no digest sink (type: digest)")
}
