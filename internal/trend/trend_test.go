package trend

import (
	"testing"
	"time"
)

func daily(first time.Time, series map[Key][]int) Daily {
	var n int
	for _, c := range series {
		n = len(c)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := Daily{Days: Days(start, start.AddDate(0, 0, n-1), time.UTC), Counts: series, First: first}
	return d
}

func rep(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestSpikes(t *testing.T) {
	first := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	hr := Key{KindTopic, "human-rights"}
	rat := Key{KindTopic, "ratification"}
	eff := Key{KindActor, "EFF"}
	newcomer := Key{KindActor, "Viet Nam"}
	tests := []struct {
		name   string
		d      Daily
		window int
		want   []Spike
	}{
		{"steady volume is no spike", daily(first, map[Key][]int{hr: rep(4, 30)}), 1, nil},
		{"a day far above a steady mean", daily(first, map[Key][]int{
			hr: append(rep(1, 29), 9), rat: append(rep(2, 29), 4)}), 1,
			[]Spike{{Kind: KindTopic, Name: "human-rights", Count: 9, Mean: 1, Ratio: 9}}},
		{"an actor never seen before, three times", daily(first, map[Key][]int{
			newcomer: append(rep(0, 29), 3), eff: append(rep(1, 29), 2)}), 1,
			[]Spike{{Kind: KindActor, Name: "Viet Nam", Count: 3, Mean: 0, Ratio: 0}}},
		{"below the minimum count", daily(first, map[Key][]int{newcomer: append(rep(0, 29), 2)}), 1, nil},
		{"a noisy series needs more than three times its mean", daily(first, map[Key][]int{
			hr: append([]int{0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0, 20, 0}, 29)}), 1, nil},
		{"a weekly window against weekly means", daily(first, map[Key][]int{
			hr: append(rep(1, 28), 3, 3, 3, 3, 3, 3, 4)}), 7,
			[]Spike{{Kind: KindTopic, Name: "human-rights", Count: 22, Mean: 7, Ratio: 3.1}}},
		{"too little history: a new installation's first days", daily(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
			map[Key][]int{hr: append(rep(0, 29), 9)}), 1, nil},
		{"empty store", daily(time.Time{}, map[Key][]int{hr: rep(0, 30)}), 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Spikes(tt.d, tt.window, Options{})
			if len(got) != len(tt.want) {
				t.Fatalf("Spikes = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("spike %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestDaysAcrossDST(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 10, 24, 12, 0, 0, 0, loc)
	days := Days(from, from.AddDate(0, 0, 2), loc)
	// 25 October 2026 has 25 hours in Berlin.
	if len(days) != 3 || days[2].Hour() != 0 || days[1].Sub(days[0]) != 24*time.Hour || days[2].Sub(days[1]) != 25*time.Hour {
		t.Errorf("days = %v", days)
	}
	if got := WindowDays(from, from.Add(7*24*time.Hour)); got != 7 {
		t.Errorf("WindowDays(week) = %d", got)
	}
	if got := WindowDays(from, from.Add(time.Hour)); got != 1 {
		t.Errorf("WindowDays(hour) = %d", got)
	}
}
