package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// SchemaVersion is the version of the record layout every sink writes.
const SchemaVersion = 1

// Record is one labelled item on its way to one sink.
type Record struct {
	// EventID is stable per (item, sink): a retry carries the same id, so
	// a receiver that keeps ids sees each result once.
	EventID string
	Item    fetch.Item
	Result  classify.Result
}

// Sink delivers records. Write either takes all of recs or returns an
// error, in which case every one of them stays queued and is offered
// again later: sinks must therefore accept a record they already took
// (the EventID tells them).
type Sink interface {
	Name() string
	Write(ctx context.Context, recs []Record) error
}

// Taker is implemented by sinks that hand records to their receiver one
// at a time (a webhook POSTs each). WriteTaking delivers recs in order
// and calls took(i) as soon as record i is with the receiver, before it
// sends the next; it stops at the first failure and returns its error.
// The outbox acknowledges each record as it is taken, so a failure or a
// kill in the middle of a batch sends again only the record in flight
// and those not yet sent: the batch is an optimisation, not the unit of
// loss or duplication. An error from took stops the write and is
// returned (wrapped).
type Taker interface {
	Sink
	WriteTaking(ctx context.Context, recs []Record, took func(i int) error) error
}

// Checker is implemented by sinks that can tell whether their receiver is
// reachable without delivering anything.
type Checker interface {
	Check(ctx context.Context) error
}

// RetryError asks the caller not to try again before After.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns the delay a sink error asked for, or zero.
func RetryAfter(err error) time.Duration {
	var re *RetryError
	if errors.As(err, &re) {
		return re.After
	}
	return 0
}
