//go:build faults

package faults

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/google/uuid"
)

// load runs workers that each drive order after order through a random
// life until stop closes; each then finishes the command it is sending,
// so that no command is left without an acknowledgement.
func load(ctx context.Context, c *client, workers int, stop <-chan struct{}, errs chan<- error) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := orderLife(ctx, c, rng, stop); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	return &wg
}

// orderLife drives one order: created, given items (one maybe removed),
// then cancelled as a draft, or placed and left so, cancelled, shipped or
// delivered. It returns early, between commands, once stop closes.
func orderLife(ctx context.Context, c *client, rng *rand.Rand, stop <-chan struct{}) error {
	id := uuid.NewString()
	path := "/v1/orders/" + id
	var steps []func() error
	do := func(method, p string, body any) {
		steps = append(steps, func() error { return c.command(ctx, method, p, body) })
	}
	do("POST", "/v1/orders", map[string]any{"id": id, "customer_id": customers[rng.IntN(len(customers))],
		"currency": []string{"USD", "EUR", "JPY"}[rng.IntN(3)]})
	var products []string
	for range 1 + rng.IntN(3) {
		p := uuid.NewString()
		products = append(products, p)
		do("POST", path+"/items", map[string]any{"product_id": p, "product_name": "Cup", "quantity": 1 + rng.IntN(4),
			"unit_price": []string{"19.99", "4.50", "1200", "0.0001"}[rng.IntN(4)]})
	}
	if len(products) > 1 && rng.IntN(3) == 0 {
		do("DELETE", path+"/items/"+products[0], nil)
	}
	cancel := map[string]any{"reason": "changed mind"}
	switch n := rng.IntN(10); {
	case n == 0:
		do("POST", path+"/cancel", cancel)
	default:
		do("POST", path+"/place", map[string]any{"shipping_address": map[string]any{
			"name": "Ada Lovelace", "line1": "12 St James Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}})
		switch {
		case n < 3:
		case n < 5:
			do("POST", path+"/cancel", cancel)
		default:
			do("POST", path+"/ship", map[string]any{"tracking_number": "1Z999", "carrier": "UPS"})
			if n >= 7 {
				do("POST", path+"/deliver", map[string]any{})
			}
		}
	}
	for _, step := range steps {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// customers are few, so that each has many orders in customer_orders.
var customers = func() []string {
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	return ids
}()
