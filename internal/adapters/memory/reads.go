package memory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// GetOrder returns the order as its last commit left it;
// order.ErrNotFound when it has none.
func (s *Store) GetOrder(ctx context.Context, id uuid.UUID) (order.Order, error) {
	if err := ctx.Err(); err != nil {
		return order.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.details[id]
	if !ok {
		return order.Order{}, fmt.Errorf("get order %s: %w", id, order.ErrNotFound)
	}
	return o.Clone(), nil
}

// LoadVersion folds the order's events up to and including version; a
// shorter stream is folded whole. order.ErrNotFound when it has none.
func (s *Store) LoadVersion(ctx context.Context, id uuid.UUID, version int) (order.Order, error) {
	if version < 1 {
		return order.Order{}, fmt.Errorf("load order %s at version %d: a version is 1 or more", id, version)
	}
	if err := ctx.Err(); err != nil {
		return order.Order{}, fmt.Errorf("load order %s at version %d: %w", id, version, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	o, err := s.fold(id, func(stored) bool { n++; return n <= version })
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s at version %d: %w", id, version, err)
	}
	return o, nil
}

// LoadAsOf folds the longest run of the order's first events that all
// occurred at or before t; order.ErrNotFound when the first occurred
// after t.
func (s *Store) LoadAsOf(ctx context.Context, id uuid.UUID, t time.Time) (order.Order, error) {
	if err := ctx.Err(); err != nil {
		return order.Order{}, fmt.Errorf("load order %s as of %s: %w", id, t.Format(time.RFC3339Nano), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.fold(id, func(e stored) bool { return !e.OccurredAt.After(t) })
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s as of %s: %w", id, t.Format(time.RFC3339Nano), err)
	}
	return o, nil
}

// unsupported is the answer of the reads this store does not serve: they
// need what only the PostgreSQL store has (the event codec's JSON, the
// transaction ids of the feed, the customer_orders keyset).
func unsupported(read string) error {
	return fmt.Errorf("memory store: %s: %w", read, errors.ErrUnsupported)
}

// ListCustomerOrders is not served: errors.ErrUnsupported.
func (s *Store) ListCustomerOrders(context.Context, app.ListQuery) (app.OrderPage, error) {
	return app.OrderPage{}, unsupported("list customer orders")
}

// OrderEvents is not served: errors.ErrUnsupported.
func (s *Store) OrderEvents(context.Context, app.EventQuery) ([]app.RecordedEvent, error) {
	return nil, unsupported("order events")
}

// EventAt is not served: errors.ErrUnsupported.
func (s *Store) EventAt(context.Context, app.FeedCursor) (bool, error) {
	return false, unsupported("event at a feed cursor")
}

// CustomerOrderAt is not served: errors.ErrUnsupported.
func (s *Store) CustomerOrderAt(context.Context, uuid.UUID, app.Cursor) (bool, error) {
	return false, unsupported("customer order at a cursor")
}

// ReadFeed is not served: errors.ErrUnsupported.
func (s *Store) ReadFeed(context.Context, app.FeedQuery) ([]app.RecordedEvent, error) {
	return nil, unsupported("read feed")
}
