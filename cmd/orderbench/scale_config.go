package main

import (
	"fmt"
	"time"
)

// scaleConfig is what `orderbench scale` (make bench-scale) measures.
type scaleConfig struct {
	AdminURL string `json:"-"`
	Server   string `json:"-"`
	Out      string `json:"-"`
	// Events and Orders are the large store's size; SmallOrders the
	// small one's orders, with as many events per order.
	Events      int `json:"events"`
	Orders      int `json:"orders"`
	SmallOrders int `json:"small_orders"`
	// Seed makes both stores' orders.
	Seed    uint64        `json:"seed"`
	Clients []int         `json:"clients"`
	Rounds  int           `json:"rounds"`
	Warmup  time.Duration `json:"warmup_ns"`
	Window  time.Duration `json:"window_ns"`
	// Starts is how many times each server's start-up is timed.
	Starts int `json:"starts"`
	// Passes: go through the large store whole (COPY floor, feed,
	// rebuild, verify) after the requests.
	Passes bool `json:"passes"`
}

func loadScaleConfig(getenv func(string) string) (scaleConfig, error) {
	cfg := scaleConfig{
		AdminURL: or(getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		Server:   getenv("BENCH_SERVER"),
		Out:      or(getenv("BENCH_OUT"), "bench-scale-results.json"),
	}
	env := envFields{getenv: getenv}
	field := env.field
	field("BENCH_SCALE_EVENTS", "10000000", func(s string) (e error) { cfg.Events, e = positiveInt(s); return })
	field("BENCH_SCALE_ORDERS", "1000000", func(s string) (e error) { cfg.Orders, e = positiveInt(s); return })
	field("BENCH_SEED_ORDERS", "10000", func(s string) (e error) { cfg.SmallOrders, e = positiveInt(s); return })
	field("BENCH_SCALE_SEED", "1", func(s string) (e error) { n, e := positiveInt(s); cfg.Seed = uint64(n); return e })
	field("BENCH_CLIENTS", "32", func(s string) (e error) { cfg.Clients, e = positiveInts(s); return })
	field("BENCH_ROUNDS", "5", func(s string) (e error) { cfg.Rounds, e = positiveInt(s); return })
	field("BENCH_WARMUP", "500ms", func(s string) (e error) { cfg.Warmup, e = duration(s, 0); return })
	field("BENCH_WINDOW", "2s", func(s string) (e error) { cfg.Window, e = duration(s, 1); return })
	field("BENCH_SCALE_STARTS", "3", func(s string) (e error) { cfg.Starts, e = positiveInt(s); return })
	field("BENCH_SCALE_PASSES", "1", func(s string) error {
		switch s {
		case "0", "1":
			cfg.Passes = s == "1"
			return nil
		}
		return fmt.Errorf("%q: want 1 (go through the large store whole) or 0 (requests only)", s)
	})
	if env.err != nil {
		return scaleConfig{}, env.err
	}
	switch {
	case cfg.Events < cfg.Orders:
		return scaleConfig{}, fmt.Errorf("BENCH_SCALE_EVENTS: %d events for %d orders: want at least one per order", cfg.Events, cfg.Orders)
	case cfg.SmallOrders >= cfg.Orders:
		return scaleConfig{}, fmt.Errorf("BENCH_SEED_ORDERS: the small store's %d orders must be fewer than the large one's %d", cfg.SmallOrders, cfg.Orders)
	}
	return cfg, nil
}

// smallEvents is the small store's events: as many per order as the
// large one's.
func (c scaleConfig) smallEvents() int {
	return int(int64(c.Events) * int64(c.SmallOrders) / int64(c.Orders))
}
