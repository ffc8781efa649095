package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch/treaty"
	"github.com/treatywatch/treatywatch/internal/dashboard"
)

var _ dashboard.Reader = (*Store)(nil)

// summaryCols are the columns scanSummary reads, for the dialect.
func (s *Store) summaryCols() string {
	sourceName := `coalesce(json_extract(CASE WHEN json_valid(i.item_json) THEN i.item_json END, '$.source_name'), '')`
	topics := `group_concat(t.topic, char(31))`
	if s.db.dialect == dialectPostgres {
		sourceName = `coalesce(treatywatch_jsonb(i.item_json)->>'source_name', '')`
		topics = `string_agg(t.topic, chr(31))`
	}
	return `f.id, f.source_id, f.key, f.day, f.relevant, f.stance, f.actor, f.lang, f.corrected,
	i.title, i.url, ` + sourceName + `,
	coalesce((SELECT ` + topics + ` FROM item_topics t WHERE t.item_id = f.id), '')`
}

func scanSummary(row interface{ Scan(...any) error }, extra ...any) (dashboard.ItemSummary, error) {
	var it dashboard.ItemSummary
	var topics string
	dest := append([]any{&it.ID, &it.SourceID, &it.Key, &it.Day, &it.Relevant, &it.Stance, &it.Actor, &it.Lang, &it.Corrected,
		&it.Title, &it.URL, &it.SourceName, &topics}, extra...)
	if err := row.Scan(dest...); err != nil {
		return it, err
	}
	it.Topics = []rules.Topic{}
	if topics != "" {
		it.Topics = rules.TopicsOf(strings.Split(topics, "\x1f"))
		slices.Sort(it.Topics)
	}
	return it, nil
}

// ftsQuery turns words into an FTS5 query: every word must occur; a
// trailing * makes a word a prefix. Quoting each word keeps FTS5 syntax
// (AND, NEAR, column filters, quotes) from being read out of user input.
func ftsQuery(text string) string {
	var parts []string
	for _, w := range strings.Fields(text) {
		prefix := strings.HasSuffix(w, "*")
		w = strings.Trim(w, "*")
		if w == "" {
			continue
		}
		p := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		if prefix {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// tsQuery is the same for PostgreSQL's to_tsquery('simple', …): the
// letters and digits of each word, all required, * a prefix.
func tsQuery(text string) string {
	var parts []string
	for _, w := range strings.Fields(text) {
		prefix := strings.HasSuffix(w, "*")
		for _, piece := range strings.FieldsFunc(strings.ToLower(w), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			parts = append(parts, piece)
		}
		if prefix && len(parts) > 0 {
			parts[len(parts)-1] += ":*"
		}
	}
	return strings.Join(parts, " & ")
}

func (s *Store) itemWhere(q dashboard.ItemQuery) (string, []any) {
	where := []string{"1=1"}
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	switch q.Relevance {
	case dashboard.RelevantOnly:
		add("f.relevant = 1")
	case dashboard.IrrelevantOnly:
		add("f.relevant = 0")
	}
	if s.db.dialect == dialectPostgres {
		if tq := tsQuery(q.Text); tq != "" {
			add("f.search @@ to_tsquery('simple', ?)", tq)
		}
	} else if fq := ftsQuery(q.Text); fq != "" {
		add("f.id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", fq)
	}
	if q.Topic != "" {
		add("f.id IN (SELECT item_id FROM item_topics WHERE topic = ?)", string(q.Topic))
	}
	switch q.Stance {
	case "":
	case string(classify.StanceUnlabelled):
		add("f.stance = ''")
	default:
		add("f.stance = ?", q.Stance)
	}
	if q.Actor != "" {
		add("f.actor = ? AND f.actor <> ''", q.Actor) // the index of actors has only those
	}
	if q.Lang != "" {
		add("f.lang = ?", q.Lang)
	}
	if q.Source != "" {
		add("f.source_id = ?", q.Source)
	}
	if q.From != "" {
		add("f.day >= ?", q.From)
	}
	if q.To != "" {
		add("f.day <= ?", q.To)
	}
	if q.Corrected {
		add("f.corrected = 1")
	}
	return strings.Join(where, " AND "), args
}

// SearchItems implements dashboard.Reader.
func (s *Store) SearchItems(ctx context.Context, q dashboard.ItemQuery) (dashboard.ItemPage, error) {
	where, args := s.itemWhere(q)
	page := dashboard.ItemPage{Items: []dashboard.ItemSummary{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM item_facts f WHERE `+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("store: count items: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+s.summaryCols()+`
		FROM item_facts f JOIN items i ON i.source_id = f.source_id AND i.key = f.key
		WHERE `+where+` ORDER BY f.day DESC, f.id DESC LIMIT ? OFFSET ?`, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return page, fmt.Errorf("store: items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanSummary(rows)
		if err != nil {
			return page, fmt.Errorf("store: items: %w", err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("store: items: %w", err)
	}
	return page, nil
}

// ItemDetail implements dashboard.Reader.
func (s *Store) ItemDetail(ctx context.Context, id int64) (dashboard.ItemDetail, error) {
	var d dashboard.ItemDetail
	var ij, rj string
	row := s.db.QueryRowContext(ctx, `SELECT `+s.summaryCols()+`, i.item_json, i.result_json
		FROM item_facts f JOIN items i ON i.source_id = f.source_id AND i.key = f.key WHERE f.id = ?`, id)
	sum, err := scanSummary(row, &ij, &rj)
	if errors.Is(err, sql.ErrNoRows) {
		return d, dashboard.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: item %d: %w", id, err)
	}
	l, err := decodeLabeled(sum.SourceID, sum.Key, sum.URL, sum.Title, ij, rj)
	if err != nil {
		return d, err
	}
	d.ItemSummary, d.Item, d.Machine = sum, l.Item, l.Result
	if d.Corrections, err = s.corrections(ctx, id, sum.SourceID, sum.Key); err != nil {
		return d, err
	}
	if d.Deliveries, err = s.deliveries(ctx, sum.SourceID, sum.Key); err != nil {
		return d, err
	}
	return d, nil
}

func (s *Store) corrections(ctx context.Context, id int64, sourceID, key string) ([]dashboard.Correction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, label_json, machine_json, rules, score, reason, note, who, at
		FROM corrections WHERE source_id = ? AND item_key = ? ORDER BY id DESC`, sourceID, key)
	if err != nil {
		return nil, fmt.Errorf("store: corrections of %s/%s: %w", sourceID, key, err)
	}
	defer rows.Close()
	out := []dashboard.Correction{}
	for rows.Next() {
		c := dashboard.Correction{ItemID: id}
		var lj, mj, at string
		if err := rows.Scan(&c.ID, &lj, &mj, &c.Rules, &c.Score, &c.Reason, &c.Note, &c.Who, &at); err != nil {
			return nil, fmt.Errorf("store: corrections of %s/%s: %w", sourceID, key, err)
		}
		if err := json.Unmarshal([]byte(lj), &c.Label); err != nil {
			return nil, fmt.Errorf("store: correction %d: %w", c.ID, err)
		}
		if err := json.Unmarshal([]byte(mj), &c.Machine); err != nil {
			return nil, fmt.Errorf("store: correction %d: %w", c.ID, err)
		}
		c.At = parseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) deliveries(ctx context.Context, sourceID, key string) ([]dashboard.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sink, state, attempts, last_error, created, delivered
		FROM outbox WHERE source_id = ? AND item_key = ? ORDER BY sink`, sourceID, key)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s/%s: %w", sourceID, key, err)
	}
	defer rows.Close()
	out := []dashboard.Delivery{}
	for rows.Next() {
		var d dashboard.Delivery
		var created, delivered string
		if err := rows.Scan(&d.Sink, &d.State, &d.Attempts, &d.LastError, &created, &delivered); err != nil {
			return nil, fmt.Errorf("store: deliveries of %s/%s: %w", sourceID, key, err)
		}
		d.Queued, d.Delivered = parseTime(created), parseTime(delivered)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Store) cells(ctx context.Context, what, q string, args ...any) ([]dashboard.Cell, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := []dashboard.Cell{}
	for rows.Next() {
		var c dashboard.Cell
		if err := rows.Scan(&c.Row, &c.Col, &c.Count); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// DayStance implements dashboard.Reader.
func (s *Store) DayStance(ctx context.Context, from, to string, topic rules.Topic) ([]dashboard.Cell, error) {
	if topic != "" {
		return s.cells(ctx, "counts per day", `SELECT day, stance, COUNT(*) FROM item_topics
			WHERE relevant = 1 AND day >= ? AND day <= ? AND topic = ? GROUP BY day, stance ORDER BY day, stance`, from, to, string(topic))
	}
	return s.cells(ctx, "counts per day", `SELECT day, stance, COUNT(*) FROM item_facts
		WHERE relevant = 1 AND day >= ? AND day <= ? GROUP BY day, stance ORDER BY day, stance`, from, to)
}

// TopicStance implements dashboard.Reader.
func (s *Store) TopicStance(ctx context.Context, from, to string) ([]dashboard.Cell, error) {
	return s.cells(ctx, "counts per topic", `SELECT topic, stance, COUNT(*) FROM item_topics
		WHERE relevant = 1 AND day >= ? AND day <= ? GROUP BY topic, stance ORDER BY topic, stance`, from, to)
}

// ActorStance implements dashboard.Reader.
func (s *Store) ActorStance(ctx context.Context, from, to string) ([]dashboard.Cell, error) {
	return s.cells(ctx, "counts per actor", `SELECT actor, stance, COUNT(*) FROM item_facts
		WHERE relevant = 1 AND day >= ? AND day <= ? AND actor <> '' GROUP BY actor, stance ORDER BY actor, stance`, from, to)
}

// ActorTopic implements dashboard.Reader.
func (s *Store) ActorTopic(ctx context.Context, from, to string) ([]dashboard.Cell, error) {
	return s.cells(ctx, "counts per actor and topic", `SELECT actor, topic, COUNT(*) FROM item_topics
		WHERE relevant = 1 AND day >= ? AND day <= ? AND actor <> '' GROUP BY actor, topic ORDER BY actor, topic`, from, to)
}

// TreatyEvents implements dashboard.Reader: the items of treaty status
// sources (keys "untc:<participant>:<action>").
func (s *Store) TreatyEvents(ctx context.Context) ([]dashboard.TreatyEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id, f.key, i.title, i.published, i.url
		FROM item_facts f JOIN items i ON i.source_id = f.source_id AND i.key = f.key
		WHERE f.key >= 'untc:' AND f.key < 'untc;' ORDER BY i.published, f.id`)
	if err != nil {
		return nil, fmt.Errorf("store: treaty events: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	out := []dashboard.TreatyEvent{}
	for rows.Next() {
		var e dashboard.TreatyEvent
		var key, title, published string
		if err := rows.Scan(&e.ItemID, &key, &title, &published, &e.URL); err != nil {
			return nil, fmt.Errorf("store: treaty events: %w", err)
		}
		i := strings.LastIndexByte(key, ':')
		e.Action = key[i+1:]
		verb := " " + treaty.Action(e.Action).Verb() + " "
		name, _, ok := strings.Cut(title, verb)
		if !ok || i <= len("untc:") {
			continue // not an event item this program wrote
		}
		e.Participant = name
		e.Date = parseTime(published)
		if e.Date.IsZero() || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
	}
	return out, rows.Err()
}

// SourceHealth implements dashboard.Reader.
func (s *Store) SourceHealth(ctx context.Context, now time.Time) ([]dashboard.SourceHealth, error) {
	all, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	type counts struct{ items, relevant, week int }
	byID := map[string]counts{}
	rows, err := s.db.QueryContext(ctx, `SELECT source_id, COUNT(*), SUM(relevant), SUM(CASE WHEN seen >= ? THEN 1 ELSE 0 END) FROM item_facts GROUP BY source_id`,
		fmtTime(now.Add(-7*24*time.Hour)))
	if err != nil {
		return nil, fmt.Errorf("store: source counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c counts
		if err := rows.Scan(&id, &c.items, &c.relevant, &c.week); err != nil {
			return nil, fmt.Errorf("store: source counts: %w", err)
		}
		byID[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: source counts: %w", err)
	}
	out := make([]dashboard.SourceHealth, 0, len(all))
	for _, st := range all {
		c := byID[st.ID]
		out = append(out, dashboard.SourceHealth{
			ID: st.ID, State: st.Status().State, Failures: st.Failures, ErrorKind: st.ErrorKind, LastError: st.LastError,
			LastFetch: st.LastFetch, LastSuccess: st.LastSuccess, NextRun: st.NextRun, EmptyRuns: st.EmptyRuns,
			Items: c.items, Relevant: c.relevant, Week: c.week,
		})
	}
	return out, nil
}

// Facets implements dashboard.Reader.
func (s *Store) Facets(ctx context.Context) (dashboard.Facets, error) {
	var f dashboard.Facets
	// distinct walks an index from value to value (a loose index scan),
	// so its cost grows with the number of values, not of items.
	distinct := func(table, col string) ([]string, error) {
		// (Every step says col <> '': the index of actors has only those.)
		rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE v(x) AS (
			SELECT (SELECT MIN(`+col+`) FROM `+table+` WHERE `+col+` <> '')
			UNION ALL
			SELECT (SELECT MIN(`+col+`) FROM `+table+` WHERE `+col+` > x AND `+col+` <> '') FROM v WHERE x IS NOT NULL
		) SELECT x FROM v WHERE x IS NOT NULL`)
		if err != nil {
			return nil, fmt.Errorf("store: facets: %w", err)
		}
		defer rows.Close()
		out := []string{}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, fmt.Errorf("store: facets: %w", err)
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
	var err error
	if f.Sources, err = distinct("item_facts", "source_id"); err != nil {
		return f, err
	}
	if f.Langs, err = distinct("item_facts", "lang"); err != nil {
		return f, err
	}
	if f.Actors, err = distinct("item_facts", "actor"); err != nil {
		return f, err
	}
	topics, err := distinct("item_topics", "topic")
	if err != nil {
		return f, err
	}
	f.Topics = rules.TopicsOf(topics)
	var last sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(day) FROM item_facts WHERE relevant = 1`).Scan(&last); err != nil {
		return f, fmt.Errorf("store: facets: %w", err)
	}
	f.LastDay = last.String
	return f, nil
}

// AddCorrection implements dashboard.Reader.
func (s *Store) AddCorrection(ctx context.Context, c dashboard.Correction) (dashboard.Correction, error) {
	var sourceID, key, rj string
	err := s.db.QueryRowContext(ctx, `SELECT f.source_id, f.key, i.result_json FROM item_facts f
		JOIN items i ON i.source_id = f.source_id AND i.key = f.key WHERE f.id = ?`, c.ItemID).Scan(&sourceID, &key, &rj)
	if errors.Is(err, sql.ErrNoRows) {
		return c, dashboard.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: correct item %d: %w", c.ItemID, err)
	}
	var m classify.Result
	if err := json.Unmarshal([]byte(rj), &m); err != nil {
		return c, fmt.Errorf("store: correct item %d: decode labels: %w", c.ItemID, err)
	}
	c.Machine = dashboard.Label{Relevant: m.Relevant, Topics: nonNil(m.Topics), Stance: string(m.Stance)}
	c.Rules, c.Score = m.Rules, m.Score
	c.Label.Topics = nonNil(c.Label.Topics)
	if c.At.IsZero() {
		c.At = time.Now()
	}
	c.At = c.At.UTC()
	lj, _ := json.Marshal(c.Label)
	mj, _ := json.Marshal(c.Machine)
	err = s.db.QueryRowContext(ctx, `INSERT INTO corrections (source_id, item_key, label_json, machine_json, rules, score, reason, note, who, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sourceID, key, string(lj), string(mj), c.Rules, c.Score, c.Reason, c.Note, c.Who, fmtTime(c.At)).Scan(&c.ID)
	if err != nil {
		return c, fmt.Errorf("store: correct item %d: %w", c.ItemID, err)
	}
	return c, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Corrected implements dashboard.Reader.
func (s *Store) Corrected(ctx context.Context, fn func(dashboard.ItemDetail) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id FROM item_facts f
		JOIN (SELECT source_id, item_key, MAX(id) AS last FROM corrections GROUP BY source_id, item_key) c
			ON c.source_id = f.source_id AND c.item_key = f.key
		ORDER BY c.last`)
	if err != nil {
		return fmt.Errorf("store: corrected items: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("store: corrected items: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: corrected items: %w", err)
	}
	for _, id := range ids {
		d, err := s.ItemDetail(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}
