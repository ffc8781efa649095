package mailtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bin finds the maildev binary: $MAILDEV_BIN, PATH, or npm's global
// prefix.
func Bin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MAILDEV_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	} else if p, err := exec.LookPath("maildev"); err == nil {
		return p
	} else if out, err := exec.Command("npm", "prefix", "-g").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "maildev")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "maildev (SMTP mail catcher) not found in PATH or the npm global prefix: run scripts/install-test-deps.sh"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a running maildev.
type Server struct {
	SMTPPort int
	API      string // base URL of the HTTP API, ending in /api
}

// Start runs maildev until the test ends; extra args go to maildev.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := Bin(t)
	md := &Server{SMTPPort: FreePort(t)}
	web := FreePort(t)
	md.API = fmt.Sprintf("http://127.0.0.1:%d/api", web)
	args = append([]string{"--smtp", fmt.Sprint(md.SMTPPort), "--ip", "127.0.0.1", "--web", fmt.Sprint(web),
		"--web-ip", "127.0.0.1", "--mail-directory", t.TempDir()}, args...)
	cmd := exec.Command(bin, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := startDeadline(t)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("maildev exited before it came up (%v): %s", err, out.String())
		default:
		}
		resp, err := http.Get(md.API + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", md.SMTPPort)); err == nil {
					c.Close()
					return md
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("maildev did not come up by %s: %s", deadline.Format(time.TimeOnly), out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startDeadline is how long maildev may take to come up: a minute on an
// idle machine, more in proportion to the load average per core (a Node.js
// start on a busy 2-core machine can take tens of seconds), but never past
// the test's own deadline less a margin for the report.
func startDeadline(t testing.TB) time.Time {
	wait := time.Minute
	if load := loadPerCPU(); load > 1 {
		wait = time.Duration(float64(wait) * load)
	}
	deadline := time.Now().Add(wait)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Add(-10*time.Second).Before(deadline) {
			deadline = td.Add(-10 * time.Second)
		}
	}
	return deadline
}

// loadPerCPU is the one-minute load average divided by the number of
// CPUs, or 0 where /proc/loadavg cannot be read.
func loadPerCPU() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return 0
	}
	return load / float64(runtime.NumCPU())
}

// lockedBuffer is a bytes.Buffer that the process's output copier writes
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Mail is a message as maildev's API shows it.
type Mail struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
	To      []struct {
		Address string `json:"address"`
	} `json:"to"`
	Envelope struct {
		To []struct {
			Address string `json:"address"`
		} `json:"to"`
	} `json:"envelope"`
}

// Mails returns every message received so far.
func (md *Server) Mails(t testing.TB) []Mail {
	t.Helper()
	resp, err := http.Get(md.API + "/email")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ms []Mail
	if err := json.NewDecoder(resp.Body).Decode(&ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// Source returns the raw message with the given id.
func (md *Server) Source(t testing.TB, id string) []byte {
	t.Helper()
	resp, err := http.Get(md.API + "/email/" + id + "/source")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("source %s: %d %v", id, resp.StatusCode, err)
	}
	return b
}
