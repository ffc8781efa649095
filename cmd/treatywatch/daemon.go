package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/pipeline"
	"github.com/treatywatch/treatywatch/internal/store"
)

// cmdRun is the daemon.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.register(fs)
	deliverExisting := fs.Bool("deliver-existing", false, "deliver the items of every source's first fetch instead of only marking them seen")
	workers := fs.Int("workers", 4, "sources fetched at once")
	grace := fs.Duration("grace", 30*time.Second, "on SIGINT/SIGTERM, how long to keep delivering queued records before exiting")
	retry := fs.Duration("retry-backoff", 5*time.Second, "first delay before a failed delivery is tried again; it doubles per failure up to 15m")
	listen := fs.String("listen", "", "serve the dashboard beside /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9464)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	reg := prometheus.NewRegistry()
	wo := wireOptions{retryBackoff: *retry, exclusive: true}
	if *listen != "" {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		wo.metrics = func(st *store.Store) *pipeline.Metrics { return pipeline.NewMetrics(reg, st) }
	}
	a, err := wire(ctx, &c, stderr, wo)
	if err != nil {
		return exitErr(stderr, "run", err)
	}
	defer a.store.Close()
	if len(a.sources) == 0 {
		return exitErr(stderr, "run", errors.New("no enabled source in the config"))
	}
	if *listen != "" {
		stop, err := serveOps(ctx, *listen, reg, a)
		if err != nil {
			return exitErr(stderr, "run", err)
		}
		defer stop()
	}
	a.log.Info("starting", "config", a.cfgName, "data_dir", a.cfg.DataDir(), "sources", len(a.sources))
	go a.keepPruning(ctx)
	a.logOutputs(dbPath(&c, a.cfg))
	err = a.pipe.Daemon(ctx, a.sources, pipeline.DaemonOptions{
		Workers: *workers, Grace: *grace, DeliverExisting: *deliverExisting,
	})
	if err != nil {
		return exitErr(stderr, "run", err)
	}
	return 0
}

// serveOps serves Prometheus metrics, health endpoints and the dashboard. /healthz says
// the process is alive; /readyz that the store answers.
func serveOps(ctx context.Context, addr string, reg *prometheus.Registry, a *app) (func(), error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.store.SchemaVersion(r.Context()); err != nil {
			http.Error(w, "store not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	if err := mountDashboard(mux, a.cfg, a.store, addr, true, a.log); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	a.log.Info("serving metrics and health", "metrics", "http://"+ln.Addr().String()+"/metrics",
		"health", "http://"+ln.Addr().String()+"/healthz")
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// cmdOnce runs every source once and delivers.
func cmdOnce(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("once", flag.ContinueOnError)
	var c common
	c.register(fs)
	deliverExisting := fs.Bool("deliver-existing", false, "deliver the items of every source's first fetch instead of only marking them seen")
	workers := fs.Int("workers", 4, "sources fetched at once")
	deliverFor := fs.Duration("deliver-timeout", time.Minute, "how long to keep retrying deliveries that fail before exiting (they stay queued)")
	source := fs.String("source", "", "run only this source")
	due := fs.Bool("due", false, "skip sources that asked to wait (Retry-After, ttl, backoff after failures): for runs from an external scheduler")
	retry := fs.Duration("retry-backoff", 5*time.Second, "first delay before a failed delivery is tried again; it doubles per failure up to 15m")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	a, err := wire(ctx, &c, stderr, wireOptions{retryBackoff: *retry, exclusive: true, batch: true})
	if err != nil {
		return exitErr(stderr, "once", err)
	}
	defer a.store.Close()
	srcs, err := a.pick(*source)
	if err != nil {
		return exitErr(stderr, "once", err)
	}
	a.logOutputs(dbPath(&c, a.cfg))
	stopLeases := a.pipe.HoldLeases(ctx)
	ro := pipeline.RunOptions{Force: !*due, DeliverExisting: *deliverExisting}
	if shared := a.store.Driver() == config.StorePostgres; shared {
		// Instances share the database: a source another instance is
		// running, or ran since this pass began, is not run again, so
		// that `once` started on several machines at once splits the
		// sources.
		ro.Shared, ro.Since = true, time.Now()
	}
	reps := a.pipe.RunAll(ctx, srcs, ro, *workers)
	dctx, cancel := context.WithTimeout(ctx, *deliverFor)
	delivered, derr := a.pipe.Flush(dctx)
	cancel()
	stopLeases()
	a.pruneIrrelevant(ctx)

	failed := 0
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tOUTCOME\tITEMS\tNEW\tRELEVANT\tQUEUED\tNOTE")
	for _, r := range reps {
		note := ""
		switch {
		case r.Err != nil:
			failed++
			note = fetch.Reason(r.Err)
			if !r.NextRun.IsZero() {
				note += "; next try " + fmtTime(r.NextRun)
			}
		case r.Outcome == pipeline.OutcomeInactive:
			note = "outside its active window; resumes " + fmtTime(r.NextRun)
		case r.FirstRun && r.New > 0:
			note = "first run: marked seen, not delivered"
		case r.Outcome == pipeline.OutcomeWaiting:
			note = "asked to wait until " + fmtTime(r.NextRun)
		case r.Outcome == pipeline.OutcomeElsewhere:
			note = "another instance ran it during this pass"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Source, r.Outcome, r.Items, r.New, r.Relevant, r.Queued, note)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%s\n%d records delivered\n", pipeline.Summarize(reps), delivered)
	code := 0
	if derr != nil {
		fmt.Fprintf(stderr, "treatywatch once: %s\n", deliveryIncomplete(derr, *deliverFor))
		code = 1
	}
	if failed > 0 {
		code = 1
	}
	return code
}

// pick returns all enabled sources, or the one named.
func (a *app) pick(id string) ([]pipeline.Source, error) {
	if id == "" {
		return a.sources, nil
	}
	for _, s := range a.sources {
		if s.ID == id {
			return []pipeline.Source{s}, nil
		}
	}
	return nil, fmt.Errorf("no enabled source %q in %s", id, a.cfgName)
}

// deliveryIncomplete says why records are still queued after a command's
// deliveries: --deliver-timeout ran out (with the last failure, if a sink
// failed), an interruption, or a failure.
func deliveryIncomplete(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("--deliver-timeout (%s) ran out; the next run delivers what is still queued (raise --deliver-timeout to keep trying longer): %v", timeout, err)
	case errors.Is(err, context.Canceled):
		return fmt.Sprintf("interrupted; the next run delivers what is still queued: %v", err)
	}
	return fmt.Sprintf("delivery incomplete, records stay queued for the next run: %v", err)
}
