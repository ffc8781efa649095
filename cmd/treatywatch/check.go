package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/pipeline"
	"github.com/treatywatch/treatywatch/sinks"
)

// cmdCheck validates the config, tries every source (without storing
// anything) and every sink, and shows what the store knows of each
// source's health and next run.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var c common
	c.register(fs)
	offline := fs.Bool("offline", false, "do not fetch sources or contact sinks; show the stored state only")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	a, err := wire(ctx, &c, stderr, wireOptions{})
	if err != nil {
		return exitErr(stderr, "check", err)
	}
	defer a.store.Close()
	fmt.Fprintf(stdout, "config: ok (%s): %d sources enabled, %d sinks; rules %s\n\n",
		a.cfgName, len(a.sources), len(a.sinks), a.classifier.Version())

	type row struct {
		live   string
		items  int
		detail string
	}
	rows := make([]row, len(a.sources))
	if !*offline {
		errs := a.pipe.Each(ctx, a.sources, 8, "live check", func(ctx context.Context, i int, src pipeline.Source) {
			b, err := a.fetchers[src.Kind].Fetch(ctx, src.Source, fetch.Validators{})
			if err != nil {
				rows[i] = row{live: string(fetch.KindOf(err)), detail: err.Error()}
				return
			}
			rows[i] = row{live: fmt.Sprintf("%d", b.Provenance.Status), items: len(b.Items)}
			if len(b.Items) == 0 {
				rows[i].detail = "no items"
			}
		})
		for i, err := range errs {
			if err != nil && rows[i].live == "" {
				rows[i] = row{live: "error", detail: err.Error()}
			}
		}
	}

	problems := 0
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tNOW\tITEMS\tSTATE\tFAILURES\tLAST SUCCESS\tNEXT RUN\tNOTE")
	now := time.Now()
	for i, src := range a.sources {
		st, err := a.store.Source(ctx, src.ID)
		if err != nil {
			return exitErr(stderr, "check", err)
		}
		status := st.Status()
		next, err := a.pipe.NextRun(ctx, src)
		if err != nil {
			return exitErr(stderr, "check", err)
		}
		if next.IsZero() {
			next = now // never run: at once
		}
		note := rows[i].detail
		if status.LastError != "" && note == "" {
			note = "last error: " + status.LastError
		}
		if src.Active != nil && !src.Active.Contains(now) {
			note = joinNote(fmt.Sprintf("outside its active window (%s): resumes %s", src.Active, fmtTime(next)), note)
		}
		bad := status.State.Bad() || rows[i].detail != "" && rows[i].detail != "no items"
		if pipeline.SelectorsSuspect(src.Kind, st.EmptyRuns, 0) {
			note = fmt.Sprintf("selectors matched nothing in the last %d runs: the page layout may have changed", st.EmptyRuns)
			bad = true
		}
		if bad {
			problems++
		}
		live := rows[i].live
		if *offline {
			live = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", src.ID, live, rows[i].items, status.State,
			status.Failures, fmtTime(status.LastSuccess), fmtTime(next), note)
	}
	tw.Flush()

	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tSTATUS\tQUEUED\tNOTE")
	depth, err := a.store.OutboxDepth(ctx)
	if err != nil {
		return exitErr(stderr, "check", err)
	}
	health, err := a.store.OutboxHealth(ctx)
	if err != nil {
		return exitErr(stderr, "check", err)
	}
	for _, s := range a.sinks {
		status, note := "ok", ""
		if h := health[s.Name()]; h.Failing > 0 {
			// The stored attempts speak for the sink, online or not.
			status = "failing"
			note = fmt.Sprintf("%d of %d queued records failed (up to %d attempts); last error: %s",
				h.Failing, h.Queued, h.MaxAttempts, oneLine(h.LastError, 300))
		}
		if b, ok := s.(brokenSink); ok {
			status, note = "broken", oneLine(b.err.Error(), 300)
		} else if ch, ok := s.(sinks.Checker); ok && !*offline {
			if err := ch.Check(ctx); err != nil {
				status, note = "unreachable", joinNote(err.Error(), note)
			}
		}
		if sch, ok := s.(sinks.Scheduled); ok {
			next, err := a.pipe.NextWindow(ctx, sch)
			if err != nil {
				return exitErr(stderr, "check", err)
			}
			note = joinNote(note, "next send "+fmtTime(next))
		}
		if until := a.pipe.QuietUntil(s.Name()); !until.IsZero() {
			note = joinNote(note, "quiet hours: records wait until "+fmtTime(until))
		}
		if status != "ok" {
			problems++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", s.Name(), status, depth[s.Name()], note)
	}
	tw.Flush()
	if problems > 0 {
		fmt.Fprintf(stdout, "\n%d problem(s) found\n", problems)
		return 1
	}
	return 0
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// oneLine folds s to one line of at most max bytes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}
