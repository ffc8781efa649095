package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/internal/dashboard"
	"github.com/treatywatch/treatywatch/internal/pipeline"
	"github.com/treatywatch/treatywatch/internal/store"
)

// cmdServe serves the dashboard over the store.
func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve the dashboard on")
	hash := fs.Bool("hash-password", false, "read a password from stdin, print the hash to put in dashboard.users[].password_hash, and exit")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *hash {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return exitErr(stderr, "serve", err)
		}
		h, err := dashboard.HashPassword(strings.TrimRight(line, "\r\n"))
		if err != nil {
			return exitErr(stderr, "serve", err)
		}
		fmt.Fprintln(stdout, h)
		return 0
	}
	log, err := c.logger(stderr)
	if err != nil {
		return exitErr(stderr, "serve", err)
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return exitErr(stderr, "serve", err)
	}
	st, err := store.Open(ctx, dbPath(&c, cfg))
	if err != nil {
		return exitErr(stderr, "serve", err)
	}
	defer st.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	if err := mountDashboard(mux, cfg, st, *listen, false, log); err != nil {
		return exitErr(stderr, "serve", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return exitErr(stderr, "serve", fmt.Errorf("--listen %s: %w", *listen, err))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving the dashboard", "addr", ln.Addr().String(), "db", dbPath(&c, cfg))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return exitErr(stderr, "serve", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

// mountDashboard adds the dashboard to mux. Reading is open on a
// loopback address unless the config says otherwise. When optional (run
// --listen, which serves metrics anyway), a dashboard nobody may read is
// left out with a warning instead of failing.
func mountDashboard(mux *http.ServeMux, cfg *config.Config, r dashboard.Reader, listen string, optional bool, log *slog.Logger) error {
	users := make([]dashboard.User, 0, len(cfg.Dashboard.Users))
	for _, u := range cfg.Dashboard.Users {
		users = append(users, dashboard.User{Name: u.Name, Hash: u.PasswordHash})
	}
	open := false
	switch cfg.Dashboard.Read {
	case config.ReadOpen:
		open = true
	case "", config.ReadLoopback:
		open = isLoopback(listen)
	}
	if !open && len(users) == 0 {
		err := fmt.Errorf("the dashboard on %s needs dashboard.users in the config (reading is open only on a loopback address, or with dashboard.read: open)", listen)
		if optional {
			log.Warn("dashboard not served", "reason", err.Error())
			return nil
		}
		return err
	}
	byID := map[string]pipeline.Source{}
	for _, src := range enabledSources(cfg) {
		byID[src.ID] = src
	}
	// The next run is the daemon's (pipeline.NextRunOf).
	next := func(id string, lastFetch, notBefore time.Time, failed bool, now time.Time) (time.Time, bool) {
		src, ok := byID[id]
		if !ok {
			return time.Time{}, false
		}
		t, err := pipeline.NextRunOf(src, lastFetch, notBefore, failed, now)
		return t, err == nil
	}
	topics, err := topicsOf(cfg)
	if err != nil {
		return err
	}
	d, err := dashboard.New(dashboard.Options{Reader: r, Users: users, OpenRead: open, Log: log, NextRun: next, Topics: topics})
	if err != nil {
		return err
	}
	d.Register(mux)
	return nil
}

// isLoopback reports whether a listen address binds only loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// exportedLabel is one line of `labels export`: the labelled JSONL
// format that `classify --eval` reads (../shared/eval/dev.jsonl), with
// the machine's labels and the correction's who, when and why beside it.
type exportedLabel struct {
	labelledRecord
	Machine     dashboard.Label `json:"machine"`
	Rules       string          `json:"rules"`
	Score       float64         `json:"score"`
	Reason      string          `json:"reason,omitempty"`
	Note        string          `json:"note,omitempty"`
	CorrectedBy string          `json:"corrected_by"`
	CorrectedAt time.Time       `json:"corrected_at"`
}

// cmdLabels implements "treatywatch labels export [--out FILE]".
func cmdLabels(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(stderr, "usage: treatywatch labels export [--out FILE] [--config FILE] [--db FILE]")
		return 2
	}
	fs := flag.NewFlagSet("labels export", flag.ContinueOnError)
	var c common
	c.register(fs)
	out := fs.String("out", "", "write to this file instead of stdout")
	if code := parseFlags(fs, args[1:], stderr); code >= 0 {
		return code
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return exitErr(stderr, "labels export", err)
	}
	st, err := store.Open(ctx, dbPath(&c, cfg))
	if err != nil {
		return exitErr(stderr, "labels export", err)
	}
	defer st.Close()
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return exitErr(stderr, "labels export", err)
		}
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	err = st.Corrected(ctx, func(d dashboard.ItemDetail) error {
		n++
		return enc.Encode(exportOf(d))
	})
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return exitErr(stderr, "labels export", err)
	}
	fmt.Fprintf(stderr, "treatywatch labels export: %d corrected items\n", n)
	return 0
}

func exportOf(d dashboard.ItemDetail) exportedLabel {
	c := d.Corrections[0]
	rel := c.Label.Relevant
	text := d.Item.Content
	if text == "" {
		text = d.Item.Summary
	}
	date := ""
	if !d.Item.Published.IsZero() {
		date = d.Item.Published.UTC().Format("2006-01-02")
	}
	actor := ""
	if rel {
		actor = d.Machine.Actor
	}
	source := d.Item.SourceName
	if source == "" {
		source = d.SourceID
	}
	return exportedLabel{
		labelledRecord: labelledRecord{
			ID: d.SourceID + "/" + d.Key, URL: d.Item.URL, Source: source, Date: date, Lang: d.Item.Lang,
			Title: d.Item.Title, Text: text, Relevant: &rel, Topics: c.Label.Topics, Stance: c.Label.Stance, Actor: actor,
		},
		Machine: c.Machine, Rules: c.Rules, Score: c.Score, Reason: c.Reason, Note: c.Note,
		CorrectedBy: c.Who, CorrectedAt: c.At,
	}
}
