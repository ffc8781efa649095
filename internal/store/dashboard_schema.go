package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
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

var dashboardSchema = `CREATE TABLE corrections (
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
	` + expand(`INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
		SELECT R.source_id, R.key, `+sqlFacts+`, R.seen_at FROM items R ORDER BY R.seen_at, R.source_id, R.key;
	`+sqlTopics+`;
	INSERT INTO items_fts (rowid, title, body)
		SELECT f.id, R.title, `+sqlBody+` FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key;
	CREATE TRIGGER items_dashboard_insert AFTER INSERT ON items BEGIN
		INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
			SELECT R.source_id, R.key, `+sqlFacts+`, R.seen_at FROM items R WHERE R.source_id = NEW.source_id AND R.key = NEW.key;
		`+sqlTopics+` AND R.source_id = NEW.source_id AND R.key = NEW.key;
		INSERT INTO items_fts (rowid, title, body)
			SELECT f.id, R.title, `+sqlBody+` FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key
			WHERE R.source_id = NEW.source_id AND R.key = NEW.key;
	END;`) + `
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

// writeItemFacts keeps the SQLite read model of an item the commit just
// wrote, from the values in hand: no JSON of the stored row is parsed,
// which keeps commits fast (an items trigger did the same at five times
// the cost). An analyst's correction still decides the effective labels.
// Updates, deletes and corrections are kept by the triggers.
func writeItemFacts(ctx context.Context, t *tx, at time.Time, l Labeled) error {
	const human = `(SELECT label_json FROM corrections WHERE source_id = ? AND item_key = ? ORDER BY id DESC LIMIT 1)`
	it, r := l.Item, l.Result
	topics, err := json.Marshal(map[string][]string{"topics": r.Topics})
	if err != nil {
		return err
	}
	var id int64
	err = t.QueryRowContext(ctx, `INSERT INTO item_facts (source_id, key, day, relevant, stance, actor, lang, corrected, seen)
		SELECT ?, ?, substr(CASE WHEN ? <> '' THEN ? ELSE (SELECT seen_at FROM items WHERE source_id = ? AND key = ?) END, 1, 10),
			coalesce(json_extract(h, '$.relevant'), ?),
			CASE WHEN coalesce(json_extract(h, '$.relevant'), ?) THEN coalesce(json_extract(h, '$.stance'), ?) ELSE '' END,
			?, ?, h IS NOT NULL, (SELECT seen_at FROM items WHERE source_id = ? AND key = ?)
		FROM (SELECT `+human+` AS h) WHERE true
		ON CONFLICT (source_id, key) DO UPDATE SET day = excluded.day, relevant = excluded.relevant, stance = excluded.stance,
			actor = excluded.actor, lang = excluded.lang, corrected = excluded.corrected
		RETURNING id`,
		it.SourceID, it.Key, fmtTime(it.Published), fmtTime(it.Published), it.SourceID, it.Key,
		boolInt(r.Relevant), boolInt(r.Relevant), string(r.Stance),
		r.Actor, strings.ToLower(it.Lang), it.SourceID, it.Key,
		it.SourceID, it.Key).Scan(&id)
	if err != nil {
		return fmt.Errorf("dashboard facts: %w", err)
	}
	if _, err := t.ExecContext(ctx, `DELETE FROM item_topics WHERE item_id = ?`, id); err != nil {
		return fmt.Errorf("dashboard topics: %w", err)
	}
	_, err = t.ExecContext(ctx, `INSERT OR IGNORE INTO item_topics (item_id, topic, relevant, day, stance, actor)
		SELECT f.id, j.value, f.relevant, f.day, f.stance, f.actor
		FROM item_facts f, json_each(coalesce(`+human+`, ?), '$.topics') j
		WHERE f.id = ? AND f.relevant AND j.type = 'text'`, it.SourceID, it.Key, string(topics), id)
	if err != nil {
		return fmt.Errorf("dashboard topics: %w", err)
	}
	if _, err := t.ExecContext(ctx, `DELETE FROM items_fts WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("dashboard search: %w", err)
	}
	if _, err := t.ExecContext(ctx, `INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)`, id, it.Title, it.Summary+"\n"+it.Content); err != nil {
		return fmt.Errorf("dashboard search: %w", err)
	}
	return nil
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

var pgDashboardSearch = pgRefreshFunction("CREATE OR REPLACE", pgSearchWords) + `
	SELECT treatywatch_refresh_item(source_id, key) FROM items;`
