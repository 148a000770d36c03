package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
)

// TestEventTimesNeverGoBackWithinAnOrder: a replica whose clock is behind
// the one that wrote an order's last event still dates its events no
// earlier, so updated_at never precedes created_at.
func TestEventTimesNeverGoBackWithinAnOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{})
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	replica := func(now time.Time) *app.Service {
		svc, err := app.NewService(store, store, app.Config{Now: func() time.Time { return now }, StateCacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}

	// Given an order created by a replica
	res, err := replica(created).CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}

	// When a replica whose clock is a minute behind changes it
	res, err = replica(created.Add(-time.Minute)).AddItem(ctx, app.Target{OrderID: res.Order.ID, Metadata: apptest.AsStaff}, item("Mug"))
	if err != nil {
		t.Fatal(err)
	}

	// Then its event is dated no earlier than the creation
	if o := res.Order; o.UpdatedAt.Before(o.CreatedAt) {
		t.Errorf("updated_at %s precedes created_at %s", o.UpdatedAt, o.CreatedAt)
	}
	events, err := store.OrderEvents(ctx, app.EventQuery{OrderID: res.Order.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	if got := events[1].OccurredAt; !got.Equal(created) {
		t.Errorf("the item was added at %s, want %s (the creation's time)", got, created)
	}
}
