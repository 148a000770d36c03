package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// verifyListed is how many differences `projections verify` prints; it
// counts the rest.
const verifyListed = 50

// errDifferences: verify found the projections differ from the events.
var errDifferences = errors.New("the projections differ from the events")

// runProjections runs `orderapi projections verify|rebuild [name]`. It neither
// migrates nor serves: it refuses a database whose schema is not this
// build's.
func runProjections(ctx context.Context, cfg config, log zerolog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("projections: want verify or rebuild (try: orderapi help)")
	}
	var names []string
	switch args[0] {
	case "verify":
		if len(args) > 1 {
			return fmt.Errorf("projections verify takes no argument, got %q", args[1])
		}
	case "rebuild":
		target := "all"
		if len(args) > 1 {
			target = args[1]
		}
		if len(args) > 2 {
			return fmt.Errorf("projections rebuild takes one projection, got %q", args[1:])
		}
		switch target {
		case "all":
			names = []string{app.ProjectionOrderDetails, app.ProjectionCustomerOrders, app.ProjectionAnalytics}
		case app.ProjectionOrderDetails, app.ProjectionCustomerOrders, app.ProjectionAnalytics:
			names = []string{target}
		default:
			return fmt.Errorf("projections rebuild: unknown projection %q (want order_details, customer_orders, analytics or all)", target)
		}
	default:
		return fmt.Errorf("projections: unknown command %q (want verify or rebuild)", args[0])
	}

	pool, keyring, err := openKeyed(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool, eventstore.Config{DefaultCurrency: cfg.DefaultCurrency, Keyring: keyring})
	if names == nil {
		return verify(ctx, store, stdout)
	}
	rep, err := projections.Rebuild(ctx, store, names, log)
	if err != nil {
		return err
	}
	if len(rep.Tables) > 0 {
		fmt.Fprintf(stdout, "rebuilt %s from %d orders (%d caught up during the swap)\n", strings.Join(rep.Tables, ", "), rep.Orders, rep.CaughtUp)
	}
	if rep.Analytics {
		if rep.ConsumerRuns {
			fmt.Fprintln(stdout, "reset analytics: the running consumer counts every event again")
		} else {
			fmt.Fprintf(stdout, "reset analytics and counted %d events\n", rep.Recounted)
		}
	}
	log.Info().Strs("projections", names).Msg("projections rebuilt")
	return nil
}

// schemaCurrent checks, once the database answers, that its schema is
// this build's.
func schemaCurrent(ctx context.Context, pool *pgxpool.Pool, log zerolog.Logger) error {
	if err := waitReachable(ctx, pool, log); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, startupWait)
	defer cancel()
	if err := schema.Current(ctx, pool); err != nil {
		return fmt.Errorf("refusing to touch the projections: %w (run orderapi migrate with this build first)", err)
	}
	return nil
}

// verify prints every difference (up to verifyListed) and fails on any.
func verify(ctx context.Context, store *eventstore.Store, stdout io.Writer) error {
	rep, err := projections.Verify(ctx, store, verifyListed)
	if err != nil {
		return err
	}
	for _, d := range rep.Differences {
		fmt.Fprintln(stdout, d)
	}
	if more := rep.Total - len(rep.Differences); more > 0 {
		fmt.Fprintf(stdout, "… and %d more differences\n", more)
	}
	if rep.Total > 0 {
		return fmt.Errorf("%w: %d differences in %d orders, %d events", errDifferences, rep.Total, rep.Orders, rep.Events)
	}
	fmt.Fprintf(stdout, "verified %d orders, %d events: no differences\n", rep.Orders, rep.Events)
	return nil
}
