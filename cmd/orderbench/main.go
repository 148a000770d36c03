// Command orderbench measures orderapi against the floor PostgreSQL sets
// on the same machine, in one run.
//
// It starts the real server (the orderapi binary, production
// configuration) on a fresh database, seeds orders, and drives it over
// HTTP at fixed concurrency. Between the HTTP measurements it runs the
// floors: the same database work with nothing around it, straight through
// pgx, at the same concurrency. Interleaving them lets machine drift
// cancel out of the ratios. It prints a table and writes the same figures
// as JSON.
//
// Configuration comes from the environment:
//
//	DATABASE_URL         server to benchmark on, as a URL; fresh databases
//	                     are created there and dropped at the end
//	                     (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
//	BENCH_SERVER         the orderapi binary; built from ./cmd/orderapi if empty
//	BENCH_OUT            JSON results (default bench-results.json)
//	BENCH_CLIENTS        concurrencies (default 1,8,32)
//	BENCH_ROUNDS         repetitions; medians are reported (default 5)
//	BENCH_WARMUP         unmeasured start of each measurement (default 500ms)
//	BENCH_WINDOW         measured window (default 2s)
//	BENCH_SEED_ORDERS    orders the read scenarios read (default 10000)
//	BENCH_LONG           stream lengths of the long-stream scenario (default 10,1000,10000)
//	BENCH_LONG_COMMANDS  commands timed per length (default 100)
//	BENCH_SCENARIOS      only these scenarios, by name, comma-separated
//	                     ("long stream" for the long-stream one); default all.
//	                     "place order" and "get placed order" run against
//	                     two more servers on fresh databases, one sealing
//	                     personal data and one not
//	                     (ORDERAPI_PERSONAL_DATA_SEALING=off), the second's
//	                     named "(sealing off)"
//	BENCH_NATS_URL       a NATS server with JetStream (nats://127.0.0.1:4222):
//	                     adds "add item (relay off)" and "add item (relay on)",
//	                     against two more servers on fresh databases, the
//	                     second with ORDERAPI_NATS_URL and a stream of the
//	                     run's own (deleted at the end); default none
//	BENCH_PGBENCH        the pgbench that runs the floors, -M prepared, with
//	                     the scripts of ../shared/bench as they are; by
//	                     default the server's major version's in Debian's
//	                     layout, else the one on PATH; "off" (or none found)
//	                     runs the same statements through pgx instead;
//	                     "both" runs each floor with pgbench and then, as
//	                     "<floor> (pgx)", through pgx
//	BENCH_OTEL           1 adds "add item" and "get order", each "(tracing off)"
//	                     and "(tracing on)", against two more servers on fresh
//	                     databases, the second tracing a tenth of its requests
//	                     (parentbased_traceidratio 0.1) over OTLP/HTTP to an
//	                     endpoint in this process; default 0
//
// It exits non-zero when a request fails or an acknowledged write is
// missing from the database; a missed performance goal is reported, not
// fatal.
//
// Two subcommands go beyond an empty store:
//
//	orderbench seed [flags]  fills a database with valid order histories
//	                         at PostgreSQL's speed (package bulkload);
//	                         -help lists the flags
//	orderbench scale         make bench-scale: requests on a large seeded
//	                         store against a small one, and the large one
//	                         read, rebuilt and verified whole against a
//	                         COPY of it. BENCH_SCALE_EVENTS (10000000) and
//	                         BENCH_SCALE_ORDERS (1000000) size it,
//	                         BENCH_SEED_ORDERS (10000) the small store;
//	                         BENCH_CLIENTS (32), BENCH_ROUNDS (5),
//	                         BENCH_WARMUP, BENCH_WINDOW and
//	                         BENCH_SCALE_STARTS (3 start-ups timed per
//	                         store) tune it; BENCH_SCALE_PASSES=0 leaves
//	                         out the passes over the whole store;
//	                         BENCH_OUT defaults to bench-scale-results.json
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == bareHandlerArg {
		if err := serveBare(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "orderbench bare handler:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "seed":
		err = runSeed(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	case len(os.Args) == 2 && os.Args[1] == "scale":
		var cfg scaleConfig
		if cfg, err = loadScaleConfig(os.Getenv); err == nil {
			err = runScale(ctx, cfg, os.Stdout)
		}
	default:
		err = run(ctx, os.Getenv, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	return runBench(ctx, cfg, stdout)
}
