// Command orderapi runs the orderapi service: `orderapi serve` (the
// default) serves the REST API, `orderapi migrate` applies the database
// migrations and exits, `orderapi check` tells whether this build can
// read every event stored, `orderapi projections verify|rebuild` checks
// the read models against the events and rebuilds them, `orderapi token`
// prints a development bearer token.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// The service's live heap is small (a few MiB) while every request
// allocates, so at Go's default of 100 it collects hundreds of times a
// second and spends a quarter of its CPU doing so; at 400 it collects a
// quarter as often, for a heap still in the tens of MiB.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// A hangup (the terminal or ssh session that started the service
	// closed) stops it as SIGTERM does, draining requests; there is no
	// configuration to reload. A closed stdout must not kill the service:
	// with SIGPIPE ignored, writing the log fails instead, and the log
	// buffer counts the lines it drops.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderapi:", err)
		os.Exit(1)
	}
}

const usage = `usage: orderapi [serve|migrate|check|projections|token|help]

  serve    apply pending migrations, then serve the REST API (default)
  migrate  apply pending migrations and exit
  check    check, changing nothing, that this build can decode every
           event type and schema version stored (serve refuses to start
           otherwise), then every stored event, and that no projection
           is stopped before one it cannot decode
  projections verify
           replay every order's events and compare them with the read
           models (order_details, customer_orders, analytics up to its
           checkpoint); print each difference and fail on any
  projections rebuild [order_details|customer_orders|analytics|all]
           rebuild read models from the events while the service keeps
           serving (default all)
  The projections commands change no schema: they refuse a database not
  migrated by this build.
  token --role customer|staff|service [--subject ID] [--ttl 1h] [--client-id ID]
           print a bearer token signed with the development key (made if
           there is none), for curl against a service run with
           ORDERAPI_AUTH=dev; --role may repeat; --subject is required
           for a customer (its id, a UUID in lower case), else dev-ROLE;
           --ttl at most 24h; refused where ORDERAPI_AUTH=jwt or a JWKS,
           issuer or audience is set (orderapi token -h)

Configuration comes from the environment:
  DATABASE_URL               PostgreSQL URL (default %s);
                             pgxpool options may be added (pool_max_conns, default 16;
                             serve refuses fewer than its background workers keep plus 1)
  ORDERAPI_MIGRATE_TIMEOUT   how long a migration run may take, waits included
                             (default 1h for migrate, 5m for serve)
  ORDERAPI_ADDR              listen address (default %s)
  ORDERAPI_DEFAULT_CURRENCY  currency of orders created without one (default USD)
  ORDERAPI_CORS_ORIGINS      comma-separated origins allowed to call the API from a browser
  ORDERAPI_FEED_STREAMS_MAX  live feeds (GET /v1/events as text/event-stream) open at once
                             in this process (default %d)
  ORDERAPI_FEED_STREAMS_PER_CLIENT
                             live feeds open at once per caller, the subject of its
                             token (default %d)
  ORDERAPI_IDEMPOTENCY_TTL   how long an Idempotency-Key is remembered (default 24h)
  ORDERAPI_SNAPSHOT_EVERY    keep an order's state at every multiple of this many
                             events (default 100; 0 turns snapshots off)
  ORDERAPI_STATE_CACHE       orders' states a replica keeps after its commands
                             (default 4096; 0 keeps none)
  ORDERAPI_RATE_COMMANDS     each caller's commands (POST, DELETE), as
                             "<n>/<s|m|h> [burst <n>]" (default "%s"); beyond,
                             429 rate_limited. Raise it to allow more: it cannot be turned off
  ORDERAPI_RATE_READS        each caller's reads (GET, HEAD), likewise (default "%s")
  ORDERAPI_REDIS_URL         redis://[user:password@]host[:port][/db]: keep the rate limits
                             there, shared by every replica (default: each counts on its
                             own). While Redis cannot be reached, requests pass unlimited,
                             logged and counted (orderapi_rate_limit_failures_total)
  ORDERAPI_METRICS_ADDR      serve /metrics on this address, and not on the API's
  ORDERAPI_DEBUG_ADDR        serve Go's profiles (/debug/pprof/) on this address
  ORDERAPI_AUTH              how bearer tokens are verified: jwt (default), by an identity
                             provider's keys; dev, by a development key the service makes
                             and keeps in ORDERAPI_AUTH_DEV_DIR (never in production)
  ORDERAPI_AUTH_JWKS_URL     the provider's key set (JWKS), fetched every 5m, and for a key
                             id it lacks at most every 10s; serve needs it (or the file),
                             the issuer and the audience unless ORDERAPI_AUTH=dev
  ORDERAPI_AUTH_JWKS_FILE    the key set read from a file instead (again every 10s)
  ORDERAPI_AUTH_ISSUER       the iss tokens must carry
  ORDERAPI_AUTH_AUDIENCE     the aud tokens must include
  ORDERAPI_AUTH_ROLES_CLAIM  the claim listing a token's roles: an array, or names
                             separated by spaces (default roles)
  ORDERAPI_AUTH_CUSTOMER_CLAIM
                             the claim holding a customer's id, a UUID in lower case
                             (default sub)
  ORDERAPI_AUTH_DEV_DIR      where development mode keeps its signing key
                             (default .orderapi-dev); refused if others may
                             write to it or read the key
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
		fmt.Fprintf(stdout, usage, defaultDatabaseURL, defaultAddr, httpapi.DefaultFeedStreams, httpapi.DefaultFeedStreamsPerClient,
			httpapi.DefaultCommandRate, httpapi.DefaultReadRate)
		return nil
	case "serve", "migrate", "check", "projections", "token":
	default:
		return fmt.Errorf("unknown command %q (try: orderapi help)", cmd)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cmd == "token" {
		return token(cfg, args[2:], stdout, time.Now())
	}
	droppedLogLines := func() uint64 { return 0 }
	if cmd == "serve" {
		// A server logs a line per request: batch the writes.
		buf := newLogBuffer(stdout, os.Stderr)
		defer buf.Close()
		stdout, droppedLogLines = buf, buf.Dropped
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
	case "projections":
		return runProjections(ctx, cfg, log, args[2:], stdout)
	}
	return serve(ctx, cfg, log, droppedLogLines)
}
