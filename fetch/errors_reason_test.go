package fetch

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// With a DNS server that does not answer, a fetch fails as a network
// error whose reason names the host once and not the URL.
func TestReasonWithUnreachableResolver(t *testing.T) {
	// A UDP port on loopback with nothing behind it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	c := NewClient(ClientOptions{DNS: addr, Timeout: 20 * time.Second})
	const u = "https://news.un-cybercrime-example.org/feed/rss.xml?lang=en"
	_, err = c.Get(context.Background(), Source{ID: "x", URL: u}, u, Validators{})
	if err == nil {
		t.Fatal("fetched through a resolver that does not exist")
	}
	if k := KindOf(err); k != ErrNetwork {
		t.Errorf("kind = %s, want network (%v)", k, err)
	}
	r := Reason(err)
	if strings.Contains(r, u) || strings.Contains(r, "rss.xml") {
		t.Errorf("reason repeats the URL: %s", r)
	}
	if r != `network: cannot resolve "news.un-cybercrime-example.org": the DNS server cannot be reached` {
		t.Errorf("reason = %s", r)
	}
	if got := Reason(errors.New("plain")); got != "plain" {
		t.Errorf("Reason(plain) = %q", got)
	}
}
