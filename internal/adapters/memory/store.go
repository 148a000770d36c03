// Package memory keeps orderapi's order streams in memory: an
// app.EventStore, and the part of app.ReadModel that the Service's
// commands read, so that the use cases can be tested without PostgreSQL.
// It holds to the contract internal/app/storetest pins, as the PostgreSQL
// store does; the reads it does not serve fail with errors.ErrUnsupported.
package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Store is an event store in memory, safe for concurrent use. Its zero
// value is not usable: call NewStore.
type Store struct {
	mu sync.Mutex
	// streams holds each order's events in version order.
	streams map[uuid.UUID][]stored
	// details is the order_details projection: each order's state after
	// its last commit, as the commit stated it.
	details map[uuid.UUID]order.Order
	claims  map[claimKey]claim
	// position is the global position of the last event stored.
	position int64
}

// stored is one event as the store keeps it.
type stored struct {
	app.NewEvent
	position int64
}

// The store serves the event store's contract and the reads of commands.
var (
	_ app.EventStore = (*Store)(nil)
	_ app.ReadModel  = (*Store)(nil)
)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		streams: make(map[uuid.UUID][]stored),
		details: make(map[uuid.UUID]order.Order),
		claims:  make(map[claimKey]claim),
	}
}

// Load folds the order's whole stream; order.ErrNotFound when it has no
// events.
func (s *Store) Load(ctx context.Context, id uuid.UUID) (order.Order, error) {
	if err := ctx.Err(); err != nil {
		return order.Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.fold(id, func(stored) bool { return true })
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	return o, nil
}

// fold applies the stream's first events while keep says so;
// order.ErrNotFound when it keeps none. The caller holds s.mu.
func (s *Store) fold(id uuid.UUID, keep func(stored) bool) (order.Order, error) {
	var o order.Order
	for _, e := range s.streams[id] {
		if !keep(e) {
			break
		}
		o.Apply(e.Event, e.OccurredAt)
	}
	if o.Version == 0 {
		return order.Order{}, order.ErrNotFound
	}
	return o, nil
}

// Append writes the commit's events at versions ExpectedVersion+1, +2, ...,
// claims its idempotency key and keeps its State as the order's details,
// all or nothing. A stream that is not at ExpectedVersion is
// app.ErrAppendConflict; a key that another commit holds, unexpired, is
// app.ErrKeyClaimed; an expired claim is replaced. The version is checked
// first, as in PostgreSQL. A ctx that has ended writes nothing.
func (s *Store) Append(ctx context.Context, c app.Commit) (app.Appended, error) {
	if err := check(c); err != nil {
		return app.Appended{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
	}
	if err := ctx.Err(); err != nil {
		return app.Appended{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stream := s.streams[c.OrderID]
	if len(stream) != c.ExpectedVersion {
		return app.Appended{}, fmt.Errorf("append to order %s at version %d: %w (the stream is at %d)",
			c.OrderID, c.ExpectedVersion, app.ErrAppendConflict, len(stream))
	}
	k := claimKey{c.Idempotency.Principal, c.Idempotency.Key}
	if c.Idempotency.Key != "" && s.held(k) {
		return app.Appended{}, fmt.Errorf("append to order %s at version %d: %w", c.OrderID, c.ExpectedVersion, app.ErrKeyClaimed)
	}
	for _, e := range c.Events {
		s.position++
		stream = append(stream, stored{NewEvent: e, position: s.position})
	}
	s.streams[c.OrderID] = stream
	s.details[c.OrderID] = c.State.Clone()
	if c.Idempotency.Key != "" {
		s.claims[k] = claim{
			rec: app.IdempotencyRecord{Fingerprint: c.Idempotency.Fingerprint, OrderID: c.OrderID,
				Version: c.State.Version, Position: s.position},
			expires: time.Now().Add(c.IdempotencyTTL),
		}
	}
	return app.Appended{LastPosition: s.position}, nil
}

// check refuses a commit that is not coherent, as the PostgreSQL store
// does: the details are written from State, so a State that is not the
// stream after the events would make them lie.
func check(c app.Commit) error {
	switch {
	case len(c.Events) == 0:
		return errors.New("commit has no events")
	case c.ExpectedVersion < 0:
		return fmt.Errorf("expected version %d is negative", c.ExpectedVersion)
	case c.State.ID != c.OrderID || c.State.Version != c.ExpectedVersion+len(c.Events):
		return fmt.Errorf("state is order %s at version %d, want order %s at version %d",
			c.State.ID, c.State.Version, c.OrderID, c.ExpectedVersion+len(c.Events))
	case c.Idempotency.Key != "" && c.IdempotencyTTL <= 0:
		return fmt.Errorf("idempotency key with a TTL of %s", c.IdempotencyTTL)
	}
	for i, e := range c.Events {
		if e.Event == nil {
			return fmt.Errorf("event %d is nil", i)
		}
	}
	return nil
}
