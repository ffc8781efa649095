// Package pipeline runs sources and delivers results. One source run is a
// straight line (RunSource): fetch with the stored validators, keep the
// unseen items, extract the full text of thin ones that may be relevant,
// classify, commit everything in one transaction with one outbox row per
// (relevant item × sink). Delivery (Deliver) drains the outbox per sink
// and acks only what a sink took. The daemon (Daemon) schedules sources
// at the next run internal/schedule decides; once and backfill reuse the
// same run.
package pipeline
