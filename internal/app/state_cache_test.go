package app_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// countingStore counts the loads that reach the event store.
type countingStore struct {
	*eventstore.Store
	loads atomic.Int64
}

func (c *countingStore) Load(ctx context.Context, id uuid.UUID) (order.Order, error) {
	c.loads.Add(1)
	return c.Store.Load(ctx, id)
}

func TestCachedStateSparesTheLoad(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	for _, tc := range []struct {
		name      string
		cacheSize int
		wantLoads int64
	}{
		{"cache on", 0, 1},
		{"cache off", -1, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Given a service over a store that counts loads
			store := &countingStore{Store: eventstore.New(pool, eventstore.Config{})}
			svc, err := app.NewService(store, store, app.Config{StateCacheSize: tc.cacheSize})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
			if err != nil {
				t.Fatal(err)
			}
			// When six items are added one after another
			for i := range 6 {
				if _, err := svc.AddItem(ctx, app.Target{OrderID: res.Order.ID, Metadata: apptest.AsStaff}, item(string(rune('a'+i)))); err != nil {
					t.Fatal(err)
				}
			}
			// Then with the cache only the first loads the order
			if got := store.loads.Load(); got != tc.wantLoads {
				t.Errorf("%d loads, want %d", got, tc.wantLoads)
			}
			got, err := svc.GetOrder(ctx, apptest.Staff, res.Order.ID)
			if err != nil || len(got.Items) != 6 || got.Version != 7 {
				t.Errorf("order has %d items at version %d (%v), want 6 at 7", len(got.Items), got.Version, err)
			}
		})
	}
}

// keptByA returns two replicas over one database and an order that
// replica a created and added mug to, so that a keeps its state at
// version 2.
func keptByA(t *testing.T, mug order.NewItem) (a, b *app.Service, id uuid.UUID) {
	t.Helper()
	a, replica := newService(t)
	b = replica()
	ctx := context.Background()
	res, err := a.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddItem(ctx, app.Target{OrderID: res.Order.ID, Metadata: apptest.AsStaff}, mug); err != nil {
		t.Fatal(err)
	}
	return a, b, res.Order.ID
}

func TestStaleCachedStateNeverDecidesAlone(t *testing.T) {
	t.Parallel()
	// Given two replicas, and an order with item Mug whose state replica a
	// keeps
	mug := item("Mug")
	a, b, id := keptByA(t, mug)
	ctx := context.Background()
	// and replica b removes Mug, which a does not see
	if _, err := b.RemoveItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, mug.ProductID); err != nil {
		t.Fatal(err)
	}

	// When replica a is asked to add Mug again, which its stale state
	// says the order already has
	res, err := a.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, mug)

	// Then it decides on the fresh state: Mug is added
	if err != nil {
		t.Fatalf("add item on a stale cached state: %v", err)
	}
	if res.Order.Version != 4 || len(res.Order.Items) != 1 || res.Order.Items[0].ProductID != mug.ProductID {
		t.Errorf("order at version %d with %v, want version 4 with Mug only", res.Order.Version, res.Order.Items)
	}
}

func TestStaleCachedStateAndPreconditions(t *testing.T) {
	t.Parallel()
	// Given two replicas and an order at version 2 whose state replica a
	// keeps, then moved to version 3 by replica b
	a, b, id := keptByA(t, item("Mug"))
	ctx := context.Background()
	if _, err := b.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Tea")); err != nil {
		t.Fatal(err)
	}

	// When a client that saw version 3 asks replica a, whose state says 2,
	// then the precondition holds: a checks the fresh state
	res, err := a.AddItem(ctx, app.Target{OrderID: id, ExpectedVersion: 3, Metadata: apptest.AsStaff}, item("Cup"))
	if err != nil || res.Order.Version != 4 {
		t.Fatalf("If-Match 3 on a stale cached state: version %d, %v; want 4", res.Order.Version, err)
	}

	// When replica b moves it to 5 and a client that saw 4 asks replica
	// a, whose state says 4, then the precondition fails, and nothing is
	// written
	if _, err := b.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Pot")); err != nil {
		t.Fatal(err)
	}
	_, err = a.AddItem(ctx, app.Target{OrderID: id, ExpectedVersion: 4, Metadata: apptest.AsStaff}, item("Jug"))
	if !errors.Is(err, app.ErrPreconditionFailed) {
		t.Fatalf("If-Match 4 on an order at 5: %v, want %v", err, app.ErrPreconditionFailed)
	}
	if got, _ := a.GetOrder(ctx, apptest.Staff, id); got.Version != 5 {
		t.Errorf("version %d after a failed precondition, want 5", got.Version)
	}
}

func TestObserverIsToldWhereStatesCameFrom(t *testing.T) {
	t.Parallel()
	// Given replica a, observed, and replica b over the same database
	pool := pgtest.New(t)
	rec := &recorder{}
	store := eventstore.New(pool, eventstore.Config{})
	a, err := app.NewService(store, store, app.Config{Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := a.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Order.ID
	rec.takeStates()

	// When a adds twice, b once, then a again
	for _, step := range []*app.Service{a, a, b, a} {
		if _, err := step.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("x")); err != nil {
			t.Fatal(err)
		}
	}

	// Then a loaded, then used its kept state, then found it behind and
	// loaded again
	want := []app.StateSource{app.StateLoaded, app.StateCached, app.StateCached, app.StateStale, app.StateLoaded}
	if got := rec.takeStates(); !reflect.DeepEqual(got, want) {
		t.Errorf("states came from %v, want %v", got, want)
	}
}
