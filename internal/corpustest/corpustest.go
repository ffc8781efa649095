package corpustest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Dir returns the absolute path of the shared corpus directory.
func Dir(t testing.TB) string { return Shared(t, "corpus") }

// Shared returns the absolute path of shared/<sub>, the read-only material
// (corpus, eval) kept beside the repository: it walks up from the working
// directory to the first folder holding it. When there is none the test
// fails under CI=true, where it must be there, and is skipped otherwise.
func Shared(t testing.TB, sub string) string {
	t.Helper()
	dir, err := findShared(sub)
	if err == nil {
		return dir
	}
	if os.Getenv("CI") == "true" || !errors.Is(err, errNoShared) {
		t.Fatal(err)
	}
	t.Skip(err)
	return ""
}

var errNoShared = errors.New("no shared folder")

// findShared walks up from the working directory to shared/<sub>.
func findShared(sub string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("corpustest: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		c := filepath.Join(dir, "shared", sub)
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("corpustest: %w: no shared/%s above %s", errNoShared, sub, wd)
}

// FeedFile is one line of feeds/MANIFEST.tsv.
type FeedFile struct {
	Name   string // file name, e.g. "golem-de_iso-8859-1.rss"
	Path   string // absolute path
	Format string // "RSS 2.0", "Atom 1.0", "JSON Feed 1", ...
	// Encoding is the manifest's own words, e.g. "ISO-8859-1 declared, but
	// non-ASCII bytes are UTF-8".
	Encoding string
	// Charset is what the bytes really are: "utf-8", "iso-8859-1",
	// "windows-1251", "gb2312".
	Charset string
	// Declared is the charset the document itself declares, "" if none.
	Declared string
	// Lies is true when Declared is not what the bytes are.
	Lies bool
	// Items is the item count of the manifest; Approx marks a count the
	// manifest only estimated ("~10 (regex)").
	Items  int
	Approx bool
	Bytes  int64
	Quirks string
	// Gofeed is what bare gofeed v1.4.2 did with it ("ok: 25 items, 3.4
	// ms" or "ERROR: ..."); GofeedOK is true for the former.
	Gofeed   string
	GofeedOK bool
}

// ContentType is the Content-Type NewFeedServer sends for the file: the
// media type of its format, with the real charset when the document
// declares it honestly, without one when it declares nothing or lies.
func (f FeedFile) ContentType() string {
	var mt string
	switch {
	case strings.HasSuffix(f.Name, ".gz"):
		return "application/gzip"
	case strings.HasPrefix(f.Format, "JSON") || strings.HasSuffix(f.Name, ".json"):
		mt = "application/feed+json"
	case strings.HasPrefix(f.Format, "Atom"):
		mt = "application/atom+xml"
	case strings.Contains(f.Format, "RDF"):
		mt = "application/rdf+xml"
	default:
		mt = "application/rss+xml"
	}
	if f.Declared == "" || f.Lies {
		return mt
	}
	return mt + "; charset=" + f.Charset
}

// Feeds reads feeds/MANIFEST.tsv.
func Feeds(t testing.TB) []FeedFile {
	t.Helper()
	files, err := readFeeds(filepath.Join(Dir(t), "feeds"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// readFeeds reads the manifest of the feeds directory dir.
func readFeeds(dir string) ([]FeedFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, fmt.Errorf("corpustest: %w", err)
	}
	var (
		out []FeedFile
		col map[string]int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, name := range fields {
				col[name] = i
			}
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(fields) {
				return fields[i]
			}
			return ""
		}
		f := FeedFile{
			Name:     get("file"),
			Format:   get("format"),
			Encoding: get("encoding"),
			Quirks:   get("quirks_and_notes"),
			Gofeed:   get("gofeed_v1.4.2_result"),
		}
		if f.Name == "" {
			continue
		}
		f.Path = filepath.Join(dir, f.Name)
		f.GofeedOK = strings.HasPrefix(f.Gofeed, "ok")
		f.Bytes, _ = strconv.ParseInt(get("bytes"), 10, 64)
		items := get("items")
		if strings.HasPrefix(items, "~") {
			f.Approx = true
			items = strings.TrimPrefix(items, "~")
		}
		if num, _, _ := strings.Cut(items, " "); num != "" {
			f.Items, _ = strconv.Atoi(num)
		}
		f.Charset, f.Declared, f.Lies = parseEncoding(f.Encoding)
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpustest: read manifest: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("corpustest: no feeds in %s", dir)
	}
	return out, nil
}

// parseEncoding reads the manifest's encoding column.
func parseEncoding(s string) (charset, declared string, lies bool) {
	low := strings.ToLower(s)
	first, _, _ := strings.Cut(low, " ")
	first = strings.TrimSuffix(first, ",")
	switch {
	case strings.Contains(low, "declared, but") && strings.Contains(low, "utf-8"):
		// "ISO-8859-1 declared, but non-ASCII bytes are UTF-8"
		return "utf-8", first, true
	case strings.Contains(low, "not declared"), strings.Contains(low, "no encoding declared"):
		return first, "", false
	case strings.Contains(low, "(json)"):
		return "utf-8", "utf-8", false
	}
	return first, first, false
}

// ServerOptions tune NewFeedServer.
type ServerOptions struct {
	// NoCharset sends every feed without a charset parameter.
	NoCharset bool
	// Delay holds every response this long, so that concurrency shows.
	Delay time.Duration
}

// HostStats counts what one Host (as the request names it) asked for.
type HostStats struct {
	Requests    int
	NotModified int
	InFlight    int
	MaxInFlight int
}

// FeedServer is an httptest.Server serving the corpus feeds.
type FeedServer struct {
	*httptest.Server
	Files []FeedFile

	handler http.Handler
	mu      sync.Mutex
	hosts   map[string]*HostStats
}

type served struct {
	file  FeedFile
	body  []byte
	etag  string
	mtime time.Time
	ctype string
}

// NewFeedServer starts a server for every feed of Feeds(t) under
// /feeds/<file name>. It is closed when the test ends.
func NewFeedServer(t testing.TB, opts ServerOptions) *FeedServer {
	t.Helper()
	s, err := newFeedServer(Feeds(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Server = httptest.NewServer(s.handler)
	t.Cleanup(s.Close)
	return s
}

// newFeedServer reads files and returns a FeedServer with its handler,
// not yet listening.
func newFeedServer(files []FeedFile, opts ServerOptions) (*FeedServer, error) {
	byPath := map[string]*served{}
	for _, f := range files {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("corpustest: %w", err)
		}
		fi, err := os.Stat(f.Path)
		if err != nil {
			return nil, fmt.Errorf("corpustest: %w", err)
		}
		sum := sha256.Sum256(body)
		ct := f.ContentType()
		if opts.NoCharset {
			ct, _, _ = strings.Cut(ct, ";")
		}
		byPath["/feeds/"+f.Name] = &served{
			file:  f,
			body:  body,
			etag:  `"` + hex.EncodeToString(sum[:16]) + `"`,
			mtime: fi.ModTime().UTC().Truncate(time.Second),
			ctype: ct,
		}
	}
	s := &FeedServer{Files: files, hosts: map[string]*HostStats{}}
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.enter(r.Host)
		defer s.leave(r.Host)
		if opts.Delay > 0 {
			select {
			case <-time.After(opts.Delay):
			case <-r.Context().Done():
				return
			}
		}
		f, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", f.etag)
		w.Header().Set("Content-Type", f.ctype)
		rec := &statusRecorder{ResponseWriter: w}
		http.ServeContent(rec, r, f.file.Name, f.mtime, bytes.NewReader(f.body))
		if rec.status == http.StatusNotModified {
			s.mu.Lock()
			s.hosts[r.Host].NotModified++
			s.mu.Unlock()
		}
	})
	return s, nil
}

// FeedURL returns the address of the named feed on the server.
func (s *FeedServer) FeedURL(name string) string { return s.URL + "/feeds/" + name }

// Stats returns the counts for host ("127.0.0.1:port" for s.URL).
func (s *FeedServer) Stats(host string) HostStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hosts[host]; ok {
		return *h
	}
	return HostStats{}
}

// Hosts returns the counts for every host seen.
func (s *FeedServer) Hosts() map[string]HostStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]HostStats, len(s.hosts))
	for h, st := range s.hosts {
		out[h] = *st
	}
	return out
}

func (s *FeedServer) enter(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[host]
	if !ok {
		h = &HostStats{}
		s.hosts[host] = h
	}
	h.Requests++
	h.InFlight++
	h.MaxInFlight = max(h.MaxInFlight, h.InFlight)
}

func (s *FeedServer) leave(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hosts[host].InFlight--
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Seeds returns the contents of every corpus file under the given
// subdirectories (feeds, pages, ...) up to maxBytes each, for a fuzz
// target's seed corpus: read at test time, never copied into the
// repository. Manifests and notes are left out.
func Seeds(t testing.TB, maxBytes int64, subdirs ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, sub := range subdirs {
		dir := filepath.Join(Dir(t), sub)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("corpustest: %v", err)
		}
		for _, e := range entries {
			name := e.Name()
			if !e.Type().IsRegular() || strings.HasSuffix(name, ".tsv") || strings.HasSuffix(name, ".md") {
				continue
			}
			if info, err := e.Info(); err != nil || info.Size() > maxBytes {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("corpustest: %v", err)
			}
			out = append(out, b)
		}
	}
	return out
}
