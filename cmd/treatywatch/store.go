package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/treatywatch/treatywatch/internal/store"
)

const storeUsage = `usage:
  treatywatch store check [--db PATH|URL]          examine the database without changing it
  treatywatch store restore [--db PATH] --from BACKUP   put a backup in place of a damaged SQLite database
  treatywatch store copy --from sqlite:PATH --to postgres://user@host/db   move an installation`

// cmdStore manages the state database: `store check` examines it,
// `store restore` puts a backup back, `store copy` moves an installation
// from one store to another.
func cmdStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "check":
		return cmdStoreCheck(ctx, args[1:], stdout, stderr)
	case "restore":
		return cmdStoreRestore(ctx, args[1:], stdout, stderr)
	case "copy":
		return cmdStoreCopy(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, storeUsage)
	return 2
}

// cmdStoreCopy copies an installation's state into an empty store.
func cmdStoreCopy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("store copy", flag.ContinueOnError)
	from := fs.String("from", "", "the store to copy from: sqlite:PATH (or a path), or a postgres:// URL")
	to := fs.String("to", "", "the store to copy into (empty): a postgres:// URL, or sqlite:PATH")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *from == "" || *to == "" {
		return exitErr(stderr, "store copy", errors.New("both --from and --to are required (e.g. --from sqlite:/var/lib/treatywatch/treatywatch.db --to postgres://treatywatch@db/treatywatch)"))
	}
	if *from == *to {
		return exitErr(stderr, "store copy", errors.New("--from and --to name the same store"))
	}
	src, err := store.Open(ctx, *from)
	if err != nil {
		return exitErr(stderr, "store copy", err)
	}
	defer src.Close()
	// Nothing may write to an SQLite source while it is copied.
	if err := src.Exclusive(ctx, func(holder string) {
		fmt.Fprintf(stderr, "waiting: %s is in use by %s; stop it to copy a consistent state\n", src, holder)
	}); err != nil {
		return exitErr(stderr, "store copy", err)
	}
	dst, err := store.Open(ctx, *to)
	if err != nil {
		return exitErr(stderr, "store copy", err)
	}
	defer dst.Close()
	rep, err := store.Copy(ctx, src, dst, func(table string, rows int) {
		fmt.Fprintf(stdout, "%-12s %d rows\n", table, rows)
	})
	if err != nil {
		return exitErr(stderr, "store copy", err)
	}
	fmt.Fprintf(stdout, "copied %s to %s: %d sources, %d items, %d deliveries\n", src, dst, rep["sources"], rep["items"], rep["outbox"])
	return 0
}
