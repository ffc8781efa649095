// Package pipeline runs sources and delivers results. It has three
// parts, each with its own options and the few store methods it uses
// (store.go), and Pipeline (pipeline.go), which wires them for a command:
//
//   - Ingester takes items into the store. One source run is a straight
//     line (RunSource): claim the source, fetch with the stored
//     validators, then the ingest (ingest.go) every document goes
//     through: keep the unseen items (by key, and by URL for items a
//     publisher re-keyed), read the full text of thin ones that may be
//     relevant (Extractor), classify, and commit everything in one
//     transaction with one outbox row per (relevant item × sink). A
//     backfill (Backfill) is a loop over the source's archive walkers
//     (fetch/archive) feeding the same ingest.
//   - Outbox hands queued records to the sinks (Deliver, Flush): per
//     sink in claimed batches, acking only what a sink took and retrying
//     the rest at a backoff, outside the sink's quiet hours. A scheduled
//     sink (the digest) gets a window at a time (sendwindow.go): fixed
//     in the store before it is sent, closed with its records after;
//     SendNow and PreviewWindow serve `digest --send` and the preview.
//   - Scheduler runs sources: every one at the next run
//     internal/schedule decides (Daemon, one loop per source), or each
//     once (RunAll), on one worker pool (pool.go) that runs at most so
//     many sources of one host at once and turns a panic into that
//     source's failure. The daemon delivers the Outbox between runs, when
//     a commit kicks it, and flushes it at shutdown.
//
// The flow is one way: Scheduler → Ingester → store → Outbox → sinks.
// The Scheduler sees the Ingester only as the function that runs a
// source and the Outbox only as Delivery; the Ingester sees the Outbox
// only as the kick it calls after a commit that queued records.
package pipeline
