// Command treatywatch watches news and official statements about the UN
// Convention against Cybercrime: it fetches feeds and pages, labels what
// is relevant with topic, stance and actor, and delivers the results to
// files, webhooks and daily digests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/treatywatch/treatywatch/internal/redact"
)

const usage = `treatywatch watches the world's statements about the UN Convention against Cybercrime.

Usage:
  treatywatch <command> [flags]

Commands:
  run          the daemon: every source on its schedule, delivering as it goes
  once         every source once, deliver, exit (status 1 when a source failed)
  check        validate the config, try every source and sink, show next run times
  config       print the effective configuration
  classify     label JSONL items (--eval scores labelled items)
  reclassify   relabel stored items with the current rules
  digest       render or send the digest (--preview writes it without sending)
  serve        the analysts' dashboard and its JSON API (--listen ADDR)
  labels       export analysts' label corrections as labelled JSONL (labels export)
  backfill     run sources over a date window, following archives
  seen         list, or forget (--forget), the items seen for a source
  opml         import or export sources as OPML
  store        the state database: check (integrity, schema, backups; changes nothing),
               restore --from BACKUP, copy --from sqlite:PATH --to postgres://...
  version      print the version

Common flags (every command): --config FILE, --db FILE|URL, --log-format text|json, --log-level debug|info|warn|error,
--memory-limit SIZE|off.
Run "treatywatch <command> -h" for a command's own flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// Nothing in the program writes heap profiles, so it does not sample
	// allocations for them: the runtime's profiling buckets otherwise
	// hold about 1.4 MB in a long-running daemon.
	runtime.MemProfileRate = 0
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	// Every secret of the config is hidden from everything the command
	// prints; wire and loadConfig tell the scrubber what to hide.
	scrub := redact.NewScrubber()
	stdout, stderr = scrub.Writer(stdout), scrub.Writer(stderr)
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "once":
		return cmdOnce(ctx, rest, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, stdout, stderr)
	case "config":
		return cmdConfig(ctx, rest, stdout, stderr)
	case "classify":
		return cmdClassify(ctx, rest, stdin, stdout, stderr)
	case "reclassify":
		return cmdReclassify(ctx, rest, stdout, stderr)
	case "digest":
		return cmdDigest(ctx, rest, stdout, stderr)
	case "serve":
		return cmdServe(ctx, rest, stdin, stdout, stderr)
	case "labels":
		return cmdLabels(ctx, rest, stdout, stderr)
	case "backfill":
		return cmdBackfill(ctx, rest, stdout, stderr)
	case "seen":
		return cmdSeen(ctx, rest, stdout, stderr)
	case "opml":
		return cmdOPML(ctx, rest, stdin, stdout, stderr)
	case "store":
		return cmdStore(ctx, rest, stdout, stderr)
	case "version":
		return cmdVersion(rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "treatywatch: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// cmdVersion prints the version; it takes the common flags like every
// command (and checks them), so scripts can pass them to all alike.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	var c common
	c.register(fs)
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if _, err := c.logger(stderr); err != nil {
		return exitErr(stderr, "version", err)
	}
	fmt.Fprintln(stdout, "treatywatch", version)
	return 0
}

// common holds the flags every command shares.
type common struct {
	config      string
	db          string
	logFormat   string
	logLevel    string
	memoryLimit string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", os.Getenv("TREATYWATCH_CONFIG"), "config file (default: the built-in sources and a JSONL file sink)")
	fs.StringVar(&c.db, "db", "", "state database: an SQLite file or a postgres:// URL (default: the config's store, else <data_dir>/treatywatch.db)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.memoryLimit, "memory-limit", "", "soft limit of the process's Go memory, e.g. 96MiB, or off (default: $GOMEMLIMIT, else 64MiB)")
}

// logger builds the slog logger the flags ask for.
func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	// Secrets are hidden before the handler quotes or escapes values.
	scrub := redact.Of(w)
	switch strings.ToLower(c.logFormat) {
	case "text":
		return slog.New(scrub.Handler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(scrub.Handler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
}

// parseFlags parses a command's flags; it returns a non-negative exit code
// when the command should stop (help asked for, or bad flags).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 && fs.Name() != "classify" && fs.Name() != "opml" && fs.Name() != "seen" {
		fmt.Fprintf(stderr, "treatywatch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2
	}
	return -1
}
