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
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/shopspring/decimal"
)

// TestAnalyticsFailoverAcrossProcesses runs three server processes on one
// database, drives concurrent orders through all three, kills the one that
// runs the analytics consumer with SIGKILL in the middle, and keeps going
// on the other two: another process takes the consumer over, and once it
// has counted the last event, every figure equals a recomputation from the
// event store.
func TestAnalyticsFailoverAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	// Given three replicas of the real binary on one fresh database
	dbURL := pgtest.NewURL(t)
	start := time.Now()
	bin := buildBinary(t)
	t.Logf("built in %s", time.Since(start).Round(time.Millisecond))
	replicas := make([]*replica, 3)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { replicas[i] = startReplica(t, bin, dbURL) })
	}
	wg.Wait()
	c := &cluster{replicas: replicas, client: &http.Client{Timeout: 10 * time.Second}}

	// And exactly one of them runs the consumer
	holder := c.waitForHolder(t, ctx)

	// When concurrent orders go to all three, and the holder is killed
	// a third of the way through
	const orders = 40
	var (
		issued   atomic.Int64
		takeover = make(chan time.Duration, 1)
		atKill   atomic.Int64
	)
	work := make(chan int, orders)
	for i := range orders {
		work <- i
	}
	close(work)
	var load sync.WaitGroup
	for w := range 8 {
		load.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for range work {
				if err := c.orderLife(ctx, rng, &issued); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	load.Go(func() {
		for issued.Load() < 80 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		atKill.Store(issued.Load())
		holder.kill(t)
		killedAt := time.Now()
		for ctx.Err() == nil {
			if holders, err := c.holders(ctx); err == nil && len(holders) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		takeover <- time.Since(killedAt)
	})
	load.Wait()
	took := <-takeover
	t.Logf("%d commands over %d orders; replica %d (the consumer) killed with SIGKILL after %d of them",
		issued.Load(), orders, holder.index, atKill.Load())

	// Then another replica takes the consumer over within seconds
	next := c.waitForHolder(t, ctx)
	if took > 10*time.Second {
		t.Errorf("the consumer was taken over %s after the kill", took)
	}
	t.Logf("replica %d took the consumer over %s after the kill", next.index, took.Round(time.Millisecond))

	// And once it has counted the last event, the figures are exact
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var last int64
	if err := pool.QueryRow(ctx, `SELECT max(position) FROM events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	got := c.dailyFigures(t, ctx, last)
	want, err := analyticstest.Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := analyticstest.Diff(want, got); diff != "" {
		t.Errorf("the figures differ from a recomputation from the events:\n%s", diff)
	}
}

// buildBinary builds orderapi as `go build` does for production.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orderapi")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// replica is one server process.
type replica struct {
	index int
	base  string
	cmd   *exec.Cmd
	dead  atomic.Bool
}

var replicaCount atomic.Int32

func startReplica(t *testing.T, bin, dbURL string) *replica {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ORDERAPI_ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{index: int(replicaCount.Add(1)), cmd: cmd}
	t.Cleanup(func() {
		if r.dead.Load() {
			return
		}
		// A graceful stop, as a deploy would do; SIGKILL if it hangs.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("replica %d exited with %v after SIGTERM", r.index, err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("replica %d ignored SIGTERM", r.index)
		}
	})
	r.base = "http://" + waitForAddr(t, stdout)
	return r
}

func (r *replica) kill(t *testing.T) {
	r.dead.Store(true)
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill replica %d: %v", r.index, err)
	}
	_ = r.cmd.Wait()
}

// cluster sends each request to a random live replica.
type cluster struct {
	replicas []*replica
	client   *http.Client
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
// done already (409) counts as done.
func (c *cluster) send(ctx context.Context, rng *rand.Rand, method, path string, body any) (int, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	for attempt := 1; ; attempt++ {
		r := c.live(rng)
		req, err := http.NewRequestWithContext(ctx, method, r.base+path, bytes.NewReader(data))
		if err != nil {
			return 0, err
		}
		if data != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.client.Do(req)
		if err != nil {
			if ctx.Err() != nil || attempt == 5 {
				return 0, fmt.Errorf("%s %s: %w", method, path, err)
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
		return resp.StatusCode, fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
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
	cancel := map[string]any{"reason": "changed mind", "cancelled_by": "customer"}
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

// waitForHolder waits until exactly one live replica reports that it holds
// the analytics lock, and returns it.
func (c *cluster) waitForHolder(t *testing.T, ctx context.Context) *replica {
	t.Helper()
	for {
		holders, err := c.holders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(holders) > 1 {
			t.Fatalf("%d replicas hold the analytics lock", len(holders))
		}
		if len(holders) == 1 {
			return holders[0]
		}
		if ctx.Err() != nil {
			t.Fatal("no replica took the analytics lock")
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
