package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/treatywatch/treatywatch/internal/store"
)

// cmdSeen lists the items the store has seen for a source, or forgets
// them so that the next run treats them as new.
func cmdSeen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seen", flag.ContinueOnError)
	var c common
	c.register(fs)
	source := fs.String("source", "", "the source (required)")
	forget := fs.Bool("forget", false, "forget the source's items (or the one given by --key): they count as new on the next run")
	key := fs.String("key", "", "with --forget: only this item key")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *source == "" {
		fmt.Fprintln(stderr, "treatywatch seen: --source is required")
		return 2
	}
	st, err := openStore(ctx, &c, stderr)
	if err != nil {
		return exitErr(stderr, "seen", err)
	}
	defer st.Close()
	if *forget {
		n, err := st.Forget(ctx, *source, *key)
		if err != nil {
			return exitErr(stderr, "seen", err)
		}
		fmt.Fprintf(stdout, "forgot %d item(s) of %s\n", n, *source)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tRELEVANT\tSTANCE\tTITLE")
	err = st.Items(ctx, store.ItemFilter{SourceID: *source}, func(l store.Labeled) error {
		_, err := fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", l.Item.Key, l.Result.Relevant, l.Result.Stance, l.Item.Title)
		return err
	})
	tw.Flush()
	if err != nil {
		return exitErr(stderr, "seen", err)
	}
	return 0
}

// openStore opens the state database the flags and config point to,
// without building the rest.
func openStore(ctx context.Context, c *common, stderr io.Writer) (*store.Store, error) {
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dbPath(c, cfg))
}
