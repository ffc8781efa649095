package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/internal/store"
)

// cmdStoreCheck examines the state database without changing it: its
// integrity, schema version, contents and automatic backups. It exits 1
// when the database is damaged or newer than this program.
func cmdStoreCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("store check", flag.ContinueOnError)
	var c common
	c.register(fs)
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	name, err := storeName(&c, stderr)
	if err != nil {
		return exitErr(stderr, "store check", err)
	}
	h, err := store.Check(ctx, name)
	if err != nil {
		return exitErr(stderr, "store check", err)
	}
	fmt.Fprintf(stdout, "database  %s (%s)\n", h.Where, h.Driver)
	fmt.Fprintf(stdout, "schema    version %d (this program writes %d)\n", h.Version, h.Latest)
	if len(h.Problems) == 0 {
		fmt.Fprintf(stdout, "integrity ok\nitems     %d\nqueued    %d records not yet delivered\n", h.Items, h.Pending)
	} else {
		fmt.Fprintf(stdout, "integrity %d problem(s):\n", len(h.Problems))
		for _, p := range h.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if h.Driver == "sqlite" {
		if len(h.Backups) == 0 {
			fmt.Fprintln(stdout, "backups   none (one is taken beside the database before each schema migration)")
		}
		for i, b := range h.Backups {
			label := "backups  "
			if i > 0 {
				label = "         "
			}
			fmt.Fprintf(stdout, "%s %s  (schema version %d, %s, %s)\n", label, b.Path, b.Version, b.Taken.Format(time.RFC3339), humanBytes(b.Size))
		}
	} else {
		fmt.Fprintln(stdout, "backups   kept by the PostgreSQL server (pg_dump); pg_amcheck checks its pages")
	}
	switch {
	case h.Version > h.Latest:
		fmt.Fprintf(stderr, "treatywatch store check: the database was written by a newer treatywatch (schema version %d > %d): upgrade treatywatch\n", h.Version, h.Latest)
		return 1
	case len(h.Problems) > 0 && h.Driver == "sqlite" && len(h.Backups) > 0:
		fmt.Fprintf(stderr, "treatywatch store check: the database is damaged; to go back to the newest backup run: treatywatch store restore --db %s --from %s\n", h.Where, h.Backups[0].Path)
		return 1
	case len(h.Problems) > 0:
		fmt.Fprintln(stderr, "treatywatch store check: the database is damaged; restore it from your backups, or move it aside to start afresh")
		return 1
	}
	return 0
}

// cmdStoreRestore puts an automatic backup (or any copy of the database)
// in place of a damaged SQLite database.
func cmdStoreRestore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("store restore", flag.ContinueOnError)
	var c common
	c.register(fs)
	from := fs.String("from", "", "the backup to put in place (`treatywatch store check` lists them)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *from == "" {
		fmt.Fprintln(stderr, "usage: treatywatch store restore [--db PATH] --from BACKUP (`treatywatch store check` lists the backups)")
		return 2
	}
	name, err := storeName(&c, stderr)
	if err != nil {
		return exitErr(stderr, "store restore", err)
	}
	if store.IsPostgres(name) {
		return exitErr(stderr, "store restore", errors.New("a PostgreSQL database is restored with the server's tools (pg_restore), not by treatywatch"))
	}
	path := strings.TrimPrefix(name, "sqlite:")
	moved, err := store.Restore(ctx, path, *from, time.Now())
	if err != nil {
		return exitErr(stderr, "store restore", err)
	}
	for _, m := range moved {
		fmt.Fprintf(stdout, "moved aside  %s\n", m)
	}
	fmt.Fprintf(stdout, "restored     %s from %s\n", path, *from)
	fmt.Fprintln(stdout, "The next run migrates it if needed; items seen since the backup count as new again and are delivered with the same event ids.")
	return 0
}

// storeName is the database the common flags and the config name.
func storeName(c *common, stderr io.Writer) (string, error) {
	if c.db != "" {
		return c.db, nil
	}
	cfg, _, err := loadConfig(c.config, stderr)
	if err != nil {
		return "", err
	}
	return dbPath(c, cfg), nil
}

// humanBytes writes n bytes as B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMG"[exp])
}
