package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/dashboard"
)

// TestClosedDatabaseEveryCall: every read and write of the read model,
// the leases and the windows on a closed store returns an error that
// says which call failed and why, on both databases (the calls of the
// items, outbox and sources are in TestClosedDatabase).
func TestClosedDatabaseEveryCall(t *testing.T) { onBothDialects(t, testClosedDatabaseEveryCall) }

func testClosedDatabaseEveryCall(t *testing.T, s *Store) {
	ctx := context.Background()
	s.Close()
	at := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	const day = "2026-03-05"
	calls := []struct {
		name, want string
		call       func() error
	}{
		{"DayStance", "counts per day", func() error { _, err := s.DayStance(ctx, day, day, ""); return err }},
		{"DayStance topic", "counts per day", func() error { _, err := s.DayStance(ctx, day, day, "gender"); return err }},
		{"TopicStance", "counts per topic", func() error { _, err := s.TopicStance(ctx, day, day); return err }},
		{"ActorStance", "counts per actor", func() error { _, err := s.ActorStance(ctx, day, day); return err }},
		{"ActorTopic", "counts per actor and topic", func() error { _, err := s.ActorTopic(ctx, day, day); return err }},
		{"TreatyEvents", "treaty events", func() error { _, err := s.TreatyEvents(ctx); return err }},
		{"SourceHealth", "sources", func() error { _, err := s.SourceHealth(ctx, at); return err }},
		{"Facets", "facets", func() error { _, err := s.Facets(ctx); return err }},
		{"OutboxHealth", "outbox health", func() error { _, err := s.OutboxHealth(ctx); return err }},
		{"SearchItems", "count items", func() error { _, err := s.SearchItems(ctx, dashboard.ItemQuery{Limit: 10}); return err }},
		{"ItemDetail", "item 1", func() error { _, err := s.ItemDetail(ctx, 1); return err }},
		{"AddCorrection", "correct item 1", func() error {
			_, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: 1})
			return err
		}},
		{"Corrected", "corrected items", func() error { return s.Corrected(ctx, func(dashboard.ItemDetail) error { return nil }) }},
		{"DailyCounts", "daily counts", func() error { _, err := s.DailyCounts(ctx, at.AddDate(0, 0, -3), at, time.UTC); return err }},
		{"StoredItems", "items of s", func() error { _, err := s.StoredItems(ctx, "s", []string{"k"}); return err }},
		{"SinkWindow", `get state "scheduled/digest/last"`, func() error { _, err := s.SinkWindow(ctx, "digest"); return err }},
		{"PutSinkWindow", "window of digest", func() error { return s.PutSinkWindow(ctx, "digest", SinkWindow{Last: at}) }},
		{"CloseWindow", "close window of digest", func() error { return s.CloseWindow(ctx, "digest", at, at, 1) }},
		{"ClaimSource", "claim source s", func() error {
			_, err := s.ClaimSource(ctx, "s", SourceClaim{Now: at, Until: at.Add(time.Minute)})
			return err
		}},
		{"ReleaseSource", "release source s", func() error { return s.ReleaseSource(ctx, "s") }},
		{"AbandonedSources", "abandoned sources", func() error { _, err := s.AbandonedSources(ctx, at); return err }},
		{"ClaimDue", "claim deliveries", func() error { _, err := s.ClaimDue(ctx, "hook", at, time.Minute, 10); return err }},
		{"Release", "release deliveries", func() error { return s.Release(ctx, at, 1) }},
		{"ClaimLease", "claim lease", func() error { _, err := s.ClaimLease(ctx, "x", at, at.Add(time.Minute)); return err }},
		{"LockWindow", "claim lease", func() error { _, err := s.LockWindow(ctx, "digest", at, time.Minute); return err }},
		{"ReleaseLease", "release lease", func() error { return s.ReleaseLease(ctx, "x") }},
		{"UnlockWindow", "release lease", func() error { return s.UnlockWindow(ctx, "digest") }},
		{"RenewLeases", "renew leases", func() error { return s.RenewLeases(ctx, at) }},
		{"Claimed", "claimed", func() error { _, err := s.Claimed(ctx, "someone"); return err }},
	}
	for _, c := range calls {
		err := c.call()
		if err == nil || !strings.HasPrefix(err.Error(), "store: ") || !strings.Contains(err.Error(), c.want) ||
			!strings.Contains(err.Error(), "closed") {
			t.Errorf("%s on a closed store: %v, want %q and closed", c.name, err, "store: ..."+c.want)
		}
	}
}

// TestWindowAndCorrectionRollBack: a scheduled sink's window is closed in
// one transaction (ack, last end, pending cleared) and a correction in
// one statement; a fault at any step leaves the database as it was, and
// the call says what failed.
func TestWindowAndCorrectionRollBack(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	end := at.Add(time.Hour)
	tests := []struct {
		name   string
		stmt   string
		commit bool
		call   func(s *Store, ids []int64) error
		want   string
	}{
		{"close window: ack fails", "UPDATE outbox SET state = 'done'", false,
			func(s *Store, ids []int64) error { return s.CloseWindow(ctx, "digest", end, end, ids...) }, "close window of digest: ack"},
		{"close window: state fails", "INSERT INTO kv", false,
			func(s *Store, ids []int64) error { return s.CloseWindow(ctx, "digest", end, end, ids...) }, "close window of digest"},
		{"close window: COMMIT fails", "", true,
			func(s *Store, ids []int64) error { return s.CloseWindow(ctx, "digest", end, end, ids...) }, ""},
		{"put window: state fails", "INSERT INTO kv", false,
			func(s *Store, ids []int64) error {
				return s.PutSinkWindow(ctx, "digest", SinkWindow{Last: at, Pending: end})
			}, "window of digest"},
		{"correction: insert fails", "INSERT INTO corrections", false,
			func(s *Store, ids []int64) error {
				_, err := s.AddCorrection(ctx, dashboard.Correction{ItemID: 1, Label: dashboard.Label{Relevant: false}})
				return err
			}, "correct item 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, fd, err := openFaulty(t, filepath.Join(t.TempDir(), "state.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			c := Commit{SourceID: "s", At: at, Deliver: true, Sinks: []string{"digest"},
				Items: []Labeled{labeled("s", "1", true), labeled("s", "2", true)}}
			if _, err := s.Commit(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := s.PutSinkWindow(ctx, "digest", SinkWindow{Last: at, Pending: end}); err != nil {
				t.Fatal(err)
			}
			ps, err := s.Window(ctx, "digest", end)
			if err != nil || len(ps) != 2 {
				t.Fatalf("window: %d records, %v", len(ps), err)
			}
			before := snapshot(t, s)
			fd.set(tc.stmt, tc.commit)
			err = tc.call(s, []int64{ps[0].ID, ps[1].ID})
			fd.set("", false)
			if !errors.Is(err, errInjected) {
				t.Fatalf("error = %v, want the injected fault", err)
			}
			if tc.want != "" && (!strings.HasPrefix(err.Error(), "store: ") || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %q lacks its context %q", err, tc.want)
			}
			if after := snapshot(t, s); after != before {
				t.Errorf("the failed call changed the database:\nbefore %s\nafter  %s", before, after)
			}
			w, err := s.SinkWindow(ctx, "digest")
			if err != nil || !w.Last.Equal(at) || !w.Pending.Equal(end) {
				t.Errorf("window after the fault: %+v, %v; want last %v, pending %v", w, err, at, end)
			}
			// Once the fault is gone the same call goes through.
			if err := tc.call(s, []int64{ps[0].ID, ps[1].ID}); err != nil {
				t.Errorf("the call after the fault: %v", err)
			}
		})
	}
}

// TestSinkWindowCorruptState: a window end that is not a time fails the
// read with the key that holds it.
func TestSinkWindowCorruptState(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.PutState(ctx, windowPendingKey("digest"), []byte("yesterday")); err != nil {
		t.Fatal(err)
	}
	_, err := s.SinkWindow(ctx, "digest")
	if err == nil || !strings.Contains(err.Error(), "store: state scheduled/digest/pending") {
		t.Errorf("SinkWindow = %v, want an error naming the corrupt key", err)
	}
}

// TestExplainOpen: each way the driver says it cannot open a database
// becomes what happened, where and what to do; anything else is passed
// on unchanged.
func TestExplainOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "treatywatch.db")
	other := errors.New("some other driver error")
	tests := []struct {
		name string
		path string
		err  error
		want []string // "" entries: the error must be returned unchanged
	}{
		{"no error", path, nil, nil},
		{"in memory", ":memory:", other, nil},
		{"unknown", path, other, nil},
		{"read-only file system", path, fmt.Errorf("open: %w", syscall.EROFS), []string{path + " is read-only", "point --db or data_dir elsewhere"}},
		{"read-only database", path, errors.New("attempt to write a readonly database (8)"), []string{"is read-only", "must be writable"}},
		{"cannot open, directory fine", path, errors.New("unable to open database file (14)"), []string{"cannot open " + path}},
		{"cannot open, no directory", filepath.Join(dir, "missing", "x.db"), errors.New("unable to open database file (14)"),
			[]string{"cannot write the data directory " + filepath.Join(dir, "missing"), "x.db", "fix its owner or mode"}},
		{"cannot open the file for writing", dir, errors.New("unable to open database file (14)"),
			[]string{"cannot open " + dir + " for writing", "fix its owner or mode"}},
		{"permission", path, fmt.Errorf("open: %w", os.ErrPermission), []string{"cannot open " + path}},
		{"not a database", path, errors.New("file is not a database (26)"), []string{"is corrupt", "integrity_check", "mv " + path + " " + path + ".corrupt"}},
		{"malformed", path, errors.New("database disk image is malformed (11)"), []string{"is corrupt", "nothing was changed"}},
		{"disk full", path, errors.New("database or disk is full (13)"), []string{"no space left to write " + path, "free space in " + dir}},
		{"file too large", path, fmt.Errorf("write: %w", syscall.EFBIG), []string{"no space left", "file-size limit"}},
		{"the path's own words do not count", filepath.Join(dir, "readonly-malformed.db"), other, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := explainOpen(tc.path, tc.err)
			if tc.want == nil {
				if got != tc.err {
					t.Errorf("explainOpen = %v, want %v unchanged", got, tc.err)
				}
				return
			}
			if !errors.Is(got, tc.err) && !strings.Contains(got.Error(), tc.err.Error()) {
				t.Errorf("explainOpen lost the driver's error: %v", got)
			}
			if !strings.HasPrefix(got.Error(), "store: ") {
				t.Errorf("no store: prefix: %v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("explainOpen = %v\nwant it to say %q", got, w)
				}
			}
		})
	}
}
