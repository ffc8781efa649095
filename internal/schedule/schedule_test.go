package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr string // empty: valid
	}{
		{"@every 30m", ""},
		{"@hourly", ""},
		{"0 8 * * 1-5", ""},
		{"CRON_TZ=Europe/Berlin 0 8 * * *", ""},
		{"*/59 * * * *", ""},
		{"@every 0s", "not positive"},
		{"@every -5m", "not positive"},
		{"@every 0", "not positive"},
		{"*/61 * * * *", "step 61 does not fit the minute field"},
		{"0 */24 * * *", "does not fit the hour field"},
		{"@every", "unrecognized descriptor"},
		{"every day", "expected exactly 5 fields"},
		{"", "empty spec"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Parse(%q) = %v, want ok", tt.spec, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Parse(%q) = %v, want an error with %q", tt.spec, err, tt.wantErr)
		}
	}
}

func TestSpreadKeepsPeriodAndSurvivesRestarts(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for _, spec := range []string{"@every 30m", "*/30 * * * *", "@daily"} {
		seen := map[time.Duration]bool{}
		period := MustParse(spec).period
		for i := range 8 {
			s := MustParse(spec).Spread(fmt.Sprintf("src-%d", i))
			a := s.Next(t0)
			if b := s.Next(a); b.Sub(a) != period {
				t.Errorf("%s src-%d: period %s, want %s", spec, i, b.Sub(a), period)
			}
			// The same source gets the same times from another process.
			if again := MustParse(spec).Spread(fmt.Sprintf("src-%d", i)).Next(t0.Add(time.Second)); !again.Equal(a) && a.Sub(t0) > time.Second {
				t.Errorf("%s src-%d: phase moved: %s then %s", spec, i, a, again)
			}
			seen[a.Sub(t0)%period] = true
		}
		if len(seen) < 4 {
			t.Errorf("%s: offsets are not spread: %v", spec, seen)
		}
	}
}

func TestNextRun(t *testing.T) {
	s := MustParse("@every 30m") // unspread: 30 minutes after the last run
	at := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name            string
		last, notBefore time.Time
		failed          bool
		want            time.Time
	}{
		{"never run: at once", time.Time{}, time.Time{}, false, time.Time{}},
		{"never run, asked to wait", time.Time{}, at(9, 5), true, at(9, 5)},
		{"success: next scheduled time", at(8, 10), time.Time{}, false, at(8, 40)},
		{"success with a short ttl: the schedule", at(8, 10), at(8, 15), false, at(8, 40)},
		{"success with a long ttl: the ttl", at(8, 10), at(10, 10), false, at(10, 10)},
		{"failure: retried at its backoff, before the schedule", at(23, 15), at(23, 16), true, at(23, 16)},
		{"failure: a capped backoff beyond the schedule", at(8, 10), at(12, 10), true, at(12, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.NextRun(tt.last, tt.notBefore, tt.failed); !got.Equal(tt.want) {
				t.Errorf("NextRun = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: time.Minute, Cap: 4 * time.Hour}
	for failures, want := range map[int]time.Duration{0: time.Minute, 1: 2 * time.Minute, 3: 8 * time.Minute, 9: 4 * time.Hour, 40: 4 * time.Hour} {
		if got := b.Wait(failures); got != want {
			t.Errorf("Wait(%d) = %s, want %s", failures, got, want)
		}
	}
	for _, bad := range []Backoff{{Base: -time.Minute, Cap: time.Hour}, {Base: 0, Cap: time.Hour}, {Base: time.Minute, Cap: -time.Hour}, {Base: time.Hour, Cap: time.Minute}} {
		if err := bad.Check(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := b.Check(); err != nil {
		t.Error(err)
	}
}
