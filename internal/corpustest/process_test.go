package corpustest

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	ServeIfChild()
	os.Exit(m.Run())
}

// get fetches url with the request headers h and returns the response
// with its body read.
func get(t *testing.T, url string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestFeedServerProcess starts the server in a process of its own and
// checks that it serves what NewFeedServer serves: the same bytes,
// headers and 304s.
func TestFeedServerProcess(t *testing.T) {
	child := NewFeedServerProcess(t)
	local := NewFeedServer(t, ServerOptions{})
	if len(child.Files) != len(local.Files) {
		t.Fatalf("%d files, want %d", len(child.Files), len(local.Files))
	}
	tests := []string{"golem-de_iso-8859-1.rss", "rosemaryorchard.json", "nshipster_invalid-chars.rss.gz"}
	for _, name := range tests {
		t.Run(name, func(t *testing.T) {
			got, gotBody := get(t, child.FeedURL(name), nil)
			want, wantBody := get(t, local.FeedURL(name), nil)
			if got.StatusCode != 200 || !bytes.Equal(gotBody, wantBody) {
				t.Fatalf("status %d, %d bytes; want 200 and the %d bytes NewFeedServer sends", got.StatusCode, len(gotBody), len(wantBody))
			}
			for _, h := range []string{"ETag", "Last-Modified", "Content-Type"} {
				if got.Header.Get(h) != want.Header.Get(h) {
					t.Errorf("%s %q, want %q", h, got.Header.Get(h), want.Header.Get(h))
				}
			}
			if r, _ := get(t, child.FeedURL(name), map[string]string{"If-None-Match": got.Header.Get("ETag")}); r.StatusCode != 304 {
				t.Errorf("If-None-Match: %d, want 304", r.StatusCode)
			}
		})
	}
	if r, _ := get(t, child.FeedURL("no-such-feed.rss"), nil); r.StatusCode != 404 {
		t.Errorf("missing feed: %d, want 404", r.StatusCode)
	}
}

// TestServeChildStopsWhenInputEnds runs the child's side in this
// process: it names its address first and stops serving when its
// standard input ends.
func TestServeChildStopsWhenInputEnds(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serveChild(inR, outW) }()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(line)
	if r, _ := get(t, url+"/feeds/golem-de_iso-8859-1.rss", nil); r.StatusCode != 200 {
		t.Fatalf("GET: %d", r.StatusCode)
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serveChild: %v", err)
		}
	case <-time.After(time.Minute): // generous: only a server that never stops takes this long
		t.Fatal("serveChild still serving a minute after its input ended")
	}
	if _, err := http.Get(url + "/feeds/golem-de_iso-8859-1.rss"); err == nil {
		t.Error("the server still answers after it stopped")
	}
}
