package trend

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"
)

// Counter supplies daily counts; the store implements it.
type Counter interface {
	DailyCounts(ctx context.Context, from, to time.Time, loc *time.Location) (Daily, error)
}

// Find returns the spikes of the window from start to end against the
// trailing days before it, read from c. It counts in 24-hour periods that
// end at end (in a fixed zone in which end is midnight, the counter's
// calendar days are those periods), so the last periods are the window
// itself whatever the hour of end. A digest and a dashboard call it alike.
func Find(ctx context.Context, c Counter, start, end time.Time, o Options) ([]Spike, error) {
	o = o.withDefaults()
	days := WindowDays(start, end)
	end = end.UTC()
	sinceMidnight := end.Sub(end.Truncate(24 * time.Hour))
	periods := time.FixedZone("periods", -int(sinceMidnight.Seconds()))
	last := end.Add(-time.Nanosecond)
	d, err := c.DailyCounts(ctx, last.AddDate(0, 0, -(days+o.Trailing-1)), last, periods)
	if err != nil {
		return nil, err
	}
	return Spikes(d, days, o), nil
}

// Kinds of counted keys.
const (
	KindTopic = "topic"
	KindActor = "actor"
)

// Key is what is counted: a topic id or an actor name.
type Key struct {
	Kind string
	Name string
}

// Daily holds counts of relevant items per key and calendar day, oldest
// day first. Days are midnights in one time zone; Counts[k][i] belongs to
// Days[i]. First is the earliest day any relevant item is stored for (it
// may lie before Days[0]); zero when none is.
type Daily struct {
	Days   []time.Time
	Counts map[Key][]int
	First  time.Time
}

// Spike is a key whose count in the window is far above its trailing
// mean.
type Spike struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Count is the number of items in the window; Mean the mean count of
	// a window of the same length over the trailing days.
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	// Ratio is Count / Mean (0 when the mean is 0).
	Ratio float64 `json:"ratio"`
}

// Options tune Spikes; zero values take the defaults.
type Options struct {
	// Trailing is how many days before the window the mean is taken
	// over. Default 28.
	Trailing int
	// MinHistory is how many days of stored history a key needs before
	// the window for any spike to be called. Default 7.
	MinHistory int
	// MinCount is the least count in the window that can be a spike.
	// Default 3.
	MinCount int
	// Factor: a spike is at least Factor times the trailing mean.
	// Default 3.
	Factor float64
}

func (o Options) withDefaults() Options {
	if o.Trailing <= 0 {
		o.Trailing = 28
	}
	if o.MinHistory <= 0 {
		o.MinHistory = 7
	}
	if o.MinCount <= 0 {
		o.MinCount = 3
	}
	if o.Factor <= 0 {
		o.Factor = 3
	}
	return o
}

// Spikes compares the last window days of d with the trailing days
// before them. A key is a spike when its window count is at least
// MinCount, at least Factor times its trailing mean (scaled to the
// window's length), and more than two standard deviations above that
// mean. Nothing is called a spike while the store holds less than
// MinHistory days of history before the window. Spikes come largest
// ratio first (a key with no history at all ranks by count).
func Spikes(d Daily, window int, o Options) []Spike {
	o = o.withDefaults()
	n := len(d.Days)
	if window <= 0 || n < window {
		return nil
	}
	start := d.Days[n-window]
	if d.First.IsZero() || d.First.After(start.AddDate(0, 0, -o.MinHistory)) {
		return nil
	}
	from := max(0, n-window-o.Trailing)
	trail := n - window - from
	if trail <= 0 {
		return nil
	}
	// Count trailing days only from the first stored day: days before it
	// are not zeros, they are unknown.
	for from < n-window && d.Days[from].Before(truncDay(d.First)) {
		from++
		trail--
	}
	if trail < o.MinHistory {
		return nil
	}
	var out []Spike
	for k, c := range d.Counts {
		now := 0
		for _, v := range c[n-window:] {
			now += v
		}
		if now < o.MinCount {
			continue
		}
		// The trailing series in windows' worth: the daily mean and
		// variance, scaled by the window length.
		var sum, sq float64
		for _, v := range c[from : n-window] {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		mean := sum / float64(trail)
		variance := max(0, sq/float64(trail)-mean*mean)
		wMean := mean * float64(window)
		wSD := math.Sqrt(variance * float64(window))
		if float64(now) < o.Factor*wMean || float64(now) <= wMean+2*wSD {
			continue
		}
		s := Spike{Kind: k.Kind, Name: k.Name, Count: now, Mean: math.Round(wMean*100) / 100}
		if wMean > 0 {
			s.Ratio = math.Round(float64(now)/wMean*10) / 10
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Spike) int {
		ra, rb := a.Ratio, b.Ratio
		if ra == 0 {
			ra = math.Inf(1)
		}
		if rb == 0 {
			rb = math.Inf(1)
		}
		return cmp.Or(cmp.Compare(rb, ra), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func truncDay(t time.Time) time.Time {
	y, m, dd := t.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, t.Location())
}

// Days returns the midnights in loc from the day of from to the day of
// to, inclusive.
func Days(from, to time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	last := truncDay(to.In(loc))
	for d := truncDay(from.In(loc)); !d.After(last); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// WindowDays is how many calendar days a window from start to end
// covers, at least one: a daily digest covers 1, a weekly one 7.
func WindowDays(start, end time.Time) int {
	return max(1, int(math.Round(end.Sub(start).Hours()/24)))
}

// Add counts one item of k on the day at index day of d.Days.
func (d *Daily) Add(k Key, day int) {
	if d.Counts == nil {
		d.Counts = map[Key][]int{}
	}
	c := d.Counts[k]
	if c == nil {
		c = make([]int, len(d.Days))
		d.Counts[k] = c
	}
	c[day]++
}
