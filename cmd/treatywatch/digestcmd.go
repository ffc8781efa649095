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

	"github.com/treatywatch/treatywatch/sinks/digest"
)

// cmdDigest sends a digest's current window now (--send), or renders
// without sending the window its next scheduled send covers (--preview),
// or any other (--preview --since).
func cmdDigest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	var c common
	c.register(fs)
	send := fs.Bool("send", false, "send the current window now (from the last digest to now), once: the scheduled send that follows covers only what comes after")
	preview := fs.Bool("preview", false, "render without sending the window the next scheduled send covers")
	since := fs.String("since", "", "with --preview: the relevant items stored since this date (YYYY-MM-DD or RFC 3339) instead")
	out := fs.String("out", "", "with --preview: write digest.html and digest.txt into this directory instead of the text to stdout")
	name := fs.String("sink", "", "the digest sink to use (default: the first one in the config)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	switch {
	case *send && *preview:
		fmt.Fprintln(stderr, "treatywatch digest: --send or --preview, not both")
		return 2
	case !*send && !*preview:
		fmt.Fprintln(stderr, "treatywatch digest: say --preview to see the next digest, or --send to send the current window now")
		return 2
	case *send && (*since != "" || *out != ""):
		fmt.Fprintln(stderr, "treatywatch digest: --since and --out go with --preview (a send always covers the window since the last digest)")
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
	if *send {
		n, w, err := a.pipe.SendNow(ctx, d)
		if err != nil {
			return exitErr(stderr, "digest", err)
		}
		loc := d.Location()
		span := w.Start.In(loc).Format("2 Jan 2006 15:04") + " – " + w.End.In(loc).Format("2 Jan 2006 15:04 MST")
		if n == 0 {
			fmt.Fprintf(stdout, "digest %s: window %s had no records (sent only with empty: notify)\n", d.Name(), span)
			return 0
		}
		fmt.Fprintf(stdout, "digest %s: window %s sent (%d records), id %s\n", d.Name(), span, n, d.ID(w.End))
		return 0
	}
	var from time.Time
	if *since != "" {
		if from, err = parseWhen(*since, false); err != nil {
			return exitErr(stderr, "digest", fmt.Errorf("--since: %w", err))
		}
	}
	w, recs, err := a.pipe.PreviewWindow(ctx, d, from)
	if err != nil {
		return exitErr(stderr, "digest", err)
	}
	if from.IsZero() {
		loc := d.Location()
		fmt.Fprintf(stderr, "next scheduled send %s covers %s – %s; %d records queued so far\n",
			w.End.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), w.Start.In(loc).Format("2 Jan 15:04"),
			w.End.In(loc).Format("2 Jan 15:04"), len(recs))
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
