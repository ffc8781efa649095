package window

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, days, hours, tz string) *Window {
	t.Helper()
	w, err := Parse(days, hours, tz)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func at(t *testing.T, tz, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ days, hours, tz, want string }{
		{"mon-fry", "", "", `bad days "mon-fry"`},
		{"", "7-19", "", `bad hours "7-19": "7" is not a time of day`},
		{"", "07:00", "", `bad hours "07:00" (want HH:MM-HH:MM`},
		{"", "07:00-25:00", "", `"25:00" is not a time of day`},
		{"", "24:00-07:00", "", `"24:00" is not a time of day`},
		{"", "07:60-08:00", "", `"07:60" is not a time of day`},
		{"", "08:00-08:00", "", "the window is empty"},
		{"", "", "Mars/Olympus", `unknown time zone "Mars/Olympus"`},
		{"", "", "Local", `unknown time zone "Local"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.days, tt.hours, tt.tz)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q, %q, %q) = %v, want error containing %q", tt.days, tt.hours, tt.tz, err, tt.want)
		}
	}
}

func TestContainsAndNext(t *testing.T) {
	const berlin = "Europe/Berlin"
	office := mustParse(t, "mon-fri", "07:00-19:00", berlin)
	night := mustParse(t, "", "22:00-07:00", berlin)
	weekend := mustParse(t, "sat,sun", "", "UTC")
	friToMon := mustParse(t, "fri-mon", "", "UTC") // wraps around the week
	tests := []struct {
		name      string
		w         *Window
		t         string // in the window's zone
		tz        string
		contains  bool
		nextOpen  string
		nextClose string
	}{
		{"office hours, Monday 10:00", office, "2026-12-07 10:00", berlin, true, "2026-12-07 10:00", "2026-12-07 19:00"},
		{"office hours, Friday 19:00 is out", office, "2026-12-04 19:00", berlin, false, "2026-12-07 07:00", "2026-12-04 19:00"},
		{"office hours, Saturday", office, "2026-12-05 12:30", berlin, false, "2026-12-07 07:00", "2026-12-05 12:30"},
		{"office hours, Tuesday 06:59", office, "2026-12-08 06:59", berlin, false, "2026-12-08 07:00", "2026-12-08 06:59"},
		{"night, 23:00", night, "2026-12-07 23:00", berlin, true, "2026-12-07 23:00", "2026-12-08 07:00"},
		{"night, 03:00", night, "2026-12-08 03:00", berlin, true, "2026-12-08 03:00", "2026-12-08 07:00"},
		{"night, noon", night, "2026-12-08 12:00", berlin, false, "2026-12-08 22:00", "2026-12-08 12:00"},
		// DST in Berlin ends on 25 Oct 2026: the night is an hour longer.
		{"night across the DST change", night, "2026-10-25 01:30", berlin, true, "2026-10-25 01:30", "2026-10-25 07:00"},
		// Spring forward on 29 Mar 2026: 02:00-03:00 does not exist.
		{"office hours after spring forward", office, "2026-03-29 12:00", berlin, false, "2026-03-30 07:00", "2026-03-29 12:00"},
		{"weekend, Friday", weekend, "2026-12-04 23:59", "UTC", false, "2026-12-05 00:00", "2026-12-04 23:59"},
		{"weekend, Sunday", weekend, "2026-12-06 08:00", "UTC", true, "2026-12-06 08:00", "2026-12-07 00:00"},
		{"fri-mon, Tuesday", friToMon, "2026-12-08 08:00", "UTC", false, "2026-12-11 00:00", "2026-12-08 08:00"},
		{"fri-mon, Sunday", friToMon, "2026-12-06 08:00", "UTC", true, "2026-12-06 08:00", "2026-12-08 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at(t, tt.tz, tt.t)
			if got := tt.w.Contains(now); got != tt.contains {
				t.Errorf("Contains = %v, want %v", got, tt.contains)
			}
			if got, want := tt.w.NextOpen(now), at(t, tt.tz, tt.nextOpen); !got.Equal(want) {
				t.Errorf("NextOpen = %s, want %s", got.In(want.Location()), want)
			}
			if got, want := tt.w.NextClose(now), at(t, tt.tz, tt.nextClose); !got.Equal(want) {
				t.Errorf("NextClose = %s, want %s", got.In(want.Location()), want)
			}
		})
	}
}

func TestNextBetweenMinutes(t *testing.T) {
	w := mustParse(t, "", "08:00-09:00", "UTC")
	now := time.Date(2026, 12, 7, 7, 59, 30, 0, time.UTC)
	if got, want := w.NextOpen(now), time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextOpen(%s) = %s, want %s", now, got, want)
	}
}

func TestString(t *testing.T) {
	if got := mustParse(t, "mon-fri", "07:00-19:00", "Europe/Berlin").String(); got != "mon-fri 07:00-19:00 Europe/Berlin" {
		t.Errorf("String = %q", got)
	}
	if got := mustParse(t, "", "", "").String(); got != "every day all day UTC" {
		t.Errorf("String = %q", got)
	}
}
