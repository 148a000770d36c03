package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// The long-stream scenario: the latency of one command on orders whose
// streams are already long. Commands alternate between adding an item and
// removing it again, so the order stays within its item limit however long
// its stream grows.

// seedLongOrder appends an order of exactly events events straight to the
// event store, in commits of up to 1,000: an order's life of adds and
// removes, without the HTTP round trip per event.
func seedLongOrder(ctx context.Context, store app.EventStore, events int) (uuid.UUID, error) {
	id := uuid.New()
	at := time.Now().UTC().Truncate(time.Microsecond)
	price := decimal.RequireFromString(itemPrice)
	var (
		o       order.Order
		pending []app.NewEvent
		product uuid.UUID
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
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
		case v%2 == 0:
			product = uuid.New()
			e = order.ItemAdded{OrderID: id, ProductID: product, ProductName: itemName, Quantity: 2, UnitPrice: price}
		default:
			e = order.ItemRemoved{OrderID: id, ProductID: product}
		}
		pending = append(pending, app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: at})
		if len(pending) == 1000 {
			if err := flush(); err != nil {
				return uuid.Nil, fmt.Errorf("seed %d-event order: %w", events, err)
			}
		}
	}
	if err := flush(); err != nil {
		return uuid.Nil, fmt.Errorf("seed %d-event order: %w", events, err)
	}
	return id, nil
}

// longStreamResult is the latency of commands on orders of one length.
type longStreamResult struct {
	Events    int           `json:"events"`
	Snapshots bool          `json:"snapshots"`
	Commands  int           `json:"commands"`
	P50       time.Duration `json:"p50_ns"`
	Mean      time.Duration `json:"mean_ns"`
	P99       time.Duration `json:"p99_ns"`
	Errors    int           `json:"errors"`
}

// measureLongStream seeds orders of the given length and times commands
// on them one at a time, after a few unmeasured ones that let the server
// take its snapshot. Short orders are seeded many times over, one command
// each, so that the commands do not lengthen them much.
func measureLongStream(ctx context.Context, store app.EventStore, addr string, events, commands int, snapshots bool) (longStreamResult, error) {
	const warmup = 5
	n := max(1, min(commands, 1000/events))
	orders := make([]uuid.UUID, n)
	for i := range orders {
		id, err := seedLongOrder(ctx, store, events)
		if err != nil {
			return longStreamResult{}, err
		}
		orders[i] = id
	}
	c, err := dialHTTP(addr)
	if err != nil {
		return longStreamResult{}, err
	}
	defer c.Close()

	res := longStreamResult{Events: events, Snapshots: snapshots, Commands: commands}
	products := make(map[uuid.UUID]uuid.UUID) // order → product added and not yet removed
	var (
		buf []byte
		lat []time.Duration
	)
	for i := range warmup + commands {
		if err := ctx.Err(); err != nil {
			return longStreamResult{}, err
		}
		id := orders[i%len(orders)]
		t0 := time.Now()
		if p, ok := products[id]; ok {
			err = c.call("DELETE", "/v1/orders/"+id.String()+"/items/"+p.String(), nil, 200)
			delete(products, id)
		} else {
			p := uuid.New()
			buf = addItemBody(buf, p)
			err = c.call("POST", "/v1/orders/"+id.String()+"/items", buf, 200)
			products[id] = p
		}
		d := time.Since(t0)
		if err != nil {
			res.Errors++
			continue
		}
		if i >= warmup {
			lat = append(lat, d)
		}
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	if len(lat) > 0 {
		res.Mean = sum / time.Duration(len(lat))
	}
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return res, nil
}
