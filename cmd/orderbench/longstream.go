package main

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
)

// The long-stream scenario: the latency of one command on orders whose
// streams are already long. Commands alternate between adding an item and
// removing it again, so the order stays within its item limit however long
// its stream grows.

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

// longWarmup is how many commands on long orders go unmeasured first.
const longWarmup = 5

// measureLongStream seeds orders of the given length and times commands
// on them one at a time, after a few unmeasured ones that let the server
// take its snapshot, with a staff token (the orders are seeded straight
// into the store, for customers the benchmark has no tokens of). Short
// orders are seeded many times over, one command
// each, so that the commands do not lengthen them much.
func measureLongStream(ctx context.Context, store app.EventStore, addr, token string, events, commands int, snapshots bool) (longStreamResult, error) {
	n := max(1, min(commands, 1000/events))
	orders := make([]uuid.UUID, n)
	for i := range orders {
		o, err := apptest.LongOrder(ctx, store, events, time.Now())
		if err != nil {
			return longStreamResult{}, err
		}
		orders[i] = o.ID
	}
	c, err := dialHTTP(addr)
	if err != nil {
		return longStreamResult{}, err
	}
	defer c.Close()
	c.token = token

	res := longStreamResult{Events: events, Snapshots: snapshots, Commands: commands}
	products := make(map[uuid.UUID]uuid.UUID) // order → product added and not yet removed
	var (
		buf []byte
		lat []time.Duration
	)
	for i := range longWarmup + commands {
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
		if i >= longWarmup {
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
