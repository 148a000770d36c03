package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// History rebuilds an order's past states from its events (or a cache of
// states they gave), never from the projections, which hold only the
// latest.
type History interface {
	// LoadVersion folds the order's events up to and including version.
	// A stream with fewer events is folded whole: the state's Version
	// says how far it got. order.ErrNotFound when the order has no events.
	LoadVersion(ctx context.Context, id uuid.UUID, version int) (order.Order, error)
	// LoadAsOf folds the longest run of the order's first events that all
	// occurred at or before t (see AsOf); order.ErrNotFound when the first
	// occurred after t.
	LoadAsOf(ctx context.Context, id uuid.UUID, t time.Time) (order.Order, error)
}

// PointInTime names a past state of an order: after one of its versions,
// or as of a time. Make one with AtVersion or AsOf.
type PointInTime struct {
	version int
	asOf    time.Time
	byTime  bool
}

// AtVersion is the state right after the order's version-th event.
func AtVersion(version int) PointInTime { return PointInTime{version: version} }

// AsOf is the state the order showed at t, by the times it shows: after
// its events that occurred at or before t. An event occurs at the time its
// order shows for it (created_at, updated_at, placed_at...), before it is
// committed: the answer for a time close to now can still change. Should
// an order's events not have occurred in the order of their versions
// (replicas whose clocks disagreed), it is the state after the longest
// run of first events that all occurred at or before t, so always one
// that followed an event. A t outside order's time bounds asks the same
// as the nearest bound, since every event occurs within them: the store
// is never asked about a time it cannot hold.
func AsOf(t time.Time) PointInTime {
	return PointInTime{asOf: order.ClampTime(t), byTime: true}
}

func (p PointInTime) String() string {
	if p.byTime {
		return "as of " + p.asOf.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("at version %d", p.version)
}

// VersionOutOfRangeError: the order has not reached the version asked for.
type VersionOutOfRangeError struct {
	OrderID uuid.UUID
	// Version is the one asked for; Latest the order's last.
	Version, Latest int
}

func (e *VersionOutOfRangeError) Error() string {
	return fmt.Sprintf("order %s has %d versions, not %d", e.OrderID, e.Latest, e.Version)
}

// OrderAt rebuilds the order as it was at a point in its past, from its
// events. An order that did not exist yet is order.ErrNotFound; a version
// it has not reached is a *VersionOutOfRangeError. An order p may not see
// answers exactly as one that never existed, before anything about its
// versions is told.
func (s *Service) OrderAt(ctx context.Context, p Principal, id uuid.UUID, at PointInTime) (order.Order, error) {
	o, _, err := s.ReadOrder(ctx, p, OrderQuery{ID: id, At: &at})
	return o, err
}

// orderAt is OrderAt on rm.
func (s *Service) orderAt(ctx context.Context, rm ReadModel, p Principal, id uuid.UUID, at PointInTime) (order.Order, error) {
	if err := s.mustSee(ctx, rm, p, id); err != nil {
		if errors.Is(err, order.ErrNotFound) {
			return order.Order{}, notFoundAt(id, at)
		}
		return order.Order{}, err
	}
	return loadAt(ctx, rm, id, at)
}

// loadAt is OrderAt for any principal: idempotent replays rebuild their
// answers with it, from the primary.
func loadAt(ctx context.Context, rm ReadModel, id uuid.UUID, at PointInTime) (order.Order, error) {
	if at.byTime {
		o, err := rm.LoadAsOf(ctx, id, at.asOf)
		if errors.Is(err, order.ErrNotFound) {
			// Also true of an order that never existed; one query cannot
			// tell the two apart, and neither answer would differ.
			err = notFoundAt(id, at)
		}
		if err != nil {
			return order.Order{}, fmt.Errorf("order %s %s: %w", id, at, err)
		}
		return o, nil
	}
	if at.version < 1 {
		return order.Order{}, order.Invalid("version", order.FieldOutOfRange, "must be 1 or more")
	}
	o, err := rm.LoadVersion(ctx, id, at.version)
	if err != nil {
		return order.Order{}, fmt.Errorf("order %s %s: %w", id, at, err)
	}
	if o.Version < at.version {
		return order.Order{}, &VersionOutOfRangeError{OrderID: id, Version: at.version, Latest: o.Version}
	}
	return o, nil
}

// notFoundAt is the answer for an order that shows nothing at the point:
// as of a time, it says which time.
func notFoundAt(id uuid.UUID, at PointInTime) error {
	if !at.byTime {
		return fmt.Errorf("order %s %s: %w", id, at, order.ErrNotFound)
	}
	return &order.Error{Kind: order.KindNotFound, Code: order.CodeNotFound,
		Message: fmt.Sprintf("order %s has no event that occurred at or before %s", id, at.asOf.UTC().Format(time.RFC3339Nano))}
}
