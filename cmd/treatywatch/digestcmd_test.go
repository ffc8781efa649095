package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDigestPreview queues items for a digest and previews it, with and
// without --since, without sending anything.
func TestDigestPreview(t *testing.T) {
	desk := treatyFeed(5)
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(desk)
	}))
	defer srv.Close()
	cfg := writeDigestConfig(t, t.TempDir(), srv.URL+"/desk.rss", fmt.Sprintf(`  - name: daily
    type: digest
    schedule: "0 8 * * *"
    timezone: America/New_York
    transport: {kind: webhook, preset: generic, url: %s/mail, to: [team@example.org]}
`, srv.URL))
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "error"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once: %d\n%s%s", code, out.String(), errOut.String())
	}
	tests := []struct {
		name string
		args []string
	}{
		{"next digest", nil},
		{"since a date", []string{"--since", "2020-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outDir := filepath.Join(t.TempDir(), "preview")
			out.Reset()
			args := append([]string{"digest", "--preview", "--config", cfg, "--out", outDir}, tt.args...)
			if code := run(ctx, args, nil, &out, &errOut); code != 0 {
				t.Fatalf("digest --preview: %d\n%s", code, errOut.String())
			}
			html, err := os.ReadFile(filepath.Join(outDir, "digest.html"))
			if err != nil {
				t.Fatal(err)
			}
			text, _ := os.ReadFile(filepath.Join(outDir, "digest.txt"))
			for _, want := range []string{"Cybercrime convention update", "desk"} {
				if !strings.Contains(string(html), want) || !strings.Contains(string(text), want) {
					t.Errorf("preview lacks %q", want)
				}
			}
			if !strings.Contains(out.String(), "items") {
				t.Errorf("no subject line: %s", out.String())
			}
		})
	}
	if n := posts.Load(); n != 0 {
		t.Errorf("preview sent %d requests to the transport", n)
	}
	if code := run(ctx, []string{"digest", "--config", cfg}, nil, &out, &errOut); code != 2 {
		t.Errorf("digest without --preview: exit %d, want 2", code)
	}
}
