package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The secrets of secretsConfig: none of them may appear in anything the
// program prints, serves or stores.
var testSecrets = []string{
	"SRCPASS-1111", "SRCKEY-2222", "SRCTOKEN-3333", "GONETOKEN-4444",
	"HOOKPASS-5555", "HOOKKEY-6666", "HOOKSECRET-7777", "HDRKEY-8888", "DEADTOKEN-9999",
	base64.StdEncoding.EncodeToString([]byte("reader:SRCPASS-1111")),
	base64.StdEncoding.EncodeToString([]byte("hookuser:HOOKPASS-5555")),
}

// echoServer serves a feed at /desk.rss and answers anything else with
// an error that echoes the request's URL and headers back, as careless
// servers do.
func echoServer(t *testing.T) *httptest.Server {
	feed := treatyFeed(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/desk.rss" {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(feed)
			return
		}
		user, pass, _ := r.BasicAuth()
		code := http.StatusInternalServerError
		if r.URL.Path == "/missing" {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "cannot serve %s (user %s:%s, headers %v)", r.URL.String(), user, pass, r.Header)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func secretsConfig(t *testing.T, dir, base, deadBase string) string {
	host := strings.TrimPrefix(base, "http://")
	cfg := fmt.Sprintf(`data_dir: %[1]s
http:
  per_host: 8
  host_interval: 0s
  allow_private: [loopback]
defaults:
  timeout: 10s
  min_words: 0
sources:
  - id: desk
    url: http://reader:SRCPASS-1111@%[2]s/desk.rss?api_key=SRCKEY-2222
    headers:
      Authorization: Bearer SRCTOKEN-3333
  - id: gone
    url: %[3]s/missing?token=GONETOKEN-4444
sinks:
  - name: jsonl
    type: file
    path: %[1]s/items.jsonl
  - name: hook
    type: webhook
    url: http://hookuser:HOOKPASS-5555@%[2]s/hook?api_key=HOOKKEY-6666
    secret: HOOKSECRET-7777
    headers:
      X-Api-Key: HDRKEY-8888
    timeout: 2s
  - name: dead
    type: webhook
    url: %[4]s/x?access_token=DEADTOKEN-9999
    secret: HOOKSECRET-7777
    timeout: 2s
`, dir, host, base, deadBase)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecretsNeverLeave runs every command that prints, logs, serves or
// stores anything over a config full of credentials, against servers
// that echo requests back, and greps every output channel, the metrics
// page and every file the program wrote (the database among them) for
// those credentials.
func TestSecretsNeverLeave(t *testing.T) {
	srv := echoServer(t)
	// A port nothing listens on: the connection error names the URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadBase := "http://" + ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := secretsConfig(t, dir, srv.URL, deadBase)
	ctx := context.Background()

	outputs := map[string]string{}
	runAndKeep := func(name string, args ...string) int {
		var out, errOut bytes.Buffer
		code := run(ctx, args, nil, &out, &errOut)
		outputs[name+" stdout"] = out.String()
		outputs[name+" stderr"] = errOut.String()
		return code
	}
	common := []string{"--config", cfg}
	for _, format := range []string{"text", "json"} {
		code := runAndKeep("once "+format, append([]string{"once", "--deliver-existing", "--deliver-timeout", "1s",
			"--retry-backoff", "100ms", "--log-level", "debug", "--log-format", format}, common...)...)
		if code != 1 {
			t.Errorf("once (%s logs): exit %d, want 1 (a source and two sinks fail)", format, code)
		}
	}
	runAndKeep("check", append([]string{"check", "--log-level", "debug"}, common...)...)
	runAndKeep("check offline", append([]string{"check", "--offline"}, common...)...)
	runAndKeep("config", append([]string{"config"}, common...)...)
	if code := runAndKeep("seen", append([]string{"seen"}, append(common, "--source", "desk")...)...); code != 0 {
		t.Errorf("seen: exit %d: %s", code, outputs["seen stderr"])
	}

	// The daemon's metrics page.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dctx, cancel := context.WithCancel(ctx)
	var dout, derr lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(dctx, append([]string{"run", "--listen", addr, "--grace", "1s", "--retry-backoff", "100ms", "--log-level", "debug"}, common...), nil, &dout, &derr)
	}()
	var metrics string
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `treatywatch_outbox_pending{sink="hook"}`) {
				metrics = string(b)
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	if metrics == "" {
		t.Error("the daemon's metrics never showed the queue of the failing sink")
	}
	outputs["metrics"] = metrics
	outputs["run stdout"], outputs["run stderr"] = dout.String(), derr.String()

	// Every file the program wrote: database (and its journal), JSONL.
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == cfg {
			return err
		}
		b, err := os.ReadFile(path)
		outputs["file "+filepath.Base(path)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The outputs are the real thing: they carry the failures that would
	// show a credential.
	for name, want := range map[string]string{
		"once text stderr":    "delivery failed",
		"once json stderr":    `"level":"WARN"`,
		"once text stdout":    "gone",
		"check stdout":        "hook",
		"config stdout":       "***",
		"file treatywatch.db": "cannot serve",
	} {
		if !strings.Contains(outputs[name], want) {
			t.Errorf("%s does not contain %q; the test no longer sees the failures:\n%.2000s", name, want, outputs[name])
		}
	}
	for name, text := range outputs {
		for _, s := range testSecrets {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("%s shows the secret %s: ...%s...", name, s, text[max(0, i-150):min(len(text), i+50)])
			}
		}
	}
}
