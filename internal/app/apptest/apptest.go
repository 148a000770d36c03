// Package apptest writes long order streams straight to an app.EventStore,
// for tests and benchmarks that need an order with thousands of events
// without a command, and a round trip, per event.
package apptest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// commitSize is how many events one append of LongOrder carries.
const commitSize = 1000

// LongOrder appends a draft order of exactly events events (2 or more):
// created, a line that stays, then a second line added and removed in
// turn, so that it always has one or two lines. Event v occurs v
// microseconds after start (truncated to microseconds, as stored), so that
// every event has its own time. It returns the order's state.
func LongOrder(ctx context.Context, store app.EventStore, events int, start time.Time) (order.Order, error) {
	if events < 2 {
		return order.Order{}, fmt.Errorf("a long order has 2 events or more, not %d", events)
	}
	id, stays, turns := uuid.New(), uuid.New(), uuid.New()
	start = start.UTC().Truncate(time.Microsecond)
	price, _ := order.ParseAmount("unit_price", "19.99")
	var (
		o       order.Order
		pending []app.NewEvent
	)
	flush := func() error {
		expected := o.Version
		for _, e := range pending {
			o.Apply(e.Event, e.OccurredAt)
		}
		_, err := store.Append(ctx, app.Commit{OrderID: id, ExpectedVersion: expected, Events: pending, State: o})
		pending = nil
		return err
	}
	for v := 1; v <= events; v++ {
		var e order.Event
		switch {
		case v == 1:
			e = order.Created{OrderID: id, CustomerID: uuid.New(), Currency: "USD"}
		case v == 2:
			e = order.ItemAdded{OrderID: id, ProductID: stays, ProductName: "Espresso beans", Quantity: 1, UnitPrice: price}
		case v%2 == 1:
			e = order.ItemAdded{OrderID: id, ProductID: turns, ProductName: "Mug", Quantity: 2, UnitPrice: price}
		default:
			e = order.ItemRemoved{OrderID: id, ProductID: turns}
		}
		pending = append(pending, app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: start.Add(time.Duration(v) * time.Microsecond)})
		if len(pending) == commitSize || v == events {
			if err := flush(); err != nil {
				return order.Order{}, fmt.Errorf("append a %d-event order: %w", events, err)
			}
		}
	}
	return o, nil
}

// Staff is a principal that may read and change every order: what tests
// of the use cases act as, unless they test who may do what.
var Staff = app.Principal{Subject: "staff:apptest", Roles: app.RolesOf(app.RoleStaff)}

// AsStaff is a command's metadata acting as Staff.
var AsStaff = app.Metadata{Principal: Staff}

// WideOrder is the state of a draft order of n lines (prices 10.90,
// 11.90, …, two of each), as orderbench's orders grow to, for benchmarks
// of what a command on it writes.
func WideOrder(n int) order.Order {
	at := time.Date(2026, 11, 26, 3, 0, 0, 123456000, time.UTC)
	o := order.Order{ID: uuid.New(), CustomerID: uuid.New(), Currency: "EUR", Status: order.StatusDraft, Version: n + 1, CreatedAt: at, UpdatedAt: at}
	for i := range n {
		price := order.MustParseAmount(strconv.Itoa(10+i) + ".90")
		o.Items = append(o.Items, order.Item{ProductID: uuid.New(), ProductName: "Merino crew-neck sweater, blue, size L", Quantity: 2, UnitPrice: price})
	}
	return o
}
