package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/treatywatch/treatywatch/internal/pipeline"
	"golang.org/x/term"
)

// progressView shows a backfill's progress on stderr: a bar redrawn in
// place on a terminal, plain lines otherwise.
type progressView struct {
	w        io.Writer
	tty      bool
	lastDraw time.Time
	drawn    bool // a bar line is on screen
}

func newProgressView(w io.Writer) *progressView {
	p := &progressView{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// progressCounts is the tail every progress line shares.
func progressCounts(p pipeline.Progress) string {
	return fmt.Sprintf("%d pages, %d items, %d in window, %d relevant", p.Pages, p.Items, p.InWindow, p.Relevant)
}

func (v *progressView) update(p pipeline.Progress) {
	if p.Stage == pipeline.StageDone {
		return // done prints the source's last line
	}
	if v.tty {
		now := time.Now()
		if now.Sub(v.lastDraw) < 80*time.Millisecond && p.Articles != p.ArticlesTotal {
			return
		}
		v.lastDraw = now
		fmt.Fprintf(v.w, "\r\x1b[K%s", barLine(p))
		v.drawn = true
		return
	}
	switch p.Stage {
	case pipeline.StageArticle:
		if p.Articles%25 != 0 && p.Articles != p.ArticlesTotal {
			return
		}
		fmt.Fprintf(v.w, "backfill %s: article %d/%d: %s\n", p.Source, p.Articles, p.ArticlesTotal, progressCounts(p))
	default:
		fmt.Fprintf(v.w, "backfill %s: %s %s: %s\n", p.Source, p.Stage, p.URL, progressCounts(p))
	}
}

// barLine draws "source [#####-----] 12/40 articles · 3 pages, ...";
// without articles to count the bar gives way to the stage.
func barLine(p pipeline.Progress) string {
	const width = 24
	if p.ArticlesTotal > 0 {
		filled := width * p.Articles / p.ArticlesTotal
		return fmt.Sprintf("%s [%s%s] %d/%d articles · %s", p.Source,
			strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.Articles, p.ArticlesTotal, progressCounts(p))
	}
	return fmt.Sprintf("%s (%s) %s", p.Source, p.Stage, progressCounts(p))
}

func (v *progressView) done(rep pipeline.BackfillReport, err error) {
	if v.tty && v.drawn {
		fmt.Fprint(v.w, "\r\x1b[K")
		v.drawn = false
	}
	status := "done"
	if err != nil {
		status = "failed: " + strings.TrimPrefix(err.Error(), "backfill "+rep.Source+": ")
	}
	fmt.Fprintf(v.w, "backfill %s: %s: %d pages, %d articles, %d items, %d in window, %d relevant, %d queued\n",
		rep.Source, status, rep.Pages, rep.Articles, rep.Items, rep.InWindow, rep.Relevant, rep.Queued)
}

// printBackfillSummary writes the per-source table, the totals and, for
// a dry run, the topic × stance table and the items that would go. It
// returns the number of sources that failed.
func printBackfillSummary(w io.Writer, reps []pipeline.BackfillReport, errs []error, since, until time.Time, dryRun bool, delivered int) int {
	failed := 0
	var tot pipeline.BackfillReport
	bySink := map[string]int{}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	queued := "QUEUED"
	if dryRun {
		queued = "WOULD QUEUE"
	}
	fmt.Fprintf(tw, "SOURCE\tPAGES\tARTICLES\tITEMS\tIN WINDOW\tUNDATED\tNEW\tRELEVANT\t%s\tNOTE\n", queued)
	for i, r := range reps {
		note := ""
		if errs[i] != nil {
			failed++
			note = strings.TrimPrefix(errs[i].Error(), "backfill "+r.Source+": ")
		} else if r.Failed > 0 {
			note = fmt.Sprintf("%d articles not read", r.Failed)
		}
		q := r.Queued
		if dryRun {
			q = rows(r.BySink)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n",
			r.Source, r.Pages, r.Articles, r.Items, r.InWindow, r.Undated, r.New, r.Relevant, q, note)
		tot.Pages += r.Pages
		tot.Articles += r.Articles
		tot.Items += r.Items
		tot.InWindow += r.InWindow
		tot.Undated += r.Undated
		tot.New += r.New
		tot.Relevant += r.Relevant
		tot.NewRelevant += r.NewRelevant
		tot.Queued += r.Queued
		if dryRun {
			tot.Queued += rows(r.BySink)
		}
		for sink, n := range r.BySink {
			bySink[sink] += n
		}
	}
	q := tot.Queued
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n",
		tot.Pages, tot.Articles, tot.Items, tot.InWindow, tot.Undated, tot.New, tot.Relevant, q)
	tw.Flush()

	window := since.Format(time.RFC3339) + " to " + until.Format(time.RFC3339)
	if !dryRun {
		fmt.Fprintf(w, "\nwindow %s: %d sources, %d failed; %d records queued, %d delivered\n",
			window, len(reps), failed, tot.Queued, delivered)
		return failed
	}
	fmt.Fprintf(w, "\ndry run, window %s: %d sources, %d failed; %d relevant items (%d not seen before), %d records would be queued%s; nothing was stored or delivered\n",
		window, len(reps), failed, tot.Relevant, tot.NewRelevant, tot.Queued, perSink(bySink))
	printTopicTable(w, reps)
	printWouldDeliver(w, reps)
	return failed
}
