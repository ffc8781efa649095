package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The dashboard's read model (migration 3). Items stay the record;
// triggers on items and corrections keep item_facts (one row per item
// with its effective labels), item_topics (one row per item and topic,
// denormalised for aggregates) and items_fts (full text) in step, so no
// writer has to know about them. An item's effective label is its latest
// correction, else the machine's; re-classification never overwrites a
// correction, and one survives the item being forgotten and fetched
// again.

// Expressions over an items row aliased R. JSON that does not parse
// reads as missing, so a corrupt row cannot block a write.
var (
	sqlHuman  = `(SELECT c.label_json FROM corrections c WHERE c.source_id = R.source_id AND c.item_key = R.key ORDER BY c.id DESC LIMIT 1)`
	sqlResult = `(CASE WHEN json_valid(R.result_json) THEN R.result_json END)`
	sqlItem   = `(CASE WHEN json_valid(R.item_json) THEN R.item_json END)`
	sqlFacts  = `substr(CASE WHEN R.published <> '' THEN R.published ELSE R.seen_at END, 1, 10),
		coalesce(json_extract({H}, '$.relevant'), R.relevant),
		CASE WHEN coalesce(json_extract({H}, '$.relevant'), R.relevant) THEN coalesce(json_extract(coalesce({H}, ` + sqlResult + `), '$.stance'), '') ELSE '' END,
		coalesce(json_extract(` + sqlResult + `, '$.actor'), ''),
		lower(coalesce(json_extract(` + sqlItem + `, '$.lang'), '')),
		{H} IS NOT NULL`
	sqlBody   = `coalesce(json_extract(` + sqlItem + `, '$.summary'), '') || char(10) || coalesce(json_extract(` + sqlItem + `, '$.content'), '')`
	sqlTopics = `INSERT OR IGNORE INTO item_topics (item_id, topic, relevant, day, stance, actor)
		SELECT f.id, j.value, f.relevant, f.day, f.stance, f.actor
		FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key,
			json_each(coalesce({H}, ` + sqlResult + `, '{}'), '$.topics') j
		WHERE j.type = 'text' AND f.relevant`
)

// expand fills in the human label subquery.
func expand(s string) string { return strings.ReplaceAll(s, "{H}", sqlHuman) }

// refresh recomputes the facts and topics of the item (S, K).
func refresh(s, k string) string {
	where := ` WHERE R.source_id = ` + s + ` AND R.key = ` + k
	return expand(`UPDATE item_facts SET (day, relevant, stance, actor, lang, corrected) =
			(SELECT `+sqlFacts+` FROM items R`+where+`)
			WHERE source_id = `+s+` AND key = `+k+`;
		DELETE FROM item_topics WHERE item_id = (SELECT id FROM item_facts WHERE source_id = `+s+` AND key = `+k+`);
		`+sqlTopics) + ` AND R.source_id = ` + s + ` AND R.key = ` + k + `;`
}

// sqliteReadModel builds the SQLite read model of every stored item from
// the items and corrections tables: in migration 3, and in Copy into an
// SQLite store, whose items are written there without it.
var sqliteReadModel = expand(`INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
		SELECT R.source_id, R.key, ` + sqlFacts + `, R.seen_at FROM items R ORDER BY R.seen_at, R.source_id, R.key;
	` + sqlTopics + `;
	INSERT INTO items_fts (rowid, title, body)
		SELECT f.id, R.title, ` + sqlBody + ` FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key;`)

var dashboardSchema = dashboardTables + sqliteReadModel + dashboardInsertTrigger + dashboardTriggers

// dashboardTables are the tables and indexes of the read model as
// migration 4 created them.
const dashboardTables = `CREATE TABLE corrections (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		source_id    TEXT NOT NULL,
		item_key     TEXT NOT NULL,
		label_json   TEXT NOT NULL,
		machine_json TEXT NOT NULL,
		rules        TEXT NOT NULL DEFAULT '',
		score        REAL NOT NULL DEFAULT 0,
		reason       TEXT NOT NULL DEFAULT '',
		note         TEXT NOT NULL DEFAULT '',
		who          TEXT NOT NULL,
		at           TEXT NOT NULL
	);
	CREATE INDEX corrections_item ON corrections (source_id, item_key, id);
	CREATE TABLE item_facts (
		id        INTEGER PRIMARY KEY,
		source_id TEXT NOT NULL,
		key       TEXT NOT NULL,
		day       TEXT NOT NULL,
		relevant  INTEGER NOT NULL,
		stance    TEXT NOT NULL,
		actor     TEXT NOT NULL,
		lang      TEXT NOT NULL,
		corrected INTEGER NOT NULL,
		seen      TEXT NOT NULL,
		UNIQUE (source_id, key)
	);
	CREATE INDEX item_facts_day ON item_facts (relevant, day, stance, actor);
	CREATE INDEX item_facts_recent ON item_facts (relevant, day);
	CREATE INDEX item_facts_actor ON item_facts (actor, relevant, day);
	CREATE INDEX item_facts_lang ON item_facts (lang);
	CREATE INDEX item_facts_source ON item_facts (source_id, relevant, seen);
	CREATE INDEX outbox_item ON outbox (source_id, item_key);
	CREATE TABLE item_topics (
		item_id  INTEGER NOT NULL,
		topic    TEXT NOT NULL,
		relevant INTEGER NOT NULL,
		day      TEXT NOT NULL,
		stance   TEXT NOT NULL,
		actor    TEXT NOT NULL,
		PRIMARY KEY (item_id, topic)
	) WITHOUT ROWID;
	CREATE INDEX item_topics_day ON item_topics (relevant, day, topic, stance, actor);
	CREATE INDEX item_topics_topic ON item_topics (topic);
	CREATE VIRTUAL TABLE items_fts USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');
	`

// dashboardInsertTrigger wrote the read model of a new item until
// migration 5 (writeItemFacts writes it now).
var dashboardInsertTrigger = expand(`
	CREATE TRIGGER items_dashboard_insert AFTER INSERT ON items BEGIN
		INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
			SELECT R.source_id, R.key, ` + sqlFacts + `, R.seen_at FROM items R WHERE R.source_id = NEW.source_id AND R.key = NEW.key;
		` + sqlTopics + ` AND R.source_id = NEW.source_id AND R.key = NEW.key;
		INSERT INTO items_fts (rowid, title, body)
			SELECT f.id, R.title, ` + sqlBody + ` FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key
			WHERE R.source_id = NEW.source_id AND R.key = NEW.key;
	END;`)

// dashboardTriggers keep the read model of stored items in step with
// their updates, deletions and corrections.
var dashboardTriggers = `
	CREATE TRIGGER items_dashboard_update AFTER UPDATE ON items BEGIN
		` + refresh("NEW.source_id", "NEW.key") + `
	END;
	CREATE TRIGGER items_dashboard_text AFTER UPDATE OF title, item_json ON items BEGIN
		DELETE FROM items_fts WHERE rowid = (SELECT id FROM item_facts WHERE source_id = NEW.source_id AND key = NEW.key);
		INSERT INTO items_fts (rowid, title, body)
			SELECT f.id, R.title, ` + sqlBody + ` FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key
			WHERE R.source_id = NEW.source_id AND R.key = NEW.key;
	END;
	CREATE TRIGGER items_dashboard_delete AFTER DELETE ON items BEGIN
		DELETE FROM items_fts WHERE rowid = (SELECT id FROM item_facts WHERE source_id = OLD.source_id AND key = OLD.key);
		DELETE FROM item_topics WHERE item_id = (SELECT id FROM item_facts WHERE source_id = OLD.source_id AND key = OLD.key);
		DELETE FROM item_facts WHERE source_id = OLD.source_id AND key = OLD.key;
	END;
	CREATE TRIGGER corrections_dashboard AFTER INSERT ON corrections BEGIN
		` + refresh("NEW.source_id", "NEW.item_key") + `
	END;`

// pgDashboardSchema is migration 4 for PostgreSQL: the same tables, kept
// by one PL/pgSQL function that recomputes an item's facts, topics and
// search vector whenever the item or its corrections change. Full-text
// search uses the "simple" configuration on the text with punctuation
// (ASCII, Latin-1, general and CJK punctuation) turned to spaces, so words are what the SQLite tokenizer sees (no
// stemming; URLs and hyphenated words split into their words).
var pgDashboardSchema = `CREATE TABLE corrections (
		id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		source_id    TEXT NOT NULL,
		item_key     TEXT NOT NULL,
		label_json   TEXT NOT NULL,
		machine_json TEXT NOT NULL,
		rules        TEXT NOT NULL DEFAULT '',
		score        DOUBLE PRECISION NOT NULL DEFAULT 0,
		reason       TEXT NOT NULL DEFAULT '',
		note         TEXT NOT NULL DEFAULT '',
		who          TEXT NOT NULL,
		at           TEXT COLLATE "C" NOT NULL
	);
	CREATE INDEX corrections_item ON corrections (source_id, item_key, id);
	CREATE TABLE item_facts (
		id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		source_id TEXT COLLATE "C" NOT NULL,
		key       TEXT COLLATE "C" NOT NULL,
		day       TEXT COLLATE "C" NOT NULL,
		relevant  INTEGER NOT NULL,
		stance    TEXT COLLATE "C" NOT NULL,
		actor     TEXT COLLATE "C" NOT NULL,
		lang      TEXT COLLATE "C" NOT NULL,
		corrected INTEGER NOT NULL,
		seen      TEXT COLLATE "C" NOT NULL,
		search    TSVECTOR NOT NULL,
		UNIQUE (source_id, key)
	);
	CREATE INDEX item_facts_day ON item_facts (relevant, day, stance, actor);
	CREATE INDEX item_facts_recent ON item_facts (relevant, day, id);
	CREATE INDEX item_facts_actor ON item_facts (actor, relevant, day);
	CREATE INDEX item_facts_lang ON item_facts (lang);
	CREATE INDEX item_facts_source ON item_facts (source_id, relevant, seen);
	CREATE INDEX item_facts_search ON item_facts USING GIN (search);
	CREATE INDEX outbox_item ON outbox (source_id, item_key);
	CREATE TABLE item_topics (
		item_id  BIGINT NOT NULL,
		topic    TEXT COLLATE "C" NOT NULL,
		relevant INTEGER NOT NULL,
		day      TEXT COLLATE "C" NOT NULL,
		stance   TEXT COLLATE "C" NOT NULL,
		actor    TEXT COLLATE "C" NOT NULL,
		PRIMARY KEY (item_id, topic)
	);
	CREATE INDEX item_topics_day ON item_topics (relevant, day, topic, stance, actor);
	CREATE INDEX item_topics_topic ON item_topics (topic);
	CREATE FUNCTION treatywatch_jsonb(t TEXT) RETURNS JSONB LANGUAGE plpgsql IMMUTABLE AS $fn$
	BEGIN
		RETURN t::jsonb;
	EXCEPTION WHEN others THEN
		RETURN NULL;
	END
	$fn$;
` + pgRefreshFunction("CREATE", pgSearchPlain) + `
	CREATE FUNCTION treatywatch_items_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
	BEGIN
		IF TG_OP = 'DELETE' THEN
			PERFORM treatywatch_refresh_item(OLD.source_id, OLD.key);
		ELSE
			PERFORM treatywatch_refresh_item(NEW.source_id, NEW.key);
		END IF;
		RETURN NULL;
	END
	$fn$;
	CREATE FUNCTION treatywatch_corrections_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
	BEGIN
		PERFORM treatywatch_refresh_item(NEW.source_id, NEW.item_key);
		RETURN NULL;
	END
	$fn$;
	CREATE TRIGGER items_dashboard AFTER INSERT OR UPDATE OR DELETE ON items
		FOR EACH ROW EXECUTE FUNCTION treatywatch_items_changed();
	CREATE TRIGGER corrections_dashboard AFTER INSERT ON corrections
		FOR EACH ROW EXECUTE FUNCTION treatywatch_corrections_changed();
	SELECT treatywatch_refresh_item(source_id, key) FROM items ORDER BY seen_at, source_id, key;`

// writeItemFacts writes the SQLite read model of the items a commit has
// just inserted (insertNewItems), from the values in hand: no JSON of the
// stored rows is parsed (an items trigger did that at five times the
// cost). It writes every item of the commit with a few multi-row
// statements instead of several statements per item, and the full-text
// rows last, in one go: FTS5 flushes its pending index to disk at the
// start of every later statement of the transaction, so one search row
// written per item cost one flush per item. Updates, deletes and
// corrections are kept by the triggers.
//
// An analyst's correction outlives an item that is forgotten and read
// again, and then decides its effective labels: items of a source with
// corrections take a statement that reads them. The others take plain
// multi-row inserts that ignore conflicts rather than abort on them and
// call no JSON function (which may fail), so SQLite keeps no statement
// journal for them: with one, every page such an insert changed was
// first copied to a temporary file. Their ids are known without reading
// them back: the next ones after the largest. An item that has facts
// already (which a new item cannot have) is touched instead, so that the
// update triggers recompute its read model.
func writeItemFacts(ctx context.Context, t *tx, ls []stamped) error {
	if len(ls) == 0 {
		return nil
	}
	const human = `(SELECT label_json FROM corrections WHERE source_id = v.column1 AND item_key = v.column2 ORDER BY id DESC LIMIT 1)`
	hasCorrections := map[string]bool{}
	// Most stores have no correction at all: one question then answers
	// for every source of the commit.
	var someCorrected bool
	if err := t.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM corrections)`).Scan(&someCorrected); err != nil {
		return fmt.Errorf("dashboard facts: corrections: %w", err)
	}
	for _, l := range ls {
		src := l.Item.SourceID
		if _, ok := hasCorrections[src]; ok || !someCorrected {
			continue // asked already, or no source has any
		}
		var some bool
		if err := t.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM corrections WHERE source_id = ?)`, src).Scan(&some); err != nil {
			return fmt.Errorf("dashboard facts: corrections of %s: %w", src, err)
		}
		hasCorrections[src] = some
	}
	facts := make([]fact, len(ls))
	var plain, read []int // indexes into ls
	for i, l := range ls {
		if hasCorrections[l.Item.SourceID] {
			read = append(read, i)
		} else {
			plain = append(plain, i)
		}
	}
	dayOf := func(l stamped) string {
		day := fmtTime(l.Item.Published)
		if day == "" {
			day = fmtTime(l.at)
		}
		return day[:min(10, len(day))]
	}
	// The items of sources without corrections: the transaction is the
	// only writer, so SQLite gives the rows of one statement the ids after
	// the largest, in order, and nothing needs reading back. (Giving the
	// ids in the statement would cost a statement journal: an id that is
	// not an integer would abort it.)
	var next int64
	if len(plain) > 0 {
		if err := t.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM item_facts`).Scan(&next); err != nil {
			return fmt.Errorf("dashboard facts: %w", err)
		}
	}
	err := inChunks(len(plain), func(lo, hi int) error {
		args := make([]any, 0, 9*(hi-lo))
		for j, i := range plain[lo:hi] {
			l := ls[i]
			it, r := l.Item, l.Result
			f := fact{id: next + int64(j), relevant: r.Relevant, day: dayOf(l), actor: r.Actor}
			if r.Relevant {
				f.stance = string(r.Stance)
			}
			facts[i] = f
			args = append(args, it.SourceID, it.Key, f.day, boolInt(r.Relevant), f.stance, f.actor, strings.ToLower(it.Lang), 0, fmtTime(l.at))
		}
		res, err := t.ExecContext(ctx, `INSERT OR IGNORE INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen) `+
			valuesRows(hi-lo, 9), args...)
		if err != nil {
			return err
		}
		first := next
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		last, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if n == int64(hi-lo) && last == first+n-1 {
			next += n
			return nil
		}
		// Some items had facts already (only a damaged database has
		// that): read the ids of those written.
		next = last + 1
		return readWritten(ctx, t, ls, facts, plain[lo:hi], first)
	})
	if err == nil {
		// Items of sources with corrections: the effective labels are
		// read from them.
		err = inChunks(len(read), func(lo, hi int) error {
			args := make([]any, 0, 8*(hi-lo))
			at := make(map[[2]string]int, hi-lo)
			for _, i := range read[lo:hi] {
				l := ls[i]
				it, r := l.Item, l.Result
				args = append(args, it.SourceID, it.Key, dayOf(l), boolInt(r.Relevant), string(r.Stance), r.Actor, strings.ToLower(it.Lang), fmtTime(l.at))
				at[[2]string{it.SourceID, it.Key}] = i
			}
			rows, err := t.QueryContext(ctx, `INSERT OR IGNORE INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
				SELECT column1, column2, column3, coalesce(json_extract(h, '$.relevant'), column4),
					CASE WHEN coalesce(json_extract(h, '$.relevant'), column4) THEN coalesce(json_extract(h, '$.stance'), column5) ELSE '' END,
					column6, column7, h IS NOT NULL, column8
				FROM (SELECT v.*, `+human+` AS h FROM (`+valuesRows(hi-lo, 8)+`) v)
				RETURNING id, source_id, key, relevant, corrected, day, stance, actor`, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var f fact
				var k [2]string
				if err := rows.Scan(&f.id, &k[0], &k[1], &f.relevant, &f.corrected, &f.day, &f.stance, &f.actor); err != nil {
					return err
				}
				i, ok := at[k]
				if !ok {
					return fmt.Errorf("facts written for an item not in the commit: %s/%s", k[0], k[1])
				}
				facts[i] = f
			}
			return rows.Err()
		})
	}
	if err != nil {
		return fmt.Errorf("dashboard facts: %w", err)
	}
	for i, l := range ls {
		if facts[i].id != 0 {
			continue
		}
		if _, err := t.ExecContext(ctx, `UPDATE items SET title = title WHERE source_id = ? AND key = ?`, l.Item.SourceID, l.Item.Key); err != nil {
			return fmt.Errorf("dashboard facts of %s: %w", l.Item.Key, err)
		}
	}
	// Topics: the machine's of a relevant item without a correction from
	// the values in hand, a corrected item's from its label.
	var topics []any
	var corrected []Labeled
	var correctedIDs []int64
	for i, l := range ls {
		f := facts[i]
		switch {
		case f.id == 0 || !f.relevant:
		case f.corrected:
			corrected, correctedIDs = append(corrected, l.Labeled), append(correctedIDs, f.id)
		default:
			for _, tp := range l.Result.Topics {
				topics = append(topics, f.id, string(tp), 1, f.day, f.stance, f.actor)
			}
		}
	}
	err = inChunks(len(topics)/6, func(lo, hi int) error {
		_, err := t.ExecContext(ctx, `INSERT OR IGNORE INTO item_topics (item_id, topic, relevant, day, stance, actor) `+
			valuesRows(hi-lo, 6), topics[6*lo:6*hi]...)
		return err
	})
	if err != nil {
		return fmt.Errorf("dashboard topics: %w", err)
	}
	err = inChunks(len(corrected), func(lo, hi int) error {
		args := make([]any, 0, 4*(hi-lo))
		for i, l := range corrected[lo:hi] {
			topics, err := json.Marshal(map[string]any{"topics": l.Result.Topics})
			if err != nil {
				return err
			}
			args = append(args, l.Item.SourceID, l.Item.Key, string(topics), correctedIDs[lo+i])
		}
		_, err := t.ExecContext(ctx, `INSERT OR IGNORE INTO item_topics (item_id, topic, relevant, day, stance, actor)
			SELECT f.id, j.value, f.relevant, f.day, f.stance, f.actor
			FROM (`+valuesRows(hi-lo, 4)+`) v JOIN item_facts f ON f.id = v.column4, json_each(coalesce(`+human+`, v.column3), '$.topics') j
			WHERE f.relevant AND j.type = 'text'`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("dashboard topics: %w", err)
	}
	// The search rows go in one statement, whatever their number: each
	// statement that writes the search index flushes what the one before
	// left pending to disk, as a segment of its own that later has to be
	// merged. The rows are one JSON parameter, so the statement has one
	// shape.
	rows := make([]byte, 0, 64*len(ls))
	rows = append(rows, '[')
	for i, l := range ls {
		if facts[i].id == 0 {
			continue
		}
		body := "\n" // an irrelevant item is stored without its text (storedItem)
		if l.Result.Relevant {
			body = l.Item.Summary + "\n" + l.Item.Content
		}
		if len(rows) > 1 {
			rows = append(rows, ',')
		}
		rows = append(rows, '[')
		rows = strconv.AppendInt(rows, facts[i].id, 10)
		rows = append(rows, ',')
		rows = appendJSONString(rows, l.Item.Title)
		rows = append(rows, ',')
		rows = appendJSONString(rows, body)
		rows = append(rows, ']')
	}
	rows = append(rows, ']')
	if len(rows) > 2 {
		if _, err := t.ExecContext(ctx, `INSERT INTO items_fts (rowid, title, body) SELECT value->>0, value->>1, value->>2 FROM json_each(?)`, string(rows)); err != nil {
			return fmt.Errorf("dashboard search: %w", err)
		}
	}
	return nil
}

// appendJSONString appends s to b as a JSON string. Bytes that are not
// UTF-8 are kept as they are (SQLite's JSON functions give them back
// unchanged), so a value makes the round trip exactly.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// fact is what writeItemFacts wrote of an item: its effective labels.
type fact struct {
	id                  int64 // 0: none written
	relevant, corrected bool
	day, stance, actor  string
}

// readWritten sets the ids of the items at idx from the facts rows from
// id first on (those the last statement wrote), and clears the facts of
// the items it did not write.
func readWritten(ctx context.Context, t *tx, ls []stamped, facts []fact, idx []int, first int64) error {
	rows, err := t.QueryContext(ctx, `SELECT id, source_id, key FROM item_facts WHERE id >= ?`, first)
	if err != nil {
		return err
	}
	defer rows.Close()
	written := map[[2]string]int64{}
	for rows.Next() {
		var id int64
		var k [2]string
		if err := rows.Scan(&id, &k[0], &k[1]); err != nil {
			return err
		}
		written[k] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range idx {
		if id, ok := written[[2]string{ls[i].Item.SourceID, ls[i].Item.Key}]; ok {
			facts[i].id = id
		} else {
			facts[i] = fact{}
		}
	}
	return nil
}

// maxChunk is the most rows one multi-row statement takes.
const maxChunk = 64

// inChunks calls fn over [0, n) in chunks whose lengths are powers of
// two up to maxChunk, so that a multi-row statement comes in at most
// seven shapes and the statement cache keeps them all prepared.
func inChunks(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := maxChunk
		for size > n-lo {
			size /= 2
		}
		if err := fn(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}

// valuesRows is a VALUES clause of rows rows with cols placeholders each.
func valuesRows(rows, cols int) string {
	row := "(?" + strings.Repeat(",?", cols-1) + ")"
	return "VALUES " + row + strings.Repeat(","+row, rows-1)
}

// The search vector of an item row r with its item JSON it: as migration
// 4 wrote it, and from migration 5 on with punctuation turned to spaces.
const (
	pgSearchPlain = `to_tsvector('simple', r.title || ' ' || COALESCE(it->>'summary', '') || ' ' || COALESCE(it->>'content', ''))`
	pgSearchWords = `to_tsvector('simple', regexp_replace(r.title || ' ' || COALESCE(it->>'summary', '') || ' ' || COALESCE(it->>'content', ''), '[[:punct:]\u00A1-\u00BF\u2010-\u2027\u2030-\u205E\u3000-\u303F]+', ' ', 'g'))`
)

// pgRefreshFunction is the PL/pgSQL function that recomputes one item's
// read model; verb is CREATE or CREATE OR REPLACE.
func pgRefreshFunction(verb, search string) string {
	return strings.NewReplacer("{verb}", verb, "{search}", search).Replace(`	{verb} FUNCTION treatywatch_refresh_item(s TEXT, k TEXT) RETURNS void LANGUAGE plpgsql AS $fn$
	DECLARE
		r items%ROWTYPE;
		h JSONB;
		lab JSONB;
		rel INTEGER;
		fid BIGINT;
		it JSONB;
	BEGIN
		SELECT * INTO r FROM items WHERE source_id = s AND key = k;
		IF NOT FOUND THEN
			DELETE FROM item_topics WHERE item_id IN (SELECT id FROM item_facts WHERE source_id = s AND key = k);
			DELETE FROM item_facts WHERE source_id = s AND key = k;
			RETURN;
		END IF;
		SELECT label_json::jsonb INTO h FROM corrections WHERE source_id = s AND item_key = k ORDER BY id DESC LIMIT 1;
		lab := COALESCE(h, treatywatch_jsonb(r.result_json), '{}'::jsonb);
		it := COALESCE(treatywatch_jsonb(r.item_json), '{}'::jsonb);
		rel := CASE WHEN h IS NULL THEN r.relevant WHEN (h->>'relevant')::boolean THEN 1 ELSE 0 END;
		INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen, search)
		VALUES (s, k,
			substr(CASE WHEN r.published <> '' THEN r.published ELSE r.seen_at END, 1, 10),
			rel,
			CASE WHEN rel = 1 THEN COALESCE(lab->>'stance', '') ELSE '' END,
			COALESCE(treatywatch_jsonb(r.result_json)->>'actor', ''),
			lower(COALESCE(it->>'lang', '')),
			CASE WHEN h IS NULL THEN 0 ELSE 1 END,
			r.seen_at,
			{search})
		ON CONFLICT (source_id, key) DO UPDATE SET day = excluded.day, relevant = excluded.relevant, stance = excluded.stance,
			actor = excluded.actor, lang = excluded.lang, corrected = excluded.corrected, search = excluded.search
		RETURNING id INTO fid;
		DELETE FROM item_topics WHERE item_id = fid;
		IF rel = 1 AND jsonb_typeof(lab->'topics') = 'array' THEN
			INSERT INTO item_topics (item_id, topic, relevant, day, stance, actor)
				SELECT f.id, t.topic, f.relevant, f.day, f.stance, f.actor
				FROM item_facts f, jsonb_array_elements_text(lab->'topics') AS t(topic)
				WHERE f.id = fid
				ON CONFLICT DO NOTHING;
		END IF;
	END
	$fn$;`)
}

// Migration 5. SQLite: commits write an item's read model from the values
// in hand (writeItemFacts) instead of an insert trigger that parsed the
// stored JSON again at five times the cost. PostgreSQL: search splits
// punctuation as the SQLite tokenizer does, and every item is indexed
// again.
const dashboardFastInsert = `DROP TRIGGER IF EXISTS items_dashboard_insert;`

// partialFactIndexes is migration 7, the same in both dialects: the
// indexes of the dashboard facts that only the counts of relevant items
// and the facets read leave out the rows that would not be read. Most
// items are not relevant, and an index keyed by day took the rows of one
// commit into as many places as the commit's items had days: a commit
// wrote 8 pages of each of these two indexes, of the 57 it wrote in all
// (100 commits of 26 items in a fresh database). Irrelevant items are
// still listed by day (item_facts_recent).
const partialFactIndexes = `DROP INDEX item_facts_day;
	CREATE INDEX item_facts_day ON item_facts (day, stance, actor) WHERE relevant = 1;
	DROP INDEX item_facts_actor;
	CREATE INDEX item_facts_actor ON item_facts (actor, relevant, day) WHERE actor <> '';`

var pgDashboardSearch = pgRefreshFunction("CREATE OR REPLACE", pgSearchWords) + `
	SELECT treatywatch_refresh_item(source_id, key) FROM items;`
