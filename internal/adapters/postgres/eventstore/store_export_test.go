package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Settings of a Store that tests change.

// SetAppendOutcomeWait shortens how long the store's appends wait for
// their outcome once sent, so that a test can outlast it.
func (s *Store) SetAppendOutcomeWait(d time.Duration) { s.outcomeWait = d }

// EndSessionsReportingFalse has resolving an append end its session as
// usual, but be told false, as pg_terminate_backend says for a session
// that ended just before it was called.
func (s *Store) EndSessionsReportingFalse() {
	s.endSession = "SELECT (" + endSessionSQL + ") AND false"
}

// ReadOrders is the statement GetOrder's coalesced reads make, for a
// test to hand a batch of its choosing.
func (s *Store) ReadOrders(ctx context.Context, ids []uuid.UUID) ([]coalesce.Result[order.Order], error) {
	return s.readOrders(ctx, ids)
}
