package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/sinks"
)

// codec is a line-oriented format: JSONL or CSV.
type codec interface {
	// header is written once at the start of an empty file; nil for none.
	header() []byte
	// scan reads a file up to its last line end and returns the event ids
	// of its records and how many lines it could not read.
	scan(r io.Reader) (ids []string, bad int, err error)
	encode(buf *bytes.Buffer, env sinks.Envelope) error
}

// appendLog appends records to a file, one per line (or CSV row), and
// keeps the set of event ids the file holds.
type appendLog struct {
	s   *Sink
	c   codec
	ids map[string]struct{}
	// size is the file's length as this process left it; -1 after a
	// failed write, which makes the next write read the file again.
	size int64
}

func openLog(s *Sink, c codec) (*appendLog, error) {
	l := &appendLog{s: s, c: c, ids: make(map[string]struct{}), size: 0}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, s.errorf("open: %w", err)
	}
	defer f.Close()
	if err := l.load(f); err != nil {
		return nil, err
	}
	return l, nil
}

// load reads f, remembers its ids and cuts off a torn tail: the bytes
// after the last line end. Every record this sink writes is one line that
// ends with '\n', the last byte written, so anything after the last '\n'
// is a write that did not finish (and was never acked).
func (l *appendLog) load(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return l.s.errorf("stat: %w", err)
	}
	size := fi.Size()
	end, err := lastLineEnd(f, size)
	if err != nil {
		return l.s.errorf("read: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return l.s.errorf("read: %w", err)
	}
	ids, bad, err := l.c.scan(bufio.NewReaderSize(io.LimitReader(f, end), 64<<10))
	if err != nil {
		return l.s.errorf("read: %w", err)
	}
	if bad > 0 {
		l.s.log.Warn("file sink: unreadable lines left in place", "sink", l.s.name, "path", l.s.path, "count", bad)
	}
	if end < size {
		l.s.log.Warn("file sink: cut off a torn last record", "sink", l.s.name, "path", l.s.path, "bytes", size-end)
		if err := f.Truncate(end); err != nil {
			return l.s.errorf("repair torn record: %w", err)
		}
		if err := l.s.syncFile(f); err != nil {
			return l.s.errorf("repair torn record: sync: %w", err)
		}
	}
	for _, id := range ids {
		l.ids[id] = struct{}{}
	}
	l.size = end
	return nil
}

// lastLineEnd returns the offset just past the last '\n' in f, or 0.
func lastLineEnd(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for hi := size; hi > 0; {
		lo := max(hi-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:hi-lo], lo)
		if err != nil && !(err == io.EOF && int64(n) == hi-lo) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return lo + int64(i) + 1, nil
		}
		hi = lo
	}
	return 0, nil
}

func (l *appendLog) write(ctx context.Context, envs []sinks.Envelope) error {
	if l.size >= 0 && l.known(envs) {
		return nil
	}
	f, created, err := openAppend(l.s.path)
	if err != nil {
		return l.s.errorf("open: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return l.s.errorf("stat: %w", err)
	}
	if fi.Size() != l.size {
		// A failed write, or the file was changed behind our back
		// (rotated, truncated): read it again.
		if err := l.load(f); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return l.s.errorf("write: %w", err)
	}

	var buf bytes.Buffer
	if l.size == 0 {
		buf.Write(l.c.header())
	}
	headerLen := buf.Len()
	added := make([]string, 0, len(envs))
	for _, env := range envs {
		if _, ok := l.ids[env.EventID]; ok || slices.Contains(added, env.EventID) {
			continue
		}
		if err := l.c.encode(&buf, env); err != nil {
			return l.s.errorf("encode event %s: %w", env.EventID, err)
		}
		added = append(added, env.EventID)
	}
	if buf.Len() == headerLen {
		return nil
	}
	n, err := f.Write(buf.Bytes())
	if err != nil {
		l.size = -1
		return l.s.errorf("write: %w", err)
	}
	if err := l.s.syncFile(f); err != nil {
		l.size = -1
		return l.s.errorf("sync: %w", err)
	}
	if created {
		if err := syncDir(filepath.Dir(l.s.path)); err != nil {
			l.size = -1
			return l.s.errorf("sync directory: %w", err)
		}
	}
	l.size += int64(n)
	for _, id := range added {
		l.ids[id] = struct{}{}
	}
	if err := f.Close(); err != nil {
		return l.s.errorf("close: %w", err)
	}
	return nil
}

// known reports whether every envelope is already in the file.
func (l *appendLog) known(envs []sinks.Envelope) bool {
	for _, env := range envs {
		if _, ok := l.ids[env.EventID]; !ok {
			return false
		}
	}
	return true
}

// openAppend opens path for appending, creating it when missing.
func openAppend(path string) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	return f, false, err
}

// ReadJSONL reads the envelopes of a JSONL file this sink wrote, in file
// order. A torn last line is skipped; any other unreadable line is an
// error.
func ReadJSONL(path string) ([]sinks.Envelope, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var out []sinks.Envelope
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return out, nil // a line without its '\n' is torn
		}
		if err != nil {
			return nil, fmt.Errorf("file: read %s: %w", path, err)
		}
		var env sinks.Envelope
		if err := json.Unmarshal(line, &env); err != nil {
			return nil, fmt.Errorf("file: read %s: line %d: %w", path, n, err)
		}
		out = append(out, env)
	}
}

// jsonlCodec writes one Envelope per line.
type jsonlCodec struct{}

func (jsonlCodec) header() []byte { return nil }

func (jsonlCodec) encode(buf *bytes.Buffer, env sinks.Envelope) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return enc.Encode(env) // Encode ends the line with '\n'
}

func (jsonlCodec) scan(r io.Reader) (ids []string, bad int, err error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	for {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			var head struct {
				EventID string `json:"event_id"`
			}
			if json.Unmarshal(line, &head) == nil && head.EventID != "" {
				ids = append(ids, head.EventID)
			} else {
				bad++
			}
		}
		if rerr == io.EOF {
			return ids, bad, nil
		}
		if rerr != nil {
			return nil, 0, rerr
		}
	}
}

// csvColumns is the CSV header. Multi-valued cells are joined with ";".
var csvColumns = []string{
	"event_id", "published", "source", "source_name", "title", "url",
	"stance", "topics", "actor", "score", "rules",
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// csvCodec writes a header once, then one row per record.
type csvCodec struct{}

func (csvCodec) header() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(csvColumns) // a bytes.Buffer does not fail
	w.Flush()
	return buf.Bytes()
}

func (csvCodec) encode(buf *bytes.Buffer, env sinks.Envelope) error {
	published := ""
	if !env.Item.Published.IsZero() {
		published = env.Item.Published.Format(time.RFC3339Nano)
	}
	row := []string{
		env.EventID,
		published,
		CSVCell(env.Source.ID),
		CSVCell(env.Source.Name),
		CSVCell(env.Item.Title),
		CSVCell(env.Item.URL),
		env.Labels.Stance,
		CSVCell(rules.JoinTopics(env.Labels.Topics, ";")),
		CSVCell(env.Labels.Actor),
		strconv.FormatFloat(env.Labels.Score, 'f', -1, 64),
		CSVCell(env.Labels.Rules),
	}
	w := csv.NewWriter(buf)
	if err := w.Write(row); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// CSVCell makes a text cell safe: line breaks become spaces, so that a
// record is one line (and a torn one is easy to spot), and a cell that
// starts with =, +, -, @ or a tab gets a leading single quote, so
// spreadsheets show it as text instead of running it as a formula.
func CSVCell(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = lineBreaks.Replace(s)
	}
	if s != "" && strings.ContainsRune("=+-@\t", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (csvCodec) scan(r io.Reader) (ids []string, bad int, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header := true
	for {
		rec, rerr := cr.Read()
		if rerr == io.EOF {
			return ids, bad, nil
		}
		var pe *csv.ParseError
		if errors.As(rerr, &pe) {
			bad++
			continue
		}
		if rerr != nil {
			return nil, 0, rerr
		}
		if header {
			if !slices.Equal(rec, csvColumns) {
				return nil, 0, fmt.Errorf("not a treatywatch CSV file: header %q, want %q", strings.Join(rec, ","), strings.Join(csvColumns, ","))
			}
			header = false
			continue
		}
		if len(rec) != len(csvColumns) || rec[0] == "" {
			bad++
			continue
		}
		ids = append(ids, rec[0])
	}
}
