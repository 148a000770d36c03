// Command orderapi runs the orderapi service: `orderapi serve` (the
// default) serves the REST API, `orderapi migrate` applies the database
// migrations and exits, `orderapi check` tells whether this build can
// read every event stored.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderapi:", err)
		os.Exit(1)
	}
}

const usage = `usage: orderapi [serve|migrate|check|help]

  serve    apply pending migrations, then serve the REST API (default)
  migrate  apply pending migrations and exit
  check    check, changing nothing, that this build can decode every
           event type and schema version stored (serve refuses to start
           otherwise)

Configuration comes from the environment:
  DATABASE_URL               PostgreSQL URL (default %s);
                             pgxpool options may be added (pool_max_conns, default 16)
  ORDERAPI_ADDR              listen address (default %s)
  ORDERAPI_DEFAULT_CURRENCY  currency of orders created without one (default USD)
  ORDERAPI_CORS_ORIGINS      comma-separated origins allowed to call the API from a browser
  LOG_LEVEL                  trace|debug|info|warn|error (default info)
  LOG_FORMAT                 json|console (default json)
`

// run is the whole program, with its inputs passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprintf(stdout, usage, defaultDatabaseURL, defaultAddr)
		return nil
	case "serve", "migrate", "check":
	default:
		return fmt.Errorf("unknown command %q (try: orderapi help)", cmd)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stdout)
	if err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		return migrate(ctx, cfg, log)
	case "check":
		return check(ctx, cfg, log)
	}
	return serve(ctx, cfg, log)
}
