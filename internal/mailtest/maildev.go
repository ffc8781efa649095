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
	"strings"
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
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
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
			t.Fatalf("maildev did not come up: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
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
