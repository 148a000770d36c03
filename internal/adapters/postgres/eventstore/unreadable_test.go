package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// An event that cannot be read is named with its order even when it is
// the first, from which a fold would learn the order's id.
func TestAnUnreadableFirstEventIsNamedWithItsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a stream whose OrderCreated holds no customer id
	s, pool := newStore(t)
	id := uuid.New()
	if _, err := pool.Exec(ctx, `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at)
VALUES (gen_random_uuid(), $1::uuid, 1, 'OrderCreated', 2, jsonb_build_object('order_id', $1::uuid::text, 'customer_id', 'nobody', 'currency', 'USD'), $2)`,
		id, t0); err != nil {
		t.Fatal(err)
	}
	// When it is loaded, at its version or whole
	for _, load := range []func() error{
		func() error { _, err := s.LoadVersion(ctx, id, 1); return err },
		func() error { _, err := s.Load(ctx, id); return err },
	} {
		// Then the error names the event by its order and version
		u, ok := errors.AsType[*app.UnreadableEventError](load())
		if !ok || u.OrderID != id || u.Version != 1 {
			t.Errorf("load = %v, want event 1 of order %s unreadable", u, id)
		}
	}
}
