package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/mailtest"
	"github.com/treatywatch/treatywatch/internal/store"
)

// TestDigestSendThenSchedule sends a digest by hand (digest --send)
// through a real SMTP server, then lets the scheduled send of the same
// window come: maildev holds one message. The preview before the send
// shows the window the schedule would cover.
func TestDigestSendThenSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a minute boundary")
	}
	t.Parallel()
	md := mailtest.Start(t)
	srv := serveFeed(t, treatyFeed(6))
	dir := t.TempDir()
	cfg := writeDigestConfig(t, dir, srv.URL+"/desk.rss", fmt.Sprintf(`  - name: daily
    type: digest
    schedule: "* * * * *"
    timezone: Europe/Berlin
    transport:
      kind: smtp
      from: monitor@example.org
      to: [analysts@example.org]
      smtp: {host: 127.0.0.1, port: %d, starttls: false}
`, md.SMTPPort))
	ctx := context.Background()
	cmd := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(ctx, append(args, "--config", cfg, "--log-level", "warn"), nil, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errOut.String())
		}
		return out.String() + errOut.String()
	}
	cmd("once", "--deliver-existing")

	preview := cmd("digest", "--preview")
	if !strings.Contains(preview, "next scheduled send") || !strings.Contains(preview, "Cybercrime convention update") {
		t.Errorf("preview does not show the next window and its items:\n%s", preview)
	}
	if n := len(md.Mails(t)); n != 0 {
		t.Fatalf("the preview sent %d messages", n)
	}

	sent := cmd("digest", "--send")
	if !strings.Contains(sent, "sent (") {
		t.Errorf("digest --send says: %s", sent)
	}
	mails := md.Mails(t)
	if len(mails) != 1 || !strings.Contains(mails[0].Text, "Cybercrime convention update") {
		t.Fatalf("after --send maildev holds %d messages, want the digest", len(mails))
	}

	// The scheduled send of the window comes at the next minute: the
	// program reads the real clock, so the test waits until that minute
	// has passed, then checks once did take the scheduled window (its end
	// is the store's last window end now) without a second message.
	slot := time.Now().Truncate(time.Minute).Add(time.Minute)
	time.Sleep(time.Until(slot.Add(2 * time.Second)))
	cmd("once")
	if n := len(md.Mails(t)); n != 1 {
		t.Errorf("after the scheduled send maildev holds %d messages, want 1", n)
	}
	func() {
		st, err := store.Open(ctx, filepath.Join(dir, "treatywatch.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		w, err := st.SinkWindow(ctx, "daily")
		if err != nil {
			t.Fatal(err)
		}
		depth, err := st.OutboxDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if w.Last.Before(slot) || !w.Pending.IsZero() || depth["daily"] != 0 {
			t.Errorf("after once past %s: window %+v, %d records queued; want the scheduled window closed", slot, w, depth["daily"])
		}
	}()
	// --send again: nothing queued, the empty window is skipped.
	cmd("digest", "--send")
	if n := len(md.Mails(t)); n != 1 {
		t.Errorf("an empty window was sent: %d messages", n)
	}
}
