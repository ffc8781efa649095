package store

import (
	"context"
	"testing"
	"time"
)

func TestCommitRunAndBackfill(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		commit     func(*Store) (int, error)
		want       int
		wantEmpty  int
		wantInit   bool
		wantFailed int
	}{
		{"first run marks seen, queues nothing", func(s *Store) (int, error) {
			return s.CommitRun(ctx, RunCommit{SourceID: "s", At: at, Listed: 1, Items: []Labeled{labeled("s", "1", true)}})
		}, 0, 0, true, 0},
		{"run queues relevant items per sink", func(s *Store) (int, error) {
			return s.CommitRun(ctx, RunCommit{SourceID: "s", At: at, Listed: 2, Sinks: []string{"a", "b"},
				Items: []Labeled{labeled("s", "1", true), labeled("s", "2", false)}})
		}, 2, 0, true, 0},
		{"an empty run is counted", func(s *Store) (int, error) {
			return s.CommitRun(ctx, RunCommit{SourceID: "s", At: at, Sinks: []string{"a"}})
		}, 0, 1, true, 0},
		{"backfill leaves health alone", func(s *Store) (int, error) {
			if _, err := s.RecordFailure(ctx, "s", "http", "status 500", at, at.Add(time.Hour)); err != nil {
				return 0, err
			}
			return s.CommitBackfill(ctx, BackfillCommit{SourceID: "s", At: at, Sinks: []string{"a"},
				Items: []Labeled{labeled("s", "1", true)}})
		}, 1, 0, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			n, err := tt.commit(s)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("queued = %d, want %d", n, tt.want)
			}
			st, err := s.Source(ctx, "s")
			if err != nil {
				t.Fatal(err)
			}
			if st.EmptyRuns != tt.wantEmpty || st.Initialised != tt.wantInit || st.Failures != tt.wantFailed {
				t.Errorf("state = %+v", st)
			}
		})
	}
}

func TestKeysByURLAndStoredItems(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a, b := labeled("s", "guid-1", true), labeled("s", "guid-2", false)
	b.Item.URL = a.Item.URL // two keys under one URL: the smaller wins
	if _, err := s.CommitRun(ctx, RunCommit{SourceID: "s", At: at, Listed: 2, Items: []Labeled{b, a}}); err != nil {
		t.Fatal(err)
	}
	keys, err := keysByURL(ctx, s, "s", []string{a.Item.URL, "https://example.org/none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[a.Item.URL] != "guid-1" {
		t.Errorf("keys by url = %v", keys)
	}
	if other, _ := keysByURL(ctx, s, "other", []string{a.Item.URL}); len(other) != 0 {
		t.Errorf("a URL is per source: %v", other)
	}
	// guid-2 is irrelevant, stored without its text: left out, so that a
	// backfill reads its page again.
	items, err := s.StoredItems(ctx, "s", []string{"guid-1", "guid-2", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items["guid-1"].Title != a.Item.Title {
		t.Errorf("stored items = %+v", items)
	}
}

func TestClaimsAndSinkWindow(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, err := s.CommitRun(ctx, RunCommit{SourceID: "s", At: at, Listed: 2, Sinks: []string{"hook", "digest"},
		Items: []Labeled{labeled("s", "1", true), labeled("s", "2", true)}}); err != nil {
		t.Fatal(err)
	}
	due, err := s.ClaimDue(ctx, "hook", at, time.Minute, 1)
	if err != nil || len(due) != 1 {
		t.Fatalf("claim due = %d, %v; want 1", len(due), err)
	}
	// Per-record acks: the first record alone.
	if err := s.Ack(ctx, at, due[0].ID); err != nil {
		t.Fatal(err)
	}
	if due, _ = s.ClaimDue(ctx, "hook", at, time.Minute, 10); len(due) != 1 || due[0].Record.Item.Key != "2" {
		t.Errorf("after one ack = %+v", due)
	}

	w, err := s.SinkWindow(ctx, "digest")
	if err != nil || !w.Last.IsZero() || !w.Pending.IsZero() {
		t.Fatalf("window of a new sink = %+v, %v", w, err)
	}
	end := at.Add(24 * time.Hour)
	if err := s.PutSinkWindow(ctx, "digest", SinkWindow{Last: at, Pending: end}); err != nil {
		t.Fatal(err)
	}
	if w, _ = s.SinkWindow(ctx, "digest"); !w.Last.Equal(at) || !w.Pending.Equal(end) {
		t.Errorf("window = %+v", w)
	}
	recs, err := s.ClaimWindow(ctx, "digest", end, end, time.Minute)
	if err != nil || len(recs) != 2 {
		t.Fatalf("claim window = %d, %v; want 2", len(recs), err)
	}
	if err := s.CloseWindow(ctx, "digest", end, end, recs[0].ID, recs[1].ID); err != nil {
		t.Fatal(err)
	}
	if w, _ = s.SinkWindow(ctx, "digest"); !w.Last.Equal(end) || !w.Pending.IsZero() {
		t.Errorf("window after close = %+v", w)
	}
	if recs, _ = s.ClaimWindow(ctx, "digest", end, end, time.Minute); len(recs) != 0 {
		t.Errorf("closed window still has %d records", len(recs))
	}
}
