// Package storetest is the contract of app.EventStore as one suite of
// tests, which every implementation runs from its own tests: what
// internal/app/store.go documents, pinned so that a store in memory and
// the PostgreSQL store cannot drift apart.
package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// Run runs the contract, each case as a parallel subtest of t over a
// fresh, empty store from newStore, whose cleanup is the subtest's.
func Run(t *testing.T, newStore func(t *testing.T) app.EventStore) {
	t.Helper()
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, newStore(t))
		})
	}
}

var contract = []struct {
	name string
	test func(t *testing.T, s app.EventStore)
}{
	{"loading a stream without events is order.ErrNotFound", loadMissing},
	{"an append at version 0 creates the stream", appendCreates},
	{"events come back in order and fold to the commits' state", eventsInOrder},
	{"an append at a version the stream is not at is ErrAppendConflict and writes nothing", appendConflict},
	{"of writers racing for one version exactly one wins", racingWriters},
	{"positions increase with every event", positionsIncrease},
	{"an incoherent commit is refused and writes nothing", incoherentCommit},
	{"what Load returns is the caller's own", loadReturnsACopy},
	{"an append with an ended context writes nothing", endedContext},
	{"a claimed key is found with its commit's record", claimFound},
	{"a key nobody claimed is not found", claimMissing},
	{"keys are scoped by principal", claimScoped},
	{"a key claimed again is ErrKeyClaimed and writes nothing", claimTaken},
	{"an expired claim is not found and is replaced", claimExpired},
}

// t0 has microseconds, the precision PostgreSQL keeps, so that every time
// survives any store unchanged.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

var address = order.Address{Name: "Ada Lovelace", Line1: "1 Analytical Way", City: "London", PostalCode: "N1 9GU", Country: "GB"}

// command is one of the order's commands, as app.Service decides them.
type command func(o *order.Order) ([]order.Event, error)

func addItem(name string) command {
	return func(o *order.Order) ([]order.Event, error) {
		return o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: name, Quantity: 2, UnitPrice: price("19.99")})
	}
}

// price is the amount of s, which must be one.
func price(s string) order.Amount {
	a, ok := order.AmountFromDecimal(decimal.RequireFromString(s))
	if !ok {
		panic("amount does not fit: " + s)
	}
	return a
}

func place(o *order.Order) ([]order.Event, error) { return o.Place(address) }

// commitOf decides the commands one after another on o and builds the one
// commit of all their events, occurring at at, the way app.Service does.
func commitOf(t *testing.T, o order.Order, at time.Time, cmds ...command) app.Commit {
	t.Helper()
	c := app.Commit{OrderID: o.ID, ExpectedVersion: o.Version,
		Metadata: app.Metadata{RequestID: "req-" + uuid.NewString(), Principal: app.Principal{Subject: "storetest"}}}
	o = o.Clone()
	for _, cmd := range cmds {
		events, err := cmd(&o)
		if err != nil {
			t.Fatalf("command on order %s at version %d: %v", o.ID, o.Version, err)
		}
		for _, e := range events {
			c.Events = append(c.Events, app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: at})
			o.Apply(e, at)
		}
	}
	c.State = o
	return c
}

// creation is the commit that creates a new order.
func creation(t *testing.T) app.Commit {
	t.Helper()
	id := uuid.New()
	return commitOf(t, order.Order{ID: id}, t0, func(*order.Order) ([]order.Event, error) {
		return order.Create(id, uuid.New(), "EUR")
	})
}

// mustAppend appends c and returns the state after it and where it landed.
func mustAppend(t *testing.T, s app.EventStore, c app.Commit) (order.Order, app.Appended) {
	t.Helper()
	appended, err := s.Append(context.Background(), c)
	if err != nil {
		t.Fatalf("append to order %s at version %d: %v", c.OrderID, c.ExpectedVersion, err)
	}
	return c.State, appended
}

// create appends a new order and returns its state.
func create(t *testing.T, s app.EventStore) order.Order {
	t.Helper()
	o, _ := mustAppend(t, s, creation(t))
	return o
}

func mustLoad(t *testing.T, s app.EventStore, id uuid.UUID) order.Order {
	t.Helper()
	o, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("load order %s: %v", id, err)
	}
	return o
}

// sameState fails t unless the store gives back want.
func sameState(t *testing.T, got, want order.Order) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state\n got %+v\nwant %+v", got, want)
	}
}
