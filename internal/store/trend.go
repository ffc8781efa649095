package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/internal/trend"
)

// DailyCounts counts the stored relevant items per topic and per actor
// and calendar day in loc, for the days from the day of from to the day
// of to. An item counts on the day it was published, or first seen when
// it has no date, so that the history of a new installation starts with
// the items of its first fetch, not on the day it was installed.
// trend.Spikes reads the result; the digest and any dashboard share it.
func (s *Store) DailyCounts(ctx context.Context, from, to time.Time, loc *time.Location) (trend.Daily, error) {
	days := trend.Days(from, to, loc)
	d := trend.Daily{Days: days, Counts: map[trend.Key][]int{}}
	if len(days) == 0 {
		return d, nil
	}
	index := make(map[time.Time]int, len(days))
	for i, day := range days {
		index[day] = i
	}
	var first *string
	err := s.db.QueryRowContext(ctx, `SELECT MIN(CASE WHEN published <> '' THEN published ELSE seen_at END)
		FROM items WHERE relevant = 1`).Scan(&first)
	if err != nil {
		return d, fmt.Errorf("store: daily counts: %w", err)
	}
	if first == nil {
		return d, nil
	}
	d.First = parseTime(*first).In(loc)

	// The day bounds in UTC text, widened by a day for zones far from UTC;
	// the exact day is decided below in loc.
	lo := fmtTime(days[0].Add(-24 * time.Hour))
	hi := fmtTime(days[len(days)-1].Add(48 * time.Hour))
	rows, err := s.db.QueryContext(ctx, `SELECT published, seen_at, result_json FROM items
		WHERE relevant = 1 AND ((published <> '' AND published >= ? AND published < ?) OR (published = '' AND seen_at >= ? AND seen_at < ?))`,
		lo, hi, lo, hi)
	if err != nil {
		return d, fmt.Errorf("store: daily counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pub, seen, rj string
		if err := rows.Scan(&pub, &seen, &rj); err != nil {
			return d, fmt.Errorf("store: daily counts: %w", err)
		}
		at := parseTime(pub)
		if at.IsZero() {
			at = parseTime(seen)
		}
		y, m, dd := at.In(loc).Date()
		i, ok := index[time.Date(y, m, dd, 0, 0, 0, 0, loc)]
		if !ok {
			continue
		}
		var labels struct {
			Topics []string `json:"topics"`
			Actor  string   `json:"actor"`
		}
		if err := json.Unmarshal([]byte(rj), &labels); err != nil {
			return d, fmt.Errorf("store: daily counts: decode labels: %w", err)
		}
		for _, t := range labels.Topics {
			d.Add(trend.Key{Kind: trend.KindTopic, Name: t}, i)
		}
		if labels.Actor != "" {
			d.Add(trend.Key{Kind: trend.KindActor, Name: labels.Actor}, i)
		}
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("store: daily counts: %w", err)
	}
	return d, nil
}
