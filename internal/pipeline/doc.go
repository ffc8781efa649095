// Package pipeline runs sources and delivers results. One source run is a
// straight line (RunSource): fetch with the stored validators, then the
// ingest (ingest.go) every document goes through: keep the unseen items
// (by key, and by URL for items a publisher re-keyed), read the full text
// of thin ones that may be relevant (Extractor), classify, and commit
// everything in one transaction with one outbox row per (relevant item ×
// sink). A backfill (Backfill) is a loop over the source's archive
// walkers (fetch/archive) feeding the same ingest. Delivery (Deliver)
// drains the outbox per sink and acks only what a sink took. The daemon
// (Daemon) schedules sources at the next run internal/schedule decides;
// once reuses the same run. The pipeline keeps its state only through
// Store (store.go).
package pipeline
