package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/treatywatch/treatywatch/config/opml"
)

const opmlUsage = `Usage:
  treatywatch opml export [--config FILE]          print the config's sources as OPML 2.0
  treatywatch opml import [--config FILE] FILE|-   print an OPML file's feeds as a YAML sources: block
`

// cmdOPML imports or exports sources as OPML.
func cmdOPML(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "export" && args[0] != "import") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, opmlUsage)
			return 0
		}
		fmt.Fprint(stderr, opmlUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("opml", flag.ContinueOnError)
	var c common
	c.register(fs)
	title := fs.String("title", "treatywatch sources", "export: the OPML document's title")
	if code := parseFlags(fs, args[1:], stderr); code >= 0 {
		return code
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return exitErr(stderr, "opml", err)
	}
	if sub == "export" {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "treatywatch opml export: unexpected argument %q\n", fs.Arg(0))
			return 2
		}
		if err := opml.Export(stdout, cfg.Sources, *title, time.Now()); err != nil {
			return exitErr(stderr, "opml", err)
		}
		return 0
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "treatywatch opml import: give one OPML file, or - for standard input")
		return 2
	}
	var data []byte
	if name := fs.Arg(0); name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return exitErr(stderr, "opml", err)
	}
	feeds, err := opml.Parse(data)
	if err != nil {
		return exitErr(stderr, "opml", fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	srcs, warnings := opml.Import(feeds, cfg.Sources)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "treatywatch opml import: %s\n", w)
	}
	if err := opml.WriteYAML(stdout, srcs, fs.Arg(0)); err != nil {
		return exitErr(stderr, "opml", err)
	}
	return 0
}
