package sinktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// Harness tells Run how to make the sink under test and read back what it
// delivered.
type Harness struct {
	// New returns a sink with a fresh, empty receiver. It is called once
	// per subtest; use t.Cleanup to release what it makes.
	New func(t *testing.T) Target
	// Project keeps the fields of an envelope the sink's format can carry
	// (a CSV row keeps fewer than a JSON body). Run compares Project(sent)
	// with Project(received). Nil compares whole envelopes.
	Project func(sinks.Envelope) sinks.Envelope
	// Dedupes says the sink itself drops event ids it already took (the
	// file sink does): the receiver must then never hold a duplicate.
	// Otherwise duplicates are allowed and Run dedupes like a receiver.
	Dedupes bool
}

// Target is one sink under test and its receiver.
type Target struct {
	Sink sinks.Sink
	// Received returns every envelope the receiver holds, in the order it
	// got them, duplicates included.
	Received func(t *testing.T) []sinks.Envelope
	// Restart, when set, returns a new sink on the same receiver, as a
	// restarted process would open it. Run then checks that a batch
	// retried across a restart is still seen once.
	Restart func(t *testing.T) sinks.Sink
}

// Run checks that a sink keeps the Sink contract: it delivers every
// record with all its fields, in order; a retried batch (same event ids)
// is seen once after deduplication, also across a restart; an empty batch
// is a no-op; a cancelled context is an error that wraps ctx.Err(); and
// concurrent writes lose nothing.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("sinktest: Harness.New is nil")
	}
	project := h.Project
	if project == nil {
		project = func(e sinks.Envelope) sinks.Envelope { return e }
	}
	s := &suite{h: h, project: project}
	t.Run("Deliver", s.deliver)
	t.Run("KeepsFields", s.keepsFields)
	t.Run("EmptyBatch", s.emptyBatch)
	t.Run("RetriedBatch", s.retriedBatch)
	t.Run("Restart", s.restart)
	t.Run("Canceled", s.canceled)
	t.Run("Concurrent", s.concurrent)
	t.Run("TakesEachRecord", s.takesEach)
}

type suite struct {
	h       Harness
	project func(sinks.Envelope) sinks.Envelope
}

func (s *suite) deliver(t *testing.T) {
	tg := s.h.New(t)
	recs := Records(8)
	write(t, tg.Sink, recs[:5])
	write(t, tg.Sink, recs[5:])
	s.expect(t, tg, recs)
}

func (s *suite) keepsFields(t *testing.T) {
	tg := s.h.New(t)
	recs := Records(len(titles) * 2)
	write(t, tg.Sink, recs)
	got := Dedupe(tg.Received(t))
	if len(got) != len(recs) {
		t.Fatalf("receiver holds %d records, want %d", len(got), len(recs))
	}
	byID := make(map[string]sinks.Envelope, len(got))
	for _, e := range got {
		byID[e.EventID] = e
	}
	for _, r := range recs {
		e, ok := byID[r.EventID]
		if !ok {
			t.Errorf("event %s not received", r.EventID)
			continue
		}
		want, err := json.Marshal(s.project(sinks.NewEnvelope(r)))
		if err != nil {
			t.Fatal(err)
		}
		have, err := json.Marshal(s.project(e))
		if err != nil {
			t.Fatal(err)
		}
		if string(want) != string(have) {
			t.Errorf("event %s changed on the way:\n got %s\nwant %s", r.EventID, have, want)
		}
	}
}

func (s *suite) emptyBatch(t *testing.T) {
	tg := s.h.New(t)
	write(t, tg.Sink, nil)
	write(t, tg.Sink, []sinks.Record{})
	if got := tg.Received(t); len(got) != 0 {
		t.Fatalf("empty batches delivered %d records", len(got))
	}
	recs := Records(1)
	write(t, tg.Sink, recs)
	write(t, tg.Sink, nil)
	s.expect(t, tg, recs)
}

func (s *suite) retriedBatch(t *testing.T) {
	tg := s.h.New(t)
	recs := Records(6)
	write(t, tg.Sink, recs[:4])
	// The outbox did not see the ack: it offers the batch again, with
	// more records queued since.
	write(t, tg.Sink, recs)
	write(t, tg.Sink, recs[2:])
	s.expect(t, tg, recs)
}

func (s *suite) restart(t *testing.T) {
	tg := s.h.New(t)
	if tg.Restart == nil {
		t.Skip("the sink keeps no state across a restart")
	}
	recs := Records(5)
	write(t, tg.Sink, recs[:3])
	again := tg.Restart(t)
	if again.Name() != tg.Sink.Name() {
		t.Errorf("restarted sink is named %q, was %q", again.Name(), tg.Sink.Name())
	}
	write(t, again, recs)
	s.expect(t, tg, recs)
}

func (s *suite) canceled(t *testing.T) {
	tg := s.h.New(t)
	recs := Records(3)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := tg.Sink.Write(ctx, recs)
	if err == nil {
		t.Fatal("Write with a cancelled context returned nil")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context: %v, want an error wrapping context.Canceled", err)
	}
	if !strings.Contains(err.Error(), tg.Sink.Name()) {
		t.Errorf("error %q does not name the sink %q", err, tg.Sink.Name())
	}
	// Nothing was acked, so the outbox offers them again.
	write(t, tg.Sink, recs)
	s.expect(t, tg, recs)
}

func (s *suite) concurrent(t *testing.T) {
	tg := s.h.New(t)
	recs := Records(12)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		batch := recs[w*3 : w*3+3]
		for range 2 { // each batch twice, as two racing retries would
			wg.Go(func() {
				if err := tg.Sink.Write(t.Context(), batch); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Write: %v", err)
	}
	got := tg.Received(t)
	s.checkDuplicates(t, got)
	ids := make(map[string]bool)
	for _, e := range got {
		ids[e.EventID] = true
	}
	for _, r := range recs {
		if !ids[r.EventID] {
			t.Errorf("event %s lost by concurrent writes", r.EventID)
		}
	}
	if n := len(Dedupe(got)); n != len(recs) {
		t.Errorf("receiver holds %d distinct events, want %d", n, len(recs))
	}
}

// expect checks that the receiver holds exactly recs, once each after
// deduplication, in the order they were first written.
func (s *suite) expect(t *testing.T, tg Target, recs []sinks.Record) {
	t.Helper()
	got := tg.Received(t)
	s.checkDuplicates(t, got)
	uniq := Dedupe(got)
	var have, want []string
	for _, e := range uniq {
		have = append(have, e.EventID)
	}
	for _, r := range recs {
		want = append(want, r.EventID)
	}
	if strings.Join(have, " ") != strings.Join(want, " ") {
		t.Fatalf("receiver holds events\n  %v\nwant\n  %v", have, want)
	}
	for _, e := range uniq {
		if e.SchemaVersion != 0 && e.SchemaVersion != sinks.SchemaVersion {
			t.Errorf("event %s: schema_version %d, want %d", e.EventID, e.SchemaVersion, sinks.SchemaVersion)
		}
		if e.EventType != "" && e.EventType != sinks.EventLabelled {
			t.Errorf("event %s: event_type %q, want %q", e.EventID, e.EventType, sinks.EventLabelled)
		}
	}
}

func (s *suite) checkDuplicates(t *testing.T, got []sinks.Envelope) {
	t.Helper()
	if !s.h.Dedupes {
		return
	}
	seen := make(map[string]bool)
	for _, e := range got {
		if seen[e.EventID] {
			t.Errorf("event %s delivered twice by a sink that promises to dedupe", e.EventID)
		}
		seen[e.EventID] = true
	}
}

func write(t *testing.T, s sinks.Sink, recs []sinks.Record) {
	t.Helper()
	if err := s.Write(t.Context(), recs); err != nil {
		t.Fatalf("Write(%d records): %v", len(recs), err)
	}
}

// Dedupe keeps the first envelope of each event id, in order, as a
// receiver that keeps ids would.
func Dedupe(envs []sinks.Envelope) []sinks.Envelope {
	seen := make(map[string]bool, len(envs))
	out := make([]sinks.Envelope, 0, len(envs))
	for _, e := range envs {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		out = append(out, e)
	}
	return out
}

// titles are the awkward texts records carry: quotes, separators, line
// breaks, markup, a spreadsheet formula, other scripts, nothing at all.
var titles = []string{
	`UN cybercrime treaty: "final" text adopted, 126 votes`,
	"Convention; Art. 16, states sign\nin Hanoi",
	`=HYPERLINK("http://example.invalid") critics warn`,
	"Конвенция ООН против киберпреступности — подписание",
	"<b>Markup</b> & entities &amp; in a title",
	"",
	"-40% support; 'mixed' reactions\r\nfrom NGOs",
}

// Records returns n distinct records whose every field is set to
// something a careless encoder would get wrong. Record i has event id
// "evt-<i>"; one in five has no publication date, and the dates come in
// several zones, one with fractional seconds.
func Records(n int) []sinks.Record {
	zones := []*time.Location{
		time.UTC,
		time.FixedZone("IST", 5*3600+1800),
		time.FixedZone("EDT", -4*3600),
	}
	base := time.Date(2025, 10, 25, 9, 30, 0, 0, time.UTC)
	stances := []classify.Stance{classify.StanceCritical, classify.StanceSupportive, classify.StanceNeutral, classify.StanceMixed}
	topicSets := [][]rules.Topic{{"human-rights", "surveillance"}, {"signature"}, {}, {"data-access", "cooperation", "ratification"}}
	recs := make([]sinks.Record, n)
	for i := range recs {
		fetched := base.Add(time.Duration(i) * time.Hour).Add(17 * time.Minute)
		pub := base.Add(time.Duration(i) * time.Hour).In(zones[i%len(zones)])
		if i%7 == 3 {
			pub = pub.Add(250 * time.Millisecond)
		}
		if i%5 == 4 {
			pub = time.Time{}
		}
		title := titles[i%len(titles)]
		stance := stances[i%len(stances)]
		sentence := fmt.Sprintf("Record %d: the convention \"%s\" threatens, says, <Article 16>.", i, strings.ReplaceAll(title, "\n", " "))
		recs[i] = sinks.Record{
			EventID: fmt.Sprintf("evt-%d", i),
			Item: fetch.Item{
				Key:         fmt.Sprintf("https://news.example.org/a/%d", i),
				SourceID:    []string{"eff", "un-press", "hrw"}[i%3],
				SourceName:  []string{"EFF Deeplinks", "UN Press, \"Meetings\"", "=Human Rights Watch"}[i%3],
				SourceActor: []string{"Electronic Frontier Foundation", "", "Human Rights Watch"}[i%3],
				URL:         fmt.Sprintf("https://news.example.org/a/%d?utm=x&b=%%C3%%A9", i),
				Title:       title,
				Summary:     fmt.Sprintf("Summary %d with \"quotes\", commas, a tab\tand ümlauts.", i),
				Content:     "full text, not carried by the envelope",
				Lang:        []string{"en", "ru", "fr"}[i%3],
				Author:      []string{"", "Jane Doe", "Jean-Luc Picard"}[i%3],
				Published:   pub,
				Fetched:     fetched,
				Provenance: fetch.Provenance{
					FinalURL:     fmt.Sprintf("https://news.example.org/a/%d", i),
					Status:       200,
					ETag:         fmt.Sprintf(`W/"etag-%d"`, i),
					LastModified: "Sat, 25 Oct 2025 09:00:00 GMT",
					BodySHA256:   fmt.Sprintf("%064x", i+1),
					FetchedAt:    fetched,
					Extracted:    i%2 == 0,
				},
			},
			Result: classify.Result{
				Relevant: true,
				Score:    0.5 + float64(i)/100 + 1.0/3,
				Topics:   topicSets[i%len(topicSets)],
				Stance:   stance,
				Actor:    []string{"", "UN Member States", "Human Rights Watch"}[i%3],
				Evidence: []classify.Match{
					{Rule: "alias.uncc", Kind: "alias", Words: []string{"convention"}, Field: classify.FieldTitle, Weight: 1},
					{Rule: "stance." + string(stance), Kind: "stance", Label: string(stance), Words: []string{"threatens", "says"}, Sentence: sentence, Field: classify.FieldSummary, Weight: 0.75},
				},
				Rules: "2025.10-test",
			},
		}
	}
	return recs
}

// takesEach checks a Taker: took is called for each record in order, once
// the receiver holds it and before the next is sent; an error from took
// stops the write there.
func (s *suite) takesEach(t *testing.T) {
	tg := s.h.New(t)
	tk, ok := tg.Sink.(sinks.Taker)
	if !ok {
		t.Skip("the sink takes a batch at once (no sinks.Taker)")
	}
	recs := Records(4)
	var order []int
	err := tk.WriteTaking(t.Context(), recs, func(i int) error {
		order = append(order, i)
		if got := distinct(tg.Received(t)); got != i+1 {
			t.Errorf("took(%d) called when the receiver holds %d records, want %d", i, got, i+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[0 1 2 3]" {
		t.Errorf("took called with %v, want [0 1 2 3]", order)
	}
	s.expect(t, tg, recs)

	tg = s.h.New(t)
	tk = tg.Sink.(sinks.Taker)
	stop := errors.New("store unavailable")
	err = tk.WriteTaking(t.Context(), recs, func(i int) error {
		if i == 1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("WriteTaking with a failing took: %v, want an error wrapping %v", err, stop)
	}
	if got := distinct(tg.Received(t)); got != 2 {
		t.Errorf("receiver holds %d records after took failed on the second, want 2 (none sent after)", got)
	}
}

func distinct(envs []sinks.Envelope) int {
	seen := map[string]bool{}
	for _, e := range envs {
		seen[e.EventID] = true
	}
	return len(seen)
}
