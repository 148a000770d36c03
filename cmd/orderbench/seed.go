package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/bulkload"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
	"github.com/orderapi/orderapi/internal/app"
)

// seedPrincipal is who the seeded events say recorded them: a service of
// the seeder's own, so that no one mistakes them for a customer's.
var seedPrincipal = app.Principal{Subject: "orderbench-seed", Roles: app.RolesOf(app.RoleStaff), ClientID: "orderbench-seed"}

// seedFlags are the settings of `orderbench seed`.
type seedFlags struct {
	url string
	cfg bulkload.Config
}

func parseSeedFlags(args []string, getenv func(string) string, stderr io.Writer) (seedFlags, error) {
	f := seedFlags{cfg: bulkloadConfig(0, 0, 0)}
	fs := flag.NewFlagSet("orderbench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.url, "database-url", or(getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"the database to fill (migrated first); $DATABASE_URL by default")
	fs.IntVar(&f.cfg.Events, "events", 10_000_000, "events to write, over all orders")
	fs.IntVar(&f.cfg.Orders, "orders", 1_000_000, "orders to write")
	fs.IntVar(&f.cfg.Customers, "customers", 0, "customers the orders belong to (0: one for every five orders)")
	fs.Uint64Var(&f.cfg.Seed, "seed", 1, "seed of the random choices: the same seed and sizes give the same orders")
	fs.DurationVar(&f.cfg.Span, "span", 0, "how long before now the first order was created (0: two years)")
	fs.IntVar(&f.cfg.Writers, "writers", 0, "connections writing events (0: 2), beside one writing the read models")
	fs.IntVar(&f.cfg.BatchEvents, "batch", 0, "events per COPY transaction (0: 50000)")
	if err := fs.Parse(args); err != nil {
		return seedFlags{}, err
	}
	if fs.NArg() > 0 {
		return seedFlags{}, fmt.Errorf("orderbench seed takes flags only, got %q", fs.Args())
	}
	return f, nil
}

// runSeed runs `orderbench seed`: it migrates the database and fills it
// with valid order histories (see package bulkload).
func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseSeedFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	rep, err := seedDatabase(ctx, f.url, f.cfg, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d orders, %d events in %s (%.0f events/s), vacuumed and analysed in %s\n",
		rep.Orders, rep.Events, rep.Copied.Round(time.Second), float64(rep.Events)/rep.Copied.Seconds(), rep.Vacuumed.Round(time.Second))
	return nil
}

// bulkloadConfig is a load of orders and events, with the seeder's
// principal and the defaults of the rest.
func bulkloadConfig(orders, events int, seed uint64) bulkload.Config {
	return bulkload.Config{Orders: orders, Events: events, Seed: seed, Principal: seedPrincipal}
}

// seedDatabase migrates the database at dbURL and loads cfg into it,
// telling progress on stdout every few seconds.
func seedDatabase(ctx context.Context, dbURL string, cfg bulkload.Config, stdout io.Writer) (bulkload.Report, error) {
	writers := cfg.Writers
	if writers == 0 {
		writers = 2
	}
	pool, err := openPool(ctx, dbURL, writers+1)
	if err != nil {
		return bulkload.Report{}, err
	}
	defer pool.Close()
	if err := schema.Migrate(ctx, pool, schema.Config{}); err != nil {
		return bulkload.Report{}, err
	}
	var (
		mu   sync.Mutex
		last time.Time
	)
	started := time.Now()
	cfg.Progress = func(events int64) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(stdout, "  %d of %d events (%.0f/s)\n", events, cfg.Events, float64(events)/time.Since(started).Seconds())
	}
	return bulkload.Load(ctx, pool, cfg)
}
