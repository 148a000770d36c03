package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

type config struct {
	AdminURL     string        `json:"-"`
	Server       string        `json:"-"`
	Out          string        `json:"-"`
	Clients      []int         `json:"clients"`
	Rounds       int           `json:"rounds"`
	Warmup       time.Duration `json:"warmup_ns"`
	Window       time.Duration `json:"window_ns"`
	SeedOrders   int           `json:"seed_orders"`
	LongLengths  []int         `json:"long_stream_lengths"`
	LongCommands int           `json:"long_stream_commands"`
	// Only, when set, limits the run to these scenarios (by name), for
	// profiling one of them; the long-stream scenario runs when it names
	// "long stream".
	Only map[string]bool `json:"only,omitempty"`
	// NATSURL, when set, adds the broker relay's pair of scenarios.
	NATSURL string `json:"nats_url,omitempty"`
	// OTel adds the tracing pairs of scenarios (BENCH_OTEL=1).
	OTel bool `json:"otel,omitempty"`
	// Pgbench is the pgbench that runs the floors (BENCH_PGBENCH); empty
	// to find one, "off" for pgx's floors.
	Pgbench string `json:"-"`
	// FloorClient is what ran the floors: pgbench's path, or pgx.
	FloorClient string `json:"floor_client"`
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		AdminURL: or(getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		Server:   getenv("BENCH_SERVER"),
		Out:      or(getenv("BENCH_OUT"), "bench-results.json"),
		NATSURL:  getenv("BENCH_NATS_URL"),
		Pgbench:  getenv("BENCH_PGBENCH"),
	}
	env := envFields{getenv: getenv}
	field := env.field
	field("BENCH_CLIENTS", "1,8,32", func(s string) (e error) { cfg.Clients, e = positiveInts(s); return })
	field("BENCH_ROUNDS", "5", func(s string) (e error) { cfg.Rounds, e = positiveInt(s); return })
	field("BENCH_WARMUP", "500ms", func(s string) (e error) { cfg.Warmup, e = duration(s, 0); return })
	field("BENCH_WINDOW", "2s", func(s string) (e error) { cfg.Window, e = duration(s, 1); return })
	field("BENCH_SEED_ORDERS", "10000", func(s string) (e error) { cfg.SeedOrders, e = positiveInt(s); return })
	field("BENCH_LONG", "10,1000,10000", func(s string) (e error) { cfg.LongLengths, e = positiveInts(s); return })
	field("BENCH_LONG_COMMANDS", "100", func(s string) (e error) { cfg.LongCommands, e = positiveInt(s); return })
	field("BENCH_OTEL", "0", func(s string) error {
		switch s {
		case "0", "1":
			cfg.OTel = s == "1"
			return nil
		}
		return fmt.Errorf("%q: want 1 (add the tracing scenarios) or 0", s)
	})
	err := env.err
	// The measured commands lengthen a long order: they must all fit
	// before its items stop changing.
	room := order.MaxEvents - order.ReservedEvents - longWarmup - cfg.LongCommands
	for _, n := range cfg.LongLengths {
		if err == nil && (n < 2 || n > room) {
			err = fmt.Errorf("BENCH_LONG: %d events: with %d commands on it, a long order has 2 to %d events (its items change until %d)",
				n, longWarmup+cfg.LongCommands, room, order.MaxEvents-order.ReservedEvents)
		}
	}
	for _, name := range strings.Split(getenv("BENCH_SCENARIOS"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			if cfg.Only == nil {
				cfg.Only = make(map[string]bool)
			}
			cfg.Only[name] = true
		}
	}
	// A pair is measured whole: one side alone has nothing to be
	// compared with.
	for _, pair := range measuredPairs() {
		if cfg.Only[pair[0]] || cfg.Only[pair[1]] {
			cfg.Only[pair[0]], cfg.Only[pair[1]] = true, true
		}
	}
	return cfg, err
}

// measuredPairs are every pair of scenarios that one setting tells
// apart.
func measuredPairs() [][2]string {
	pairs := [][2]string{{relayOffName, relayOnName}}
	pairs = append(pairs, sealingPairs...)
	return append(pairs, tracingPairs...)
}

// runs says whether the configuration includes a scenario; the relay's
// only with BENCH_NATS_URL set.
func (c config) runs(name string) bool {
	if (name == relayOffName || name == relayOnName) && c.NATSURL == "" {
		return false
	}
	if isTracingScenario(name) && !c.OTel {
		return false
	}
	return c.Only == nil || c.Only[name]
}

// runsTracing says whether the run includes a tracing scenario.
func (c config) runsTracing() bool {
	for _, p := range tracingPairs {
		if c.runs(p[0]) || c.runs(p[1]) {
			return true
		}
	}
	return false
}

// runsSealing says whether the run includes a scenario of the sealing
// servers.
func (c config) runsSealing() bool {
	for _, p := range sealingPairs {
		if c.runs(p[0]) || c.runs(p[1]) {
			return true
		}
	}
	return false
}

// runsRelay says whether the run includes the relay's scenarios.
func (c config) runsRelay() bool { return c.runs(relayOffName) || c.runs(relayOnName) }

// envFields parses settings from the environment, one at a time, and
// keeps the first error, naming its variable.
type envFields struct {
	getenv func(string) string
	err    error
}

// field parses the variable name, or def when it is empty or unset.
func (f *envFields) field(name, def string, parse func(string) error) {
	if f.err != nil {
		return
	}
	if e := parse(or(f.getenv(name), def)); e != nil {
		f.err = fmt.Errorf("%s: %w", name, e)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q: want a positive integer", s)
	}
	return n, nil
}

func positiveInts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := positiveInt(f)
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// duration parses a duration of at least least.
func duration(s string, least time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < least {
		return 0, fmt.Errorf("%q: want a duration such as 3s", s)
	}
	return d, nil
}
