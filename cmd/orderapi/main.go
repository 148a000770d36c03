// Command orderapi runs the orderapi service: `orderapi serve` (the
// default) serves the REST API, `orderapi migrate` applies the database
// migrations and exits, `orderapi check` tells whether this build can
// read every event stored, `orderapi projections verify|rebuild` checks
// the read models against the events and rebuilds them, `orderapi token`
// prints a development bearer token, `orderapi nats setup` prepares the
// NATS JetStream stream the events are published to, and `orderapi nats
// resume` tells the relay where to go on after it stopped at a stream
// that disagrees with its checkpoint, `orderapi keys rewrap` re-wraps
// the customers' data keys under a new master key, and `orderapi
// personal-data reapply` applies erasures again after a restore.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"time"
)

func main() {
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

const usage = `usage: orderapi [serve|migrate|check|projections|token|nats|keys|personal-data|help]

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
  nats setup
           create the NATS JetStream stream of ORDERAPI_NATS_STREAM, or
           bring an existing one's limits (age, bytes, replicas,
           duplicate window) to the settings, ahead of a deploy; never
           deletes a stream, and refuses one holding other subjects
  nats resume --after <event id> | --from-start [--force]
           where the relay stopped at a stream that disagrees with its
           checkpoint (stream_mismatch in GET /v1/projections) or before
           an event it cannot decode: publish the events after that one
           (or every event) after the stream's present last message; the
           event must be in the feed. Without --force it refuses a relay
           not stopped so, and any point but the one that publishes
           nothing twice and leaves nothing out (it names it)
  keys rewrap
           re-wrap every customer's data key under the current master key
           (ORDERAPI_MASTER_KEY_FILE), opening each with the previous one
           that wraps it (ORDERAPI_MASTER_KEY_PREVIOUS_FILES): the step of
           a master-key rotation; events and read models are untouched.
           Prints how many it re-wrapped, and any master key still in use
  personal-data reapply [--from FILE]
           after a restore from a backup: apply again every erasure of
           personal data on record, and those FILE holds (the broker's
           messages, or feed events, of erasures made since the backup),
           destroying again the keys each destroyed that the restore
           brought back; other keys are kept; safe to repeat
           (orderapi personal-data -h)
  personal-data seal
           seal, in place and once, the personal data of the events stored
           in clear before this version; then rebuild the read models
  Every command that reads the events needs the master key
  (ORDERAPI_MASTER_KEY_FILE; made in ORDERAPI_AUTH_DEV_DIR with
  ORDERAPI_AUTH=dev).

`

// run is the whole program, with its inputs passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "Configuration comes from the environment:")
		writeSettings(stdout, settings(&config{}))
		return nil
	}
	if !slices.Contains(commands, cmd) {
		return fmt.Errorf("unknown command %q (try: orderapi help)", cmd)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Before the work begins: the collector's target (GOGC) is the one
	// setting the runtime applies itself.
	if cfg.GCPercent != 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if cmd == "token" {
		return token(cfg, args[2:], stdout, time.Now())
	}
	if cmd == "nats" {
		return runNATS(ctx, cfg, args[2:], stdout)
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
	case "keys":
		return runKeys(ctx, cfg, log, args[2:], stdout)
	case "personal-data":
		return runPersonalData(ctx, cfg, log, args[2:], stdout)
	}
	return serve(ctx, cfg, log, droppedLogLines)
}
