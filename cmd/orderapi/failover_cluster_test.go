package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/shopspring/decimal"
)

// cluster sends each request to a random live replica.
type cluster struct {
	replicas []*replica
	client   *http.Client
	diag     *diagnostics
	sent     atomic.Int64 // numbers the commands, for their request ids
}

func (c *cluster) live(rng *rand.Rand) *replica {
	for {
		r := c.replicas[rng.IntN(len(c.replicas))]
		if !r.dead.Load() {
			return r
		}
	}
}

// send sends a command to a live replica. A replica may die under it: the
// command is then sent again, to another one, and an answer that it was
// done already (409) counts as done. The whole command, retries included,
// gets commandBudget.
//
// Each attempt carries a request id, "cmd<n>-<attempt>", which the
// replicas' logs repeat, and the command's latency is kept for a failure's
// report.
func (c *cluster) send(ctx context.Context, rng *rand.Rand, method, path string, body any) (status int, err error) {
	tm := timing{id: fmt.Sprintf("cmd%d", c.sent.Add(1)), what: method + " " + path}
	start := time.Now()
	stopWatch := c.diag.watch(tm.id + " " + tm.what)
	defer func() {
		stopWatch()
		tm.took, tm.status, tm.err = time.Since(start), status, err
		c.diag.record(tm)
	}()
	ctx, cancel := context.WithTimeout(ctx, commandBudget)
	defer cancel()
	var data []byte
	if body != nil {
		if data, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	for attempt := 1; ; attempt++ {
		r := c.live(rng)
		tm.replicas = append(tm.replicas, r.index)
		req, err := http.NewRequestWithContext(ctx, method, r.base+path, bytes.NewReader(data))
		if err != nil {
			return 0, err
		}
		req.Header.Set("X-Request-Id", fmt.Sprintf("%s-%d", tm.id, attempt))
		if data != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.client.Do(req)
		if err != nil {
			if ctx.Err() != nil || attempt == 5 {
				return 0, fmt.Errorf("%s %s %s, attempt %d (replicas %v) after %s: %w",
					tm.id, method, path, attempt, tm.replicas, time.Since(start).Round(time.Millisecond), err)
			}
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return resp.StatusCode, nil
		case resp.StatusCode == http.StatusConflict && attempt > 1:
			return resp.StatusCode, nil
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 5:
			continue
		}
		return resp.StatusCode, fmt.Errorf("%s %s %s, attempt %d (replicas %v): status %d",
			tm.id, method, path, attempt, tm.replicas, resp.StatusCode)
	}
}

// orderLife drives one order through a random life: items, then a
// cancelled draft, a placed order left so or cancelled, or one shipped and
// maybe delivered.
func (c *cluster) orderLife(ctx context.Context, rng *rand.Rand, issued *atomic.Int64) error {
	id := uuid.NewString()
	orderPath := "/v1/orders/" + id
	do := func(method, path string, body any) error {
		issued.Add(1)
		_, err := c.send(ctx, rng, method, path, body)
		return err
	}
	currency := []string{"USD", "EUR", "JPY"}[rng.IntN(3)]
	if err := do("POST", "/v1/orders", map[string]any{"id": id, "customer_id": uuid.NewString(), "currency": currency}); err != nil {
		return err
	}
	var products []string
	for range 1 + rng.IntN(3) {
		p := uuid.NewString()
		products = append(products, p)
		err := do("POST", orderPath+"/items", map[string]any{
			"product_id": p, "product_name": "Cup", "quantity": 1 + rng.IntN(4),
			"unit_price": []string{"19.99", "4.50", "1200", "0.0001"}[rng.IntN(4)],
		})
		if err != nil {
			return err
		}
	}
	if len(products) > 1 && rng.IntN(3) == 0 {
		if err := do("DELETE", orderPath+"/items/"+products[0], nil); err != nil {
			return err
		}
	}
	cancel := map[string]any{"reason": "changed mind"}
	if rng.IntN(8) == 0 {
		return do("POST", orderPath+"/cancel", cancel)
	}
	if err := do("POST", orderPath+"/place", map[string]any{"shipping_address": map[string]any{
		"name": "Ada Lovelace", "line1": "12 St James Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB",
	}}); err != nil {
		return err
	}
	switch rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return do("POST", orderPath+"/cancel", cancel)
	}
	if err := do("POST", orderPath+"/ship", map[string]any{"tracking_number": "1Z999", "carrier": "UPS"}); err != nil {
		return err
	}
	if rng.IntN(3) == 0 {
		return nil
	}
	return do("POST", orderPath+"/deliver", map[string]any{})
}

// waitForHolder waits, at most holderWait, until exactly one live replica
// reports that it holds the analytics lock, and returns it.
func (c *cluster) waitForHolder(t *testing.T, ctx context.Context) *replica {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, holderWait)
	defer cancel()
	start := time.Now()
	for {
		holders, err := c.holders(ctx)
		switch {
		case ctx.Err() != nil:
			t.Fatalf("no replica reported holding the analytics lock in %s (the last poll: %d holders, error %v)",
				time.Since(start).Round(time.Millisecond), len(holders), err)
		case err != nil:
			t.Fatal(err)
		case len(holders) > 1:
			t.Fatalf("%d replicas hold the analytics lock", len(holders))
		case len(holders) == 1:
			return holders[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holders asks every live replica whether it holds the analytics lock.
func (c *cluster) holders(ctx context.Context) ([]*replica, error) {
	var holders []*replica
	for _, r := range c.replicas {
		if r.dead.Load() {
			continue
		}
		var status struct {
			AnalyticsLockHeld bool `json:"analytics_lock_held"`
		}
		if err := c.getJSON(ctx, r.base+"/v1/projections", &status); err != nil {
			return nil, fmt.Errorf("replica %d: %w", r.index, err)
		}
		if status.AnalyticsLockHeld {
			holders = append(holders, r)
		}
	}
	return holders, nil
}

func (c *cluster) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %w", url, errStatus(resp.StatusCode))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

type errStatus int

func (e errStatus) Error() string { return "status " + strconv.Itoa(int(e)) }

// dailyFigures reads today's figures (and the days either side) from a
// live replica once the projection has counted the event at position
// last, retrying while it answers 503.
func (c *cluster) dailyFigures(t *testing.T, ctx context.Context, last int64) map[analyticstest.Key]analyticstest.Figures {
	t.Helper()
	today := time.Now().UTC()
	url := fmt.Sprintf("/v1/analytics/daily?from=%s&to=%s&min_position=%d",
		today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly), last)
	rng := rand.New(rand.NewPCG(1, 2))
	var doc struct {
		Days []struct {
			Date             string `json:"date"`
			Currency         string `json:"currency"`
			OrdersCreated    int64  `json:"orders_created"`
			OrdersPlaced     int64  `json:"orders_placed"`
			OrdersShipped    int64  `json:"orders_shipped"`
			OrdersDelivered  int64  `json:"orders_delivered"`
			OrdersCancelled  int64  `json:"orders_cancelled"`
			RevenuePlaced    string `json:"revenue_placed"`
			RevenueCancelled string `json:"revenue_cancelled"`
			ItemsSold        int64  `json:"items_sold"`
		} `json:"days"`
	}
	for {
		err := c.getJSON(ctx, c.live(rng).base+url, &doc)
		if err == nil {
			break
		}
		var status errStatus
		if !errors.As(err, &status) || status != http.StatusServiceUnavailable || ctx.Err() != nil {
			t.Fatalf("analytics at position %d: %v", last, err)
		}
	}
	got := map[analyticstest.Key]analyticstest.Figures{}
	for _, d := range doc.Days {
		got[analyticstest.Key{Date: d.Date, Currency: d.Currency}] = analyticstest.Figures{
			Created: d.OrdersCreated, Placed: d.OrdersPlaced, Shipped: d.OrdersShipped, Delivered: d.OrdersDelivered,
			Cancelled: d.OrdersCancelled, ItemsSold: d.ItemsSold,
			RevenuePlaced: decimal.RequireFromString(d.RevenuePlaced), RevenueCancelled: decimal.RequireFromString(d.RevenueCancelled),
		}
	}
	return got
}
