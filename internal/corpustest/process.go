package corpustest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serverProcessEnv, set in the environment of a test binary, makes
// ServeIfChild serve the corpus feeds instead of running tests.
const serverProcessEnv = "TREATYWATCH_CORPUS_FEED_SERVER"

// ProcessFeedServer is the feed server of NewFeedServer run in a process
// of its own, so that what it spends serving is not counted as the
// test's own CPU time: a benchmark of a fetching command then measures
// the client, as a real run against remote servers would. It keeps no
// per-host counts.
type ProcessFeedServer struct {
	URL   string
	Files []FeedFile
}

// FeedURL returns the address of the named feed on the server.
func (s *ProcessFeedServer) FeedURL(name string) string { return s.URL + "/feeds/" + name }

// NewFeedServerProcess starts the test binary again as a feed server
// serving Feeds(t) the way NewFeedServer does, and stops it when the
// test ends. The package under test must call ServeIfChild at the top of
// its TestMain.
func NewFeedServerProcess(t testing.TB) *ProcessFeedServer {
	t.Helper()
	files := Feeds(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), serverProcessEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("corpustest: feed server process: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("corpustest: feed server process: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("corpustest: start the feed server process: %v", err)
	}
	exited := make(chan error, 1)
	stop := func() {
		stdin.Close() // the server exits when its standard input ends
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	var url string
	select {
	case url = <-addr:
	case <-time.After(2 * time.Minute): // a loaded machine starts a process slowly, never this slowly
		cmd.Process.Kill()
		t.Fatal("corpustest: the feed server process did not say where it listens within 2 minutes")
	}
	if !strings.HasPrefix(url, "http://") {
		stop()
		t.Fatalf("corpustest: the feed server process said %q instead of its address: does this package's TestMain call corpustest.ServeIfChild?", url)
	}
	t.Cleanup(stop)
	return &ProcessFeedServer{URL: url, Files: files}
}

// ServeIfChild returns at once in a test binary started normally. In
// one started by NewFeedServerProcess it serves the corpus feeds on a
// loopback port, writes the server's address as the first line of its
// standard output, and exits when its standard input ends (the test is
// over, or its process died).
func ServeIfChild() {
	if os.Getenv(serverProcessEnv) == "" {
		return
	}
	if err := serveChild(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveChild(stdin io.Reader, stdout io.Writer) error {
	dir, err := findShared("corpus")
	if err != nil {
		return err
	}
	files, err := readFeeds(filepath.Join(dir, "feeds"))
	if err != nil {
		return err
	}
	s, err := newFeedServer(files, ServerOptions{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("corpustest: feed server: %w", err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "http://%s\n", ln.Addr()); err != nil {
		return fmt.Errorf("corpustest: feed server: %w", err)
	}
	go func() {
		io.Copy(io.Discard, stdin)
		srv.Close()
	}()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("corpustest: feed server: %w", err)
	}
	return nil
}
