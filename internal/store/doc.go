// Package store keeps the monitor's state in an embedded SQLite database
// (modernc.org/sqlite, pure Go): each source's HTTP validators and health,
// the items seen with their labels, the delivery outbox, and small
// key-value state for sinks.
//
// The database runs in WAL mode; its schema is versioned with PRAGMA
// user_version and migrated forward on Open. One transaction commits a
// source run: validators, seen items with labels, and one outbox row per
// (relevant item × sink), so a crash before the commit only means a
// re-fetch and a crash after it loses nothing.
//
// Item keys follow fetch/normalize. A database written by a version that
// keyed items otherwise is rekeyed once when it opens (Rekey): items, their
// outbox rows, corrections and dashboard facts move to today's keys, so
// nothing already delivered looks new.
//
// The pipeline reaches the store only through its own interface
// (pipeline.Store): source state, CommitRun and CommitBackfill, per-record
// outbox claims and acks, and the window state of scheduled sinks.
package store
