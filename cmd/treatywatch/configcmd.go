package main

import (
	"context"
	"flag"
	"io"
)

// cmdConfig prints the effective configuration (defaults filled in,
// secrets redacted).
func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	var c common
	c.register(fs)
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return exitErr(stderr, "config", err)
	}
	out, err := cfg.Marshal()
	if err != nil {
		return exitErr(stderr, "config", err)
	}
	stdout.Write(out)
	return 0
}
