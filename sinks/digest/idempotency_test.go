package digest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/sinks"
)

// ticking returns a clock that advances a minute per call, so a second
// rendering would carry a different Date.
func ticking() func() time.Time {
	at := winEnd
	return func() time.Time { at = at.Add(time.Minute); return at }
}

func TestWriteWindowRetriesSendTheStoredMessageOnce(t *testing.T) {
	ctx := context.Background()
	st := &fileState{dir: t.TempDir()}
	tr := &recorder{failLeft: 1}
	s := newTestSink(t, tr, st, func(o *Options) { o.Now = ticking() })

	if err := s.WriteWindow(ctx, window, windowRecords()); err == nil {
		t.Fatal("first WriteWindow succeeded although the transport failed")
	}
	// The retry comes with more records in the same window (a late
	// commit): the stored digest is sent, not a new one.
	more := append(windowRecords(), rec("late", "Late item", "critical", 1, winEnd, "gender"))
	if err := s.WriteWindow(ctx, window, more); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteWindow(ctx, window, more); err != nil {
		t.Fatal(err)
	}
	if len(tr.attempts) != 2 || len(tr.sent) != 1 {
		t.Fatalf("attempts %d, sent %d; want 2 and 1", len(tr.attempts), len(tr.sent))
	}
	if !reflect.DeepEqual(tr.attempts[0], tr.attempts[1]) {
		t.Fatalf("the retry sent a different message:\n%+v\n%+v", tr.attempts[0].Subject, tr.attempts[1].Subject)
	}
	if tr.sent[0].Items != 6 {
		t.Errorf("sent %d items, want the 6 of the first rendering", tr.sent[0].Items)
	}
	if ok, err := s.Sent(ctx, winEnd); err != nil || !ok {
		t.Errorf("Sent = %v, %v", ok, err)
	}

	// The next window's deltas compare with the stats stored after sending.
	next := sinks.Window{Start: winEnd, End: winEnd.Add(24 * time.Hour)}
	if err := s.WriteWindow(ctx, next, windowRecords()[:1]); err != nil {
		t.Fatal(err)
	}
	if len(tr.sent) != 2 || tr.sent[1].ID == tr.sent[0].ID {
		t.Fatalf("second window: sent %d, ids %q", len(tr.sent), tr.sent[len(tr.sent)-1].ID)
	}
	raw, ok, err := st.GetState(ctx, "digest/daily/stats")
	if err != nil || !ok {
		t.Fatal("no stats stored", err)
	}
	var stats Stats
	if err := json.Unmarshal(raw, &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Total != 1 || !stats.WindowEnd.Equal(next.End) {
		t.Errorf("stats = %+v", stats)
	}
}

// TestCrashAfterSendResendsTheSameMessage simulates a kill between the
// transport accepting the digest and the "sent" mark: on restart (a new
// Sink over the same persisted state) the stored message goes out again
// with the same ID, Date and bodies, and after that never again.
func TestCrashAfterSendResendsTheSameMessage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	before := &recorder{}
	crashed := newTestSink(t, before, &fileState{dir: dir, failPut: "/sent/"}, func(o *Options) { o.Now = ticking() })
	if err := crashed.WriteWindow(ctx, window, windowRecords()); err == nil {
		t.Fatal("want an error from the lost sent mark")
	}
	if len(before.sent) != 1 {
		t.Fatalf("sent %d before the crash", len(before.sent))
	}

	after := &recorder{}
	restarted := newTestSink(t, after, &fileState{dir: dir}, func(o *Options) {
		o.Now = func() time.Time { return winEnd.Add(3 * time.Hour) }
	})
	// After a restart the outbox may hand over the records in another order.
	recs := windowRecords()
	recs[0], recs[3] = recs[3], recs[0]
	if err := restarted.WriteWindow(ctx, window, recs); err != nil {
		t.Fatal(err)
	}
	if len(after.sent) != 1 || !reflect.DeepEqual(after.sent[0], before.sent[0]) {
		t.Fatalf("restart sent %d messages; same as before the crash: %v", len(after.sent),
			len(after.sent) == 1 && reflect.DeepEqual(after.sent[0], before.sent[0]))
	}
	if err := restarted.WriteWindow(ctx, window, recs); err != nil {
		t.Fatal(err)
	}
	if len(after.sent) != 1 {
		t.Fatalf("sent again after the mark: %d", len(after.sent))
	}
}

func TestEmptyWindow(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		policy string
		sends  int
	}{{EmptySkip, 0}, {EmptyNotify, 1}} {
		t.Run(tt.policy, func(t *testing.T) {
			tr := &recorder{}
			s := newTestSink(t, tr, &fileState{dir: t.TempDir()}, func(o *Options) { o.Empty = tt.policy })
			for range 2 {
				if err := s.WriteWindow(ctx, window, nil); err != nil {
					t.Fatal(err)
				}
			}
			if len(tr.sent) != tt.sends {
				t.Fatalf("sent %d, want %d", len(tr.sent), tt.sends)
			}
			if ok, _ := s.Sent(ctx, winEnd); !ok {
				t.Error("window not marked done")
			}
			if tt.sends == 1 && tr.sent[0].Subject != "treatywatch digest 2026-11-23: nothing new" {
				t.Errorf("subject %q", tr.sent[0].Subject)
			}
		})
	}
}

func TestIDDependsOnNameWindowAndRecipients(t *testing.T) {
	st := &fileState{dir: t.TempDir()}
	a := newTestSink(t, &recorder{}, st, nil)
	b := newTestSink(t, &recorder{}, st, func(o *Options) { o.Name = "weekly" })
	w1, err := NewWebhook(WebhookConfig{URL: "http://127.0.0.1/x", To: []string{"a@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := NewWebhook(WebhookConfig{URL: "http://127.0.0.1/x", To: []string{"b@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestSink(t, w1, st, nil)
	d := newTestSink(t, w2, st, nil)
	ids := map[string]bool{}
	for _, id := range []string{a.ID(winEnd), a.ID(winEnd.Add(time.Hour)), b.ID(winEnd), c.ID(winEnd), d.ID(winEnd)} {
		ids[id] = true
	}
	if len(ids) != 5 {
		t.Errorf("ids collide: %v", ids)
	}
	if a.ID(winEnd) != a.ID(winEnd.In(time.FixedZone("x", 3600))) {
		t.Error("id depends on the zone of the window end")
	}
}

func TestPreviewStoresNothing(t *testing.T) {
	ctx := context.Background()
	st := &fileState{dir: t.TempDir()}
	tr := &recorder{}
	hs := health{{ID: "eff", Name: "EFF Deeplinks", State: "blocked", Failures: 2}}
	s := newTestSink(t, tr, st, func(o *Options) { o.Health = hs })
	m, err := s.Preview(ctx, window, windowRecords())
	if err != nil {
		t.Fatal(err)
	}
	if m.Items != 6 || len(tr.attempts) != 0 {
		t.Fatalf("items %d, attempts %d", m.Items, len(tr.attempts))
	}
	if ok, _ := s.Sent(ctx, winEnd); ok {
		t.Error("preview marked the window sent")
	}
	if _, ok, _ := st.GetState(ctx, "digest/daily/msg/"+m.ID); ok {
		t.Error("preview stored the message")
	}
}
