package feed

import (
	"strings"
	"testing"
	"time"
)

// allDateLayouts is every layout of dateLayouts in the order itemDate
// tries them: trying them all must give what layoutsFor's choice gives.
var allDateLayouts = []string{
	time.RFC3339Nano,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	time.RFC822Z,
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05-07:00",
}

// firstLayout is the first of allDateLayouts that parses raw.
func firstLayout(raw string) (time.Time, bool) {
	for _, l := range allDateLayouts {
		if t, err := time.Parse(l, raw); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// FuzzItemDate checks itemDate's choice of layouts against trying them
// all in order.
func FuzzItemDate(f *testing.F) {
	ref := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", -7*3600))
	for _, l := range allDateLayouts {
		f.Add(ref.Format(l))
	}
	f.Add("Wed, 4 Mar 2026 05:06:07 GMT")
	f.Fuzz(func(t *testing.T, raw string) {
		want, ok := firstLayout(strings.TrimSpace(raw))
		got := itemDate(raw, nil)
		if !ok {
			want = time.Time{}
		}
		if !got.Equal(want) || got.Format(time.RFC3339Nano) != want.Format(time.RFC3339Nano) {
			t.Fatalf("itemDate(%q) = %v, want %v", raw, got, want)
		}
	})
}

func TestItemDateLayouts(t *testing.T) {
	ref := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", 2*3600+1800))
	tests := []string{
		"", "  ", "2026", "Z", "12345",
		"Wed, 04 Mar 2026 05:06:07 GMT",
		"Wed, 04 Mar 2026 05:06:07 +0000 (UTC)",
		"2026-03-04T05:06:07Z",
		"2026-03-04t05:06:07z",
		"2026-03-04T05:06:07.123+02:30",
		"2026-03-04",
		"04 Mar 26 05:06 +0230",
		"4 Mar 2026 05:06:07 +0230",
		"4 mar 2026 05:06:07 +0230",
		"wed, 4 MAR 2026 05:06 +0230",
		"Wednesday, 04-Mar-26 05:06:07 +0230",
		"Wed Mar  4 05:06:07 +0230 2026",
		"  Wed, 04 Mar 2026 05:06:07 +0230\n",
		"-2026-03-04T05:06:07Z",
		"+0230",
		"1772600767",
	}
	for _, l := range allDateLayouts {
		tests = append(tests, ref.Format(l), ref.UTC().Format(l))
	}
	for _, raw := range tests {
		trimmed := strings.TrimSpace(raw)
		want, ok := firstLayout(trimmed)
		gofeed := ref.UTC()
		for _, parsed := range []*time.Time{nil, &gofeed} {
			got := itemDate(raw, parsed)
			w := want
			switch {
			case !ok && parsed == nil:
				w = time.Time{}
			case !ok || (parsed != nil && !want.Equal(*parsed)):
				w = *parsed
			}
			if !got.Equal(w) || got.Location().String() != w.Location().String() || got.Format(time.RFC3339Nano) != w.Format(time.RFC3339Nano) {
				t.Errorf("itemDate(%q, %v) = %v, want %v", raw, parsed, got, w)
			}
		}
	}
}
