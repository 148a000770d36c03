package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// t0 has microseconds, the precision PostgreSQL keeps, so every time in a
// test survives the store unchanged.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

var address = order.Address{Name: "Ada Lovelace", Line1: "1 Analytical Way", City: "London", PostalCode: "N1 9GU", Country: "GB"}

// newStore gives the test a store over a fresh, migrated database of its
// own, and the pool for raw SQL.
func newStore(t *testing.T) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	return postgres.NewStore(pool), pool
}

// commitOf builds the commit a command makes, the way app.Service does:
// the events, all at one time, applied to the loaded state.
func commitOf(t testing.TB, o order.Order, at time.Time, events ...order.Event) app.Commit {
	t.Helper()
	c := app.Commit{
		OrderID:         o.ID,
		ExpectedVersion: o.Version,
		Metadata:        app.Metadata{RequestID: "req-" + uuid.NewString(), Principal: apptest.Staff},
	}
	for _, e := range events {
		c.Events = append(c.Events, app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: at})
		o.Apply(e, at)
	}
	c.State = o
	return c
}

// create starts an order created at the given time.
func create(t testing.TB, s *postgres.Store, id, customerID uuid.UUID, at time.Time) order.Order {
	t.Helper()
	events, err := order.Create(id, customerID, "USD")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return mustAppend(t, s, commitOf(t, order.Order{ID: id}, at, events...))
}

// do runs a command on o at the given time and appends its events.
func do(t testing.TB, s *postgres.Store, o order.Order, at time.Time, command func(*order.Order) ([]order.Event, error)) order.Order {
	t.Helper()
	events, err := command(&o)
	if err != nil {
		t.Fatalf("command on order %s at version %d: %v", o.ID, o.Version, err)
	}
	return mustAppend(t, s, commitOf(t, o, at, events...))
}

func mustAppend(t testing.TB, s *postgres.Store, c app.Commit) order.Order {
	t.Helper()
	if _, err := s.Append(context.Background(), c); err != nil {
		t.Fatalf("append: %v", err)
	}
	return c.State
}

func addItem(name, price string, qty int64) func(*order.Order) ([]order.Event, error) {
	return func(o *order.Order) ([]order.Event, error) {
		return o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: name, Quantity: qty, UnitPrice: dec(price)})
	}
}

func place(o *order.Order) ([]order.Event, error) { return o.Place(address) }

// sameOrder compares two states field by field. A stream whose items were
// all removed replays to an empty, non-nil Items slice, while a projection
// has no way to tell that from never having had items; both mean "no
// items", so the comparison treats them alike.
func sameOrder(a, b order.Order) bool {
	if len(a.Items) == 0 {
		a.Items = nil
	}
	if len(b.Items) == 0 {
		b.Items = nil
	}
	return reflect.DeepEqual(a, b)
}
