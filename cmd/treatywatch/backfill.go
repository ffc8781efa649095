package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/internal/pipeline"
)

// cmdBackfill runs sources once over a date window, following their
// archives, and delivers what is relevant.
func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	var c common
	c.register(fs)
	sinceFlag := fs.String("since", "", "start of the window (required): YYYY-MM-DD (00:00 UTC) or RFC 3339")
	untilFlag := fs.String("until", "", "end of the window, exclusive: RFC 3339, or YYYY-MM-DD for the end of that day (UTC) (default now)")
	source := fs.String("source", "", "backfill only this source")
	dryRun := fs.Bool("dry-run", false, "fetch and classify, but store and deliver nothing: print what would be delivered")
	redeliver := fs.Bool("redeliver", false, "deliver relevant items again even to sinks that already took them")
	maxPages := fs.Int("max-pages", 0, "read at most this many pages of a paginated feed (default: the source's archive.max_pages, else 50)")
	deliverFor := fs.Duration("deliver-timeout", time.Minute, "how long to keep retrying deliveries that fail before exiting (they stay queued)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	now := time.Now()
	since, until, err := backfillWindow(*sinceFlag, *untilFlag, now)
	if err != nil {
		fmt.Fprintf(stderr, "treatywatch backfill: %v\n", err)
		return 2
	}
	if *maxPages < 0 {
		fmt.Fprintln(stderr, "treatywatch backfill: --max-pages must not be negative")
		return 2
	}
	a, err := wire(ctx, &c, stderr, wireOptions{noSinks: *dryRun, sinkNames: *dryRun, exclusive: !*dryRun, batch: true})
	if err != nil {
		return exitErr(stderr, "backfill", err)
	}
	defer a.store.Close()
	srcs, err := a.pick(*source)
	if err != nil {
		return exitErr(stderr, "backfill", err)
	}
	if len(srcs) == 0 {
		return exitErr(stderr, "backfill", errors.New("no enabled source in the config"))
	}

	view := newProgressView(stderr)
	reps := make([]pipeline.BackfillReport, 0, len(srcs))
	errs := make([]error, 0, len(srcs))
	for _, src := range srcs {
		if ctx.Err() != nil {
			break
		}
		rep, err := a.pipe.Backfill(ctx, src, pipeline.BackfillOptions{
			Since: since, Until: until, DryRun: *dryRun, Redeliver: *redeliver, MaxPages: *maxPages,
			Progress: view.update, Getter: a.client,
		})
		view.done(rep, err)
		reps = append(reps, rep)
		errs = append(errs, err)
	}

	delivered := 0
	var derr error
	if !*dryRun {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *deliverFor)
		if ctx.Err() != nil { // interrupted: deliver what is queued, briefly
			dctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), min(*deliverFor, 10*time.Second))
		}
		delivered, derr = a.pipe.Flush(dctx)
		cancel()
	}
	failed := printBackfillSummary(stdout, reps, errs, since, until, *dryRun, delivered)
	code := 0
	if derr != nil {
		fmt.Fprintf(stderr, "treatywatch backfill: %s\n", deliveryIncomplete(derr, *deliverFor))
		code = 1
	}
	if failed > 0 || ctx.Err() != nil {
		code = 1
	}
	return code
}

// backfillWindow parses --since and --until. A date alone is 00:00 UTC
// of that day for --since and the end of that day for --until, so
// "--since 2025-01-01 --until 2025-01-31" is all of January.
func backfillWindow(sinceArg, untilArg string, now time.Time) (since, until time.Time, err error) {
	if sinceArg == "" {
		return since, until, errors.New("--since is required (YYYY-MM-DD or RFC 3339)")
	}
	if since, err = parseWhen(sinceArg, false); err != nil {
		return since, until, fmt.Errorf("--since: %w", err)
	}
	until = now
	if untilArg != "" {
		if until, err = parseWhen(untilArg, true); err != nil {
			return since, until, fmt.Errorf("--until: %w", err)
		}
	}
	if !since.Before(until) {
		return since, until, fmt.Errorf("--since %s is not before --until %s",
			since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	return since, until, nil
}

// parseWhen reads a date flag: YYYY-MM-DD (00:00 UTC, or the end of that
// day when endOfDay) or RFC 3339.
func parseWhen(s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339 (2025-01-31T18:00:00Z)", s)
}
