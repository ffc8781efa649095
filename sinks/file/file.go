package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/treatywatch/treatywatch/sinks"
)

// Formats a file sink can write.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
	FormatAtom  = "atom"
)

// DefaultAtomLimit is how many entries an Atom feed keeps by default.
const DefaultAtomLimit = 200

// Options configure a file sink. Name, Path and Format are required.
type Options struct {
	Name   string
	Path   string
	Format string // jsonl (default when empty), csv or atom
	// AtomLimit is the number of newest records an Atom feed keeps;
	// zero means DefaultAtomLimit.
	AtomLimit int
	// FeedTitle is the Atom feed's title; empty means "treatywatch: Name".
	FeedTitle string
	// FeedURL is where the Atom feed is served, written as its self link;
	// empty leaves the link out.
	FeedURL string
	// Logger receives repairs made on open; nil discards them.
	Logger *slog.Logger
	// Now is the clock stamped on Atom entries; nil means time.Now.
	Now func() time.Time

	// syncFile replaces (*os.File).Sync in tests.
	syncFile func(*os.File) error
}

// Sink writes records to one file. It is safe for concurrent use by the
// goroutines of one process; two processes must not share a file.
type Sink struct {
	name     string
	path     string
	format   string
	log      *slog.Logger
	syncFile func(*os.File) error

	mu sync.Mutex
	w  writer
}

// writer is one file format. Calls are serialised by Sink.mu.
type writer interface {
	write(ctx context.Context, envs []sinks.Envelope) error
}

var (
	_ sinks.Sink    = (*Sink)(nil)
	_ sinks.Checker = (*Sink)(nil)
)

// New opens a file sink named name writing format to path, with default
// options.
func New(name, path, format string) (*Sink, error) {
	return Open(Options{Name: name, Path: path, Format: format})
}

// Open opens a file sink. The directory of Path is created when missing.
// An existing file is read once: the event ids in it are remembered so
// that a retried record is not written twice, and a torn last record
// (a crash in the middle of a write) is cut off.
func Open(opts Options) (*Sink, error) {
	if opts.Name == "" {
		return nil, errors.New("file sink: no name")
	}
	if opts.Path == "" {
		return nil, fmt.Errorf("file sink %s: no path", opts.Name)
	}
	if opts.Format == "" {
		opts.Format = FormatJSONL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.syncFile == nil {
		opts.syncFile = (*os.File).Sync
	}
	if opts.AtomLimit <= 0 {
		opts.AtomLimit = DefaultAtomLimit
	}
	s := &Sink{name: opts.Name, path: opts.Path, format: opts.Format, log: opts.Logger, syncFile: opts.syncFile}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, s.errorf("create directory: %w", err)
	}
	var err error
	switch opts.Format {
	case FormatJSONL:
		s.w, err = openLog(s, jsonlCodec{})
	case FormatCSV:
		s.w, err = openLog(s, csvCodec{})
	case FormatAtom:
		s.w, err = openAtom(s, opts)
	default:
		return nil, fmt.Errorf("file sink %s: unknown format %q (want jsonl, csv or atom)", opts.Name, opts.Format)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Name returns the configured sink name.
func (s *Sink) Name() string { return s.name }

// Path returns the file the sink writes.
func (s *Sink) Path() string { return s.path }

// Write appends the records not yet in the file and syncs the file to
// disk before it returns nil. Records whose event id is already in the
// file are skipped, so a retried batch is written once.
func (s *Sink) Write(ctx context.Context, recs []sinks.Record) error {
	if err := ctx.Err(); err != nil {
		return s.errorf("write: %w", err)
	}
	if len(recs) == 0 {
		return nil
	}
	envs := make([]sinks.Envelope, len(recs))
	for i, r := range recs {
		if r.EventID == "" {
			return s.errorf("write: record %d has no event id", i)
		}
		envs[i] = sinks.NewEnvelope(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.write(ctx, envs)
}

// Check reports whether the sink's directory can take a new file.
func (s *Sink) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return s.errorf("check: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), ".treatywatch-check-*")
	if err != nil {
		return s.errorf("check: directory not writable: %w", err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return s.errorf("check: %w", err)
	}
	return nil
}

func (s *Sink) errorf(format string, args ...any) error {
	return fmt.Errorf("file sink %s (%s): "+format, append([]any{s.name, s.path}, args...)...)
}

// syncDir makes a new or renamed directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
