// Package sinks defines where labelled records go: the Record, the Sink
// interface and its error contract. Implementations live below it: file
// (JSONL, CSV, Atom), webhook (signed JSON), digest (scheduled email).
// sinktest is a conformance suite every sink passes.
//
// Delivery is at-least-once: the outbox in internal/store offers records
// until a sink's Write returns nil, and every record carries a stable
// event id so receivers can drop duplicates.
package sinks
