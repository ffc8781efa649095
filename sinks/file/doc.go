// Package file is a sink that writes labelled records to a local file,
// in one of three formats:
//
//   - jsonl: one sinks.Envelope per line, appended. The format for
//     archives and for other programs (jq, DuckDB, pandas).
//   - csv: a header once, then one row per record (event_id, published,
//     source, source_name, title, url, stance, topics joined by ";",
//     actor, score, rules), for spreadsheets. Text cells that a
//     spreadsheet would run as a formula get a leading single quote.
//   - atom: an Atom 1.0 feed of the newest records (200 by default) that
//     feed readers can subscribe to. Every event is its own entry with
//     the id urn:treatywatch:event:<event_id>, so a new label on an old
//     article shows up as a new entry instead of a silent update.
//
// Durability. jsonl and csv are appended and synced to disk (fsync)
// before Write returns nil, so the outbox only acks what is on disk. The
// sink keeps the set of event ids the file holds (read once on open):
// a record retried after a crash between write and ack is not written
// twice. A record torn by a crash in the middle of a write is cut off on
// open, and written whole by the retry. The Atom feed is rewritten whole
// on every write: a temporary file, synced, renamed over the old one.
// It deduplicates only against the entries it still holds.
//
// One process per file: the sink serialises its own writes, but two
// processes appending to one file would interleave.
package file
