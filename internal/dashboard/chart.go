package dashboard

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Charts are drawn on the server as SVG: every mark is an element with a
// <title> (its count and what it counts) inside a link to its items, and
// every chart sits beside a table of the same numbers.

const (
	chartW   = 960
	chartH   = 300
	padLeft  = 48
	padRight = 12
	padTop   = 24
	padBot   = 44
)

// Chart is the geometry of one SVG chart.
type Chart struct {
	ID, Title, Desc string
	W, H            int
	Left, Right     float64
	Top, Bottom     float64
	Ticks           []Tick
	XLabels         []XLabel
	Bars            []Bar
	Spikes          []Marker
	Paths           []Path
	Dots            []Dot
	Goal            *Goal
}

// Tick is a y-axis gridline.
type Tick struct {
	Y     float64
	Label string
}

// XLabel is an x-axis label.
type XLabel struct {
	X      float64
	Label  string
	Anchor string // start, middle or end
}

// Bar is one stacked bar segment.
type Bar struct {
	X, Y, W, H     float64
	Stance, Bucket string
	Count          int
	Title, Href    string
}

// Marker is a spike mark above a bar.
type Marker struct {
	X, Y  float64
	Title string
	Href  string
}

// Path is one line of a line chart.
type Path struct {
	D, Class, Label string
	LabelX, LabelY  float64
}

// Dot is one point of a strip chart.
type Dot struct {
	X, Y        float64
	Class       string
	Title, Href string
}

// Goal is a horizontal reference line.
type Goal struct {
	Y     float64
	Label string
}

// niceScale returns the top of an axis for values up to v and the step
// between its ticks: 1, 2 or 5 times a power of ten, at most 5 steps.
func niceScale(v int) (top, step int) {
	v = max(v, 1)
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			step = m * p
			if (v+step-1)/step <= 5 {
				return (v + step - 1) / step * step, step
			}
		}
	}
}

func yTicks(c *Chart, top, step int) {
	for v := 0; v <= top; v += step {
		c.Ticks = append(c.Ticks, Tick{Y: c.Bottom - float64(v)/float64(top)*(c.Bottom-c.Top), Label: fmt.Sprint(v)})
	}
}

func newChart(id, title, desc string) Chart {
	return Chart{ID: id, Title: title, Desc: desc, W: chartW, H: chartH, Left: padLeft, Right: chartW - padRight, Top: padTop, Bottom: chartH - padBot}
}

// itemsLink is the item list for a filter.
func itemsLink(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return "/items?" + v.Encode()
}

// timelineChart draws a Timeline as bars stacked by stance.
func timelineChart(t Timeline) Chart {
	what := "relevant items"
	if t.Topic != "" {
		what += " on " + string(t.Topic)
	}
	c := newChart("timeline", fmt.Sprintf("%s per %s, %s to %s, stacked by stance", capitalise(what), t.Bucket, t.From, t.To),
		fmt.Sprintf("%d items in %d bars; spikes marked with a triangle. The table below has the same numbers.", t.Total, len(t.Buckets)))
	peak := 0
	for _, b := range t.Buckets {
		peak = max(peak, b.Total)
	}
	top, step := niceScale(peak)
	yTicks(&c, top, step)
	n := max(len(t.Buckets), 1)
	slot := (c.Right - c.Left) / float64(n)
	bw := math.Max(slot*0.8, 1)
	scale := (c.Bottom - c.Top) / float64(top)
	every := max(1, int(math.Ceil(float64(n)/8)))
	for i, b := range t.Buckets {
		x := c.Left + float64(i)*slot + (slot-bw)/2
		y := c.Bottom
		for _, st := range stances {
			cnt := b.Counts[st]
			if cnt == 0 {
				continue
			}
			h := float64(cnt) * scale
			y -= h
			c.Bars = append(c.Bars, Bar{X: x, Y: y, W: bw, H: h, Stance: st, Bucket: b.Start, Count: cnt,
				Title: fmt.Sprintf("%s %s: %d %s of %d", bucketName(t.Bucket, b), t.Bucket, cnt, st, b.Total),
				Href:  itemsLink("from", b.Start, "to", b.End, "stance", st, "topic", string(t.Topic))})
		}
		if b.Spike {
			c.Spikes = append(c.Spikes, Marker{X: x + bw/2, Y: y - 4, Title: fmt.Sprintf("spike in the %s of %s: %d items", t.Bucket, b.Start, b.Total),
				Href: itemsLink("from", b.Start, "to", b.End, "topic", string(t.Topic))})
		}
		if i%every == 0 {
			c.XLabels = append(c.XLabels, XLabel{X: x + bw/2, Label: b.Start, Anchor: "middle"})
		}
	}
	return c
}

func bucketName(bucket string, b TimelineBucket) string {
	if bucket == BucketDay {
		return b.Start
	}
	return b.Start + " to " + b.End
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// timeX maps times between from and to onto the chart's width.
func timeX(c *Chart, from, to time.Time) func(time.Time) float64 {
	span := to.Sub(from).Seconds()
	if span <= 0 {
		span = 1
	}
	return func(t time.Time) float64 {
		return c.Left + t.Sub(from).Seconds()/span*(c.Right-c.Left)
	}
}

func timeLabels(c *Chart, from, to time.Time, x func(time.Time) float64) {
	for i := 0; i <= 4; i++ {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / 4))
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		c.XLabels = append(c.XLabels, XLabel{X: x(t), Label: t.Format(dayLayout), Anchor: anchor})
	}
}

// treatyChart draws the running counts of signatories and parties as
// steps, with the 40 needed for entry into force.
func treatyChart(t Treaty, now time.Time) Chart {
	c := newChart("treaty", "Signatories and parties over time, against the 40 parties needed for entry into force",
		fmt.Sprintf("%d signatories, %d parties. One dot per day with events; the table below lists every state's dates.", t.Signatories, t.Parties))
	if len(t.Steps) == 0 {
		return c
	}
	from := t.Steps[0].Date.AddDate(0, 0, -7)
	to := t.Steps[len(t.Steps)-1].Date.AddDate(0, 0, 7)
	if now.After(to) && now.Sub(to) < 5*365*24*time.Hour {
		to = now
	}
	x := timeX(&c, from, to)
	top, step := niceScale(max(t.Signatories, TreatyNeeded))
	yTicks(&c, top, step)
	y := func(v int) float64 { return c.Bottom - float64(v)/float64(top)*(c.Bottom-c.Top) }
	c.Goal = &Goal{Y: y(TreatyNeeded), Label: fmt.Sprintf("%d parties: entry into force 90 days later", TreatyNeeded)}
	for _, line := range []struct {
		class, label string
		v            func(TreatyStep) int
	}{
		{"line-sig", "signatories", func(s TreatyStep) int { return s.Signatories }},
		{"line-party", "parties", func(s TreatyStep) int { return s.Parties }},
	} {
		var d strings.Builder
		prev := 0
		fmt.Fprintf(&d, "M%.1f %.1f", x(from), y(0))
		for _, s := range t.Steps {
			fmt.Fprintf(&d, " H%.1f V%.1f", x(s.Date), y(line.v(s)))
			if line.v(s) != prev {
				c.Dots = append(c.Dots, Dot{X: x(s.Date), Y: y(line.v(s)), Class: line.class,
					Title: fmt.Sprintf("%s: %d %s", s.Date.Format(dayLayout), line.v(s), line.label)})
			}
			prev = line.v(s)
		}
		fmt.Fprintf(&d, " H%.1f", x(to))
		last := line.v(t.Steps[len(t.Steps)-1])
		c.Paths = append(c.Paths, Path{D: d.String(), Class: line.class, Label: fmt.Sprintf("%s %d", line.label, last),
			LabelX: c.Right - 4, LabelY: y(last) - 6})
	}
	timeLabels(&c, from, to, x)
	return c
}

// stripChart draws one dot per item over time, coloured by stance, each
// linking to its item.
func stripChart(title string, items []ItemSummary) Chart {
	c := newChart("strip", title, fmt.Sprintf("%d items, one dot each, by day; rows by stance.", len(items)))
	c.Left = 100
	c.H = 40 + 36*len(stances) + padBot
	c.Bottom = float64(c.H - padBot)
	if len(items) == 0 {
		return c
	}
	first, _ := time.Parse(dayLayout, items[0].Day)
	last := first
	for _, it := range items {
		d, err := time.Parse(dayLayout, it.Day)
		if err != nil {
			continue
		}
		if d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	first, last = first.AddDate(0, 0, -3), last.AddDate(0, 0, 3)
	x := timeX(&c, first, last)
	for i, st := range stances {
		c.Ticks = append(c.Ticks, Tick{Y: c.Top + 18 + float64(i)*36, Label: st})
	}
	for _, it := range items {
		d, err := time.Parse(dayLayout, it.Day)
		if err != nil {
			continue
		}
		st := stanceKey(it.Stance)
		row := 0
		for i, s := range stances {
			if s == st {
				row = i
			}
		}
		c.Dots = append(c.Dots, Dot{X: x(d), Y: c.Top + 18 + float64(row)*36, Class: "s-" + st,
			Title: fmt.Sprintf("%s, %s: %s", it.Day, st, it.Title), Href: fmt.Sprintf("/items/%d", it.ID)})
	}
	timeLabels(&c, first, last, x)
	return c
}
