package corpustest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestFeeds(t *testing.T) {
	files := Feeds(t)
	if len(files) != 107 {
		t.Errorf("%d feeds, want 107", len(files))
	}
	byName := map[string]FeedFile{}
	for _, f := range files {
		byName[f.Name] = f
	}
	tests := []struct {
		name, charset, declared string
		lies                    bool
		contentType             string
	}{
		{"laut-de_iso-8859-1.rdf", "utf-8", "iso-8859-1", true, "application/rdf+xml"},
		{"uol-noticias_no-prolog.rss", "iso-8859-1", "", false, "application/rss+xml"},
		{"golem-de_iso-8859-1.rss", "iso-8859-1", "iso-8859-1", false, "application/rss+xml; charset=iso-8859-1"},
		{"kc0011_gb2312.rss", "gb2312", "gb2312", false, "application/rss+xml; charset=gb2312"},
		{"hackernews.rss", "utf-8", "", false, "application/rss+xml"},
		{"4fsodonline.atom", "utf-8", "utf-8", false, "application/atom+xml; charset=utf-8"},
		{"daringfireball.json", "utf-8", "utf-8", false, "application/feed+json; charset=utf-8"},
		{"nshipster_invalid-chars.rss.gz", "utf-8", "utf-8", false, "application/gzip"},
	}
	for _, tc := range tests {
		f, ok := byName[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		if f.Charset != tc.charset || f.Declared != tc.declared || f.Lies != tc.lies || f.ContentType() != tc.contentType {
			t.Errorf("%s: charset %q declared %q lies %v content type %q", tc.name, f.Charset, f.Declared, f.Lies, f.ContentType())
		}
	}
	if f := byName["rosemaryorchard.json"]; !f.Approx || f.Items != 84 || f.GofeedOK {
		t.Errorf("rosemaryorchard: %+v", f)
	}
}

func TestFeedServer(t *testing.T) {
	srv := NewFeedServer(t, ServerOptions{})
	get := func(name string, h map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.FeedURL(name), nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("golem-de_iso-8859-1.rss", nil)
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) || lm == "" ||
		resp.Header.Get("Content-Type") != "application/rss+xml; charset=iso-8859-1" {
		t.Fatalf("first GET: %d %v", resp.StatusCode, resp.Header)
	}
	if r := get("golem-de_iso-8859-1.rss", map[string]string{"If-None-Match": etag}); r.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	if r := get("golem-de_iso-8859-1.rss", map[string]string{"If-Modified-Since": lm}); r.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %d", r.StatusCode)
	}
	if r := get("golem-de_iso-8859-1.rss", map[string]string{"If-None-Match": `"other"`}); r.StatusCode != 200 {
		t.Errorf("stale ETag: %d", r.StatusCode)
	}
	if r := get("no-such-feed.rss", nil); r.StatusCode != 404 {
		t.Errorf("missing feed: %d", r.StatusCode)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if st := srv.Stats(host); st.Requests != 5 || st.NotModified != 2 || st.InFlight != 0 || st.MaxInFlight != 1 {
		t.Errorf("stats %+v", st)
	}
}
