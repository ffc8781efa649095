package store

import "strings"

// The dashboard's read model (migration 3). Items stay the record;
// triggers on items and corrections keep item_facts (one row per item
// with its effective labels), item_topics (one row per item and topic,
// denormalised for aggregates) and items_fts (full text) in step, so no
// writer has to know about them. An item's effective label is its latest
// correction, else the machine's; re-classification never overwrites a
// correction, and one survives the item being forgotten and fetched
// again.

// Expressions over an items row aliased R.
var (
	sqlHuman = `(SELECT c.label_json FROM corrections c WHERE c.source_id = R.source_id AND c.item_key = R.key ORDER BY c.id DESC LIMIT 1)`
	sqlFacts = `substr(CASE WHEN R.published <> '' THEN R.published ELSE R.seen_at END, 1, 10),
		coalesce(json_extract({H}, '$.relevant'), R.relevant),
		CASE WHEN coalesce(json_extract({H}, '$.relevant'), R.relevant) THEN coalesce(json_extract(coalesce({H}, R.result_json), '$.stance'), '') ELSE '' END,
		coalesce(json_extract(R.result_json, '$.actor'), ''),
		lower(coalesce(json_extract(R.item_json, '$.lang'), '')),
		{H} IS NOT NULL`
	sqlBody   = `coalesce(json_extract(R.item_json, '$.summary'), '') || char(10) || coalesce(json_extract(R.item_json, '$.content'), '')`
	sqlTopics = `INSERT OR IGNORE INTO item_topics (item_id, topic, relevant, day, stance, actor)
		SELECT f.id, j.value, f.relevant, f.day, f.stance, f.actor
		FROM items R JOIN item_facts f ON f.source_id = R.source_id AND f.key = R.key,
			json_each(coalesce({H}, R.result_json), '$.topics') j
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
