package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Load returns the order's state after its whole stream: folded from its
// newest snapshot and the events after it when snapshots are on and it
// has one, else from all its events. An order with no events is
// order.ErrNotFound.
func (s *Store) Load(ctx context.Context, id uuid.UUID) (_ order.Order, err error) {
	defer postgres.MarkUnavailable(&err)
	o, err := s.loadTo(ctx, id, streamEnd)
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	return o, nil
}

// LoadVersion returns the order's state after its version-th event, folded
// like Load's from the newest snapshot at or below version. A shorter
// stream is folded whole: the state's Version says how far it got. An
// order with no events is order.ErrNotFound.
func (s *Store) LoadVersion(ctx context.Context, id uuid.UUID, version int) (_ order.Order, err error) {
	defer postgres.MarkUnavailable(&err)
	if version < 1 {
		return order.Order{}, fmt.Errorf("load order %s at version %d: a version is 1 or more", id, version)
	}
	o, err := s.loadTo(ctx, id, untilVersion(version))
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s at version %d: %w", id, version, err)
	}
	return o, nil
}

// LoadAsOf returns the order's state after the longest run of its first
// events that all occurred at or before t (see untilOccurred), folded like
// Load's from the newest snapshot within that run. An order whose first
// event occurred after t is order.ErrNotFound.
func (s *Store) LoadAsOf(ctx context.Context, id uuid.UUID, t time.Time) (_ order.Order, err error) {
	defer postgres.MarkUnavailable(&err)
	o, err := s.loadTo(ctx, id, untilOccurred(t))
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s as of %s: %w", id, t.Format(time.RFC3339Nano), err)
	}
	return o, nil
}

// loadTo folds the stream up to the bound, from a snapshot when they are
// on; no event within the bound is order.ErrNotFound.
func (s *Store) loadTo(ctx context.Context, id uuid.UUID, b bound) (order.Order, error) {
	if s.snaps != nil {
		return s.loadFromSnapshot(ctx, id, b)
	}
	return s.replay(ctx, id, b)
}

// replay folds the stream from its start up to the bound; no event within
// it is order.ErrNotFound.
func (s *Store) replay(ctx context.Context, id uuid.UUID, b bound) (order.Order, error) {
	o, err := s.foldStream(ctx, id, order.Order{}, b)
	if err != nil {
		return order.Order{}, err
	}
	if o.Version == 0 {
		return order.Order{}, order.ErrNotFound
	}
	return o, nil
}
