package store

import (
	"context"
	"time"
)

// ClaimDue claims up to limit pending deliveries of sink whose next
// attempt is at or before now, oldest first. One process owns an SQLite
// database, so a claim needs no lease here: a record stays pending until
// it is acked or retried, and is offered again after a crash.
func (s *Store) ClaimDue(ctx context.Context, sink string, now time.Time, _ time.Duration, limit int) ([]Pending, error) {
	return s.Due(ctx, sink, now, limit)
}

// ClaimWindow claims every pending delivery of sink queued at or before
// end (see ClaimDue on leases).
func (s *Store) ClaimWindow(ctx context.Context, sink string, end, _ time.Time, _ time.Duration) ([]Pending, error) {
	return s.Window(ctx, sink, end)
}
