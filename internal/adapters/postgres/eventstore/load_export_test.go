package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The fold's bound, opened to the tests of package eventstore_test, which
// stand for a snapshot feature that passes its own starting state.

// ErrPastBound is errPastBound.
var ErrPastBound = errPastBound

// FoldToVersion folds the stream from a given state up to a version.
func (s *Store) FoldToVersion(ctx context.Context, id uuid.UUID, from order.Order, version int) (order.Order, error) {
	return s.foldStream(ctx, id, from, untilVersion(version))
}

// FoldAsOf folds the stream from a given state as of t.
func (s *Store) FoldAsOf(ctx context.Context, id uuid.UUID, from order.Order, t time.Time) (order.Order, error) {
	return s.foldStream(ctx, id, from, untilOccurred(t))
}
