package feed

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"
)

func gz(t *testing.T, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts { // one gzip member each
		w := gzip.NewWriter(&b)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestGunzip(t *testing.T) {
	long := strings.Repeat("<item>convention</item>", 5000)
	whole := gz(t, long)
	tests := []struct {
		name, want, wantErr string
		body                []byte
	}{
		{name: "one member", body: whole, want: long},
		{name: "two members, the trailer counts the last", body: gz(t, long, "<x/>"), want: long + "<x/>"},
		{name: "empty", body: gz(t, ""), want: ""},
		{name: "trailer cut off", body: whole[:len(whole)-3], wantErr: "not valid gzip"},
		{name: "lying trailer", body: append(whole[:len(whole)-4:len(whole)-4], 0xff, 0xff, 0xff, 0x7f), wantErr: "not valid gzip"},
		{name: "beyond the cap", body: gz(t, strings.Repeat("a", maxInflated+1)), wantErr: "inflates beyond 32 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gunzip(tt.body)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestRSSTTL(t *testing.T) {
	tests := []struct {
		doc  string
		want time.Duration
	}{
		{`<rss><channel><ttl>90</ttl><item></item></channel></rss>`, 90 * time.Minute},
		{`<rss><channel><ttl> 30 </ttl></channel></rss>`, 30 * time.Minute},
		{`<rss><channel><ttl>soon</ttl><ttl>5</ttl></channel></rss>`, 5 * time.Minute},
		{`<rss><channel><item><ttl>5</ttl></item></channel></rss>`, 0},
		{`<rss><channel><ttl>0</ttl></channel></rss>`, 0},
		{`<rss><channel><ttl>999999</ttl></channel></rss>`, 0},
		{`<feed xmlns="http://www.w3.org/2005/Atom"><entry></entry></feed>`, 0},
	}
	for _, tt := range tests {
		if got := rssTTL([]byte(tt.doc)); got != tt.want {
			t.Errorf("rssTTL(%s) = %v, want %v", tt.doc, got, tt.want)
		}
	}
}
