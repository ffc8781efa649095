package trend

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// event is one relevant item: when it was published and what it counts
// for.
type event struct {
	at  time.Time
	key Key
}

// memCounter counts events the way a store does: per calendar day in
// the asked zone, over the asked days; it remembers what it was asked.
type memCounter struct {
	events   []event
	err      error
	from, to time.Time
	loc      *time.Location
}

func (m *memCounter) DailyCounts(_ context.Context, from, to time.Time, loc *time.Location) (Daily, error) {
	m.from, m.to, m.loc = from, to, loc
	if m.err != nil {
		return Daily{}, m.err
	}
	d := Daily{Days: Days(from, to, loc)}
	index := map[time.Time]int{}
	for i, day := range d.Days {
		index[day] = i
	}
	for _, e := range m.events {
		if d.First.IsZero() || e.at.Before(d.First) {
			d.First = e.at.In(loc)
		}
		if i, ok := index[truncDay(e.at.In(loc))]; ok {
			d.Add(e.key, i)
		}
	}
	return d, nil
}

func TestFind(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	hr := Key{KindTopic, "human-rights"}
	eff := Key{KindActor, "EFF"}
	// A daily digest sent at 07:00 in Tokyo (22:00 UTC the day before):
	// its window is the 24 hours before, not a UTC calendar day.
	end := time.Date(2026, 11, 30, 7, 0, 0, 0, tokyo)
	start := end.Add(-24 * time.Hour)
	// history puts one item of k a day on each of the n days before the
	// window, in the middle of each 24-hour period.
	history := func(k Key, n int) []event {
		var out []event
		for i := 1; i <= n; i++ {
			out = append(out, event{start.Add(-time.Duration(i)*24*time.Hour + 12*time.Hour), k})
		}
		return out
	}
	burst := func(k Key, n int, at time.Time) []event {
		var out []event
		for range n {
			out = append(out, event{at, k})
		}
		return out
	}
	join := func(parts ...[]event) []event {
		var out []event
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name       string
		events     []event
		start, end time.Time
		opts       Options
		want       string
		days       int // periods the counter must be asked for
	}{
		{"a burst inside the window", join(history(hr, 40), burst(hr, 8, start.Add(time.Hour))), start, end, Options{},
			"[{topic human-rights 8 1 8}]", 29},
		{"the window's edges: its start counts, its end does not", join(history(hr, 40),
			burst(hr, 4, start), burst(hr, 4, end.Add(-time.Second)), burst(hr, 5, end), burst(hr, 5, start.Add(-time.Second))),
			start, end, Options{}, "[{topic human-rights 8 1.18 6.8}]", 29},
		{"a week against 14 trailing days", join(history(eff, 30), burst(eff, 30, start.Add(-2*24*time.Hour))),
			start.Add(-6 * 24 * time.Hour), end, Options{Trailing: 14}, "[{actor EFF 36 7 5.1}]", 21}, // 30 + 6 days of history inside the week
		{"steady volume", history(hr, 40), start, end, Options{}, "[]", 29},
		{"nothing stored", nil, start, end, Options{}, "[]", 29},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &memCounter{events: tc.events}
			got, err := Find(context.Background(), c, tc.start, tc.end, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprintf("%v", got); s != tc.want && !(tc.want == "[]" && got == nil) {
				t.Errorf("Find = %s, want %s", s, tc.want)
			}
			days := Days(c.from, c.to, c.loc)
			if len(days) != tc.days {
				t.Fatalf("asked for %d periods (%v to %v), want %d", len(days), c.from, c.to, tc.days)
			}
			// The last periods asked for are the window itself.
			window := WindowDays(tc.start, tc.end)
			if first := days[len(days)-window]; !first.Equal(tc.start) {
				t.Errorf("the window's first period starts %v, want %v", first, tc.start)
			}
			if last := days[len(days)-1].AddDate(0, 0, 1); !last.Equal(tc.end) {
				t.Errorf("the last period ends %v, want the window's end %v", last, tc.end)
			}
		})
	}
}

func TestFindPassesTheCounterError(t *testing.T) {
	boom := errors.New("store: daily counts: database is closed")
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	got, err := Find(context.Background(), &memCounter{err: boom}, end.Add(-24*time.Hour), end, Options{})
	if !errors.Is(err, boom) || got != nil {
		t.Errorf("Find = %v, %v; want nil and the counter's error", got, err)
	}
}

func TestSpikesEdges(t *testing.T) {
	first := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	a, b, c := Key{KindTopic, "a"}, Key{KindTopic, "b"}, Key{KindActor, "c"}
	tests := []struct {
		name   string
		d      Daily
		window int
		opts   Options
		want   string
	}{
		{"no window", daily(first, map[Key][]int{a: append(rep(0, 29), 9)}), 0, Options{}, "[]"},
		{"window longer than the days", daily(first, map[Key][]int{a: rep(9, 5)}), 6, Options{}, "[]"},
		{"no trailing day", daily(first, map[Key][]int{a: rep(9, 7)}), 7, Options{MinHistory: 1}, "[]"},
		{"fewer trailing days than the history asked", daily(first, map[Key][]int{a: append(rep(0, 29), 9)}), 1,
			Options{Trailing: 3, MinHistory: 7}, "[]"},
		{"days before the first stored item are not zeros", daily(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
			map[Key][]int{a: append(append(rep(0, 19), rep(2, 10)...), 5)}), 1, Options{}, "[]"}, // against 20/28 a day 5 would be one
		{"the default bar", daily(first, map[Key][]int{a: append(rep(1, 29), 2)}), 1, Options{}, "[]"},
		{"a lower bar", daily(first, map[Key][]int{a: append(rep(1, 29), 2)}), 1,
			Options{MinCount: 2, Factor: 1.5}, "[{topic a 2 1 2}]"},
		{"order: no history first, then by ratio, then by count and name", daily(first, map[Key][]int{
			a: append(rep(1, 29), 6), b: append(rep(1, 29), 9), c: append(rep(0, 29), 3)}), 1, Options{},
			"[{actor c 3 0 0} {topic b 9 1 9} {topic a 6 1 6}]"},
		{"equal ratios by count, then kind and name", daily(first, map[Key][]int{
			a: append(rep(1, 29), 5), b: append(rep(2, 29), 10), c: append(rep(1, 29), 5)}), 1, Options{},
			"[{topic b 10 2 5} {actor c 5 1 5} {topic a 5 1 5}]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Spikes(tc.d, tc.window, tc.opts)
			if s := fmt.Sprintf("%v", got); s != tc.want {
				t.Errorf("Spikes = %s, want %s", s, tc.want)
			}
		})
	}
}
