package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

// Scenario names, as printed and written to JSON.
const (
	floorCommandName   = "floor-command"
	floorPipelinedName = "floor-command-pipelined"
	floorReadName      = "floor-read"
	addItemName        = "add item"
	createOrderName    = "create order"
	getOrderName       = "get order"
	listOrdersName     = "list customer orders"
	placeOrderName     = "place order"
	getPlacedOrderName = "get placed order"
	bareReadName       = "bare handler: get order"
	longStreamName     = "long stream"
	// pgxFloorSuffix names a floor run through pgx beside pgbench's
	// (BENCH_PGBENCH=both).
	pgxFloorSuffix = " (pgx)"
)

// floorOf is the floor each HTTP scenario is compared with.
var floorOf = map[string]string{
	addItemName:     floorCommandName,
	createOrderName: floorCommandName,
	getOrderName:    floorReadName,
	bareReadName:    floorReadName,
	listOrdersName:  floorReadName,
	// Placing and reading placed orders, sealed and in clear.
	placeOrderName:     floorCommandName,
	placeClearName:     floorCommandName,
	getPlacedOrderName: floorReadName,
	getPlacedClearName: floorReadName,
}

// poolHeadroom sizes the orders created before an add-item measurement:
// enough for this multiple of the floor-command rate measured just before.
const poolHeadroom = 2.5

// draftHeadroom sizes the drafts created before a place-order
// measurement: enough for this multiple of the rate its scenario had in
// the last round (its pair's, or the floor's, before it has one). One
// draft is placed per operation, so the floor's headroom would cost many
// more drafts than a measurement places.
const draftHeadroom = 1.5

func runBench(ctx context.Context, cfg config, stdout io.Writer) (err error) {
	started := time.Now()
	tmp, bin, err := workspace(ctx, cfg.Server, stdout)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	dbs, err := createDatabases(ctx, cfg.AdminURL, cfg.runsRelay(), cfg.runsTracing(), cfg.runsSealing())
	if err != nil {
		return err
	}
	defer func() {
		if derr := dbs.drop(); derr != nil && err == nil {
			err = derr
		}
	}()

	floorPool, err := openPool(ctx, dbs.floorURL, maxInt(cfg.Clients))
	if err != nil {
		return err
	}
	defer floorPool.Close()
	if err := setUpFloor(ctx, floorPool); err != nil {
		return err
	}

	auth, err := newTokens(filepath.Join(tmp, "orderapi-dev"))
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, bin, dbs.benchURL, filepath.Join(tmp, "server.log"), auth)
	if err != nil {
		return err
	}
	defer srv.stop()

	var sealing *sealingServers
	if cfg.runsSealing() {
		if sealing, err = startSealingServers(ctx, cfg, bin, dbs, tmp, auth, stdout); err != nil {
			return err
		}
		defer sealing.stop()
	}

	var relay *relayServers
	if cfg.runsRelay() {
		if relay, err = startRelayServers(ctx, cfg, bin, dbs, tmp, auth); err != nil {
			return err
		}
		defer func() {
			if rerr := relay.stop(); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}

	var traced *tracingServers
	if cfg.runsTracing() {
		if traced, err = startTracingServers(ctx, cfg, bin, dbs, tmp, auth, stdout); err != nil {
			return err
		}
		defer func() {
			if traced != nil {
				traced.stop()
			}
		}()
	}

	machine, err := describeMachine(ctx, floorPool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", machine)
	// The database's CPU is its cluster's: the postmaster's and its
	// children's, whatever else runs on the machine.
	postmaster := postmasterPID(ctx, floorPool)
	pgbench := ""
	switch cfg.Pgbench {
	case "off":
	case "both":
		pgbench = findPgbench("", machine.PostgreSQL)
	default:
		pgbench = findPgbench(cfg.Pgbench, machine.PostgreSQL)
	}
	cfg.FloorClient = "pgx"
	if pgbench != "" {
		cfg.FloorClient = pgbench + " -M prepared"
	}
	fmt.Fprintf(stdout, "floors run by %s\n", cfg.FloorClient)

	fmt.Fprintf(stdout, "seeding %d orders with 2 items each over HTTP\n", cfg.SeedOrders)
	t0 := time.Now()
	reads, err := seedOrders(ctx, srv.addr, auth, cfg.SeedOrders, 2)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded in %s\n", time.Since(t0).Round(time.Millisecond))

	bare, err := startBare(ctx, dbs.benchURL)
	if err != nil {
		return err
	}
	defer bare.stop()

	p := phase{Warmup: cfg.Warmup, Window: cfg.Window}
	l := newLedger()
	var lateCreates atomic.Int64
	results := newResults()
	var floorRun int64
	for round := 1; round <= cfg.Rounds; round++ {
		for _, clients := range cfg.Clients {
			fmt.Fprintf(stdout, "round %d/%d, %d clients:", round, cfg.Rounds, clients)
			floorStreamsFor := func() func(i int) *floorStreams {
				floorRun++
				run := floorRun
				return func(i int) *floorStreams { return &floorStreams{run: run, client: int64(i)} }
			}
			streams := floorStreamsFor()
			type step struct {
				name string
				new  func() (func(i int) (worker, error), error)
				// srv, when set, is the server measured; unset, the
				// main one, or none for a floor.
				srv *server
			}
			// addItemOn measures add item on a relay or tracing
			// scenario's server, with orders made for it as for add
			// item, its writes recorded in l.
			addItemOn := func(name string, srv *server, l *ledger) step {
				return step{name, func() (func(i int) (worker, error), error) {
					rate := results.last(floorCommandName, clients).OpsPerS
					if rate == 0 {
						rate = max(results.last(name, clients).OpsPerS, relayRateGuess)
					}
					perClient := int(rate*poolHeadroom*(p.Warmup+p.Window).Seconds()/addsPerOrder/float64(clients)) + 2
					pools, err := createPools(ctx, srv.addr, auth, clients, perClient)
					if err != nil {
						return nil, err
					}
					return addItem(srv.addr, l, pools, &lateCreates), nil
				}, srv}
			}
			// placeOn measures place order on a server, with drafts
			// made for it before, its writes recorded in l.
			placeOn := func(name string, srv *server, l *ledger) step {
				return step{name, func() (func(i int) (worker, error), error) {
					rate := float64(relayRateGuess)
					for _, from := range []string{name, placeOrderName, placeClearName, floorCommandName} {
						if r := results.last(from, clients).OpsPerS; r > 0 {
							rate = r
							break
						}
					}
					perClient := int(rate*draftHeadroom*(p.Warmup+p.Window).Seconds()/float64(clients)) + 2
					pools, err := createDrafts(ctx, srv.addr, auth, clients, perClient)
					if err != nil {
						return nil, err
					}
					return placeOrder(srv.addr, l, pools, &lateCreates), nil
				}, srv}
			}
			steps := []step{
				{name: floorCommandName, new: func() (func(i int) (worker, error), error) {
					return func(i int) (worker, error) { return floorWorker(ctx, floorPool, floorCommand(streams(i))) }, nil
				}},
				{name: addItemName, new: func() (func(i int) (worker, error), error) {
					// Orders for the measurement are created before it:
					// enough for poolHeadroom times the floor's rate.
					rate := results.last(floorCommandName, clients).OpsPerS
					perClient := int(rate*poolHeadroom*(p.Warmup+p.Window).Seconds()/addsPerOrder/float64(clients)) + 2
					pools, err := createPools(ctx, srv.addr, auth, clients, perClient)
					if err != nil {
						return nil, err
					}
					return addItem(srv.addr, l, pools, &lateCreates), nil
				}},
				{name: floorPipelinedName, new: func() (func(i int) (worker, error), error) {
					pipelined := floorStreamsFor()
					return func(i int) (worker, error) {
						return floorWorker(ctx, floorPool, floorCommandPipelined(pipelined(i)))
					}, nil
				}},
				{name: createOrderName, new: func() (func(i int) (worker, error), error) { return createOrder(srv.addr, l, auth), nil }},
				{name: floorReadName, new: func() (func(i int) (worker, error), error) {
					return func(i int) (worker, error) {
						return floorWorker(ctx, floorPool, floorReadOne(newRand(uint64(round), uint64(i))))
					}, nil
				}},
				{name: getOrderName, new: func() (func(i int) (worker, error), error) { return getOrder(srv.addr, reads, uint64(round)), nil }},
				{name: bareReadName, new: func() (func(i int) (worker, error), error) { return bareRead(bare.addr, reads, uint64(round)), nil }},
				{name: listOrdersName, new: func() (func(i int) (worker, error), error) { return listOrders(srv.addr, reads, uint64(round)), nil }},
			}
			if sealing != nil {
				// Sealed, and in clear: each pair alternates which goes
				// first, as the relay's.
				sealed, clear := sealing.sealed, sealing.clear
				getPlacedOn := func(name string, s *sealingServer) step {
					return step{name, func() (func(i int) (worker, error), error) { return getOrder(s.srv.addr, s.reads, uint64(round)), nil }, s.srv}
				}
				for _, pair := range [][]step{
					{placeOn(placeOrderName, sealed.srv, sealed.ledger), placeOn(placeClearName, clear.srv, clear.ledger)},
					{getPlacedOn(getPlacedOrderName, sealed), getPlacedOn(getPlacedClearName, clear)},
				} {
					if round%2 == 0 {
						pair[0], pair[1] = pair[1], pair[0]
					}
					steps = append(steps, pair...)
				}
			}
			if relay != nil {
				// Which goes first alternates, so that neither always
				// finds the database as the other left it.
				pair := []step{addItemOn(relayOffName, relay.off, relay.ledgers[relay.off]), addItemOn(relayOnName, relay.on, relay.ledgers[relay.on])}
				if round%2 == 0 {
					pair[0], pair[1] = pair[1], pair[0]
				}
				steps = append(steps, pair...)
			}
			if traced != nil {
				// Each pair alternates which goes first, as the relay's.
				for _, names := range tracingPairs {
					var pair []step
					for _, name := range names {
						srv := traced.serverOf(name)
						if strings.HasPrefix(name, addItemName) {
							pair = append(pair, addItemOn(name, srv, traced.ledgers[srv]))
							continue
						}
						pair = append(pair, step{name, func() (func(i int) (worker, error), error) {
							return getOrder(srv.addr, traced.reads[srv], uint64(round)), nil
						}, srv})
					}
					if round%2 == 0 {
						pair[0], pair[1] = pair[1], pair[0]
					}
					steps = append(steps, pair...)
				}
			}
			for _, step := range steps {
				if !cfg.runs(step.name) {
					continue
				}
				if _, ok := pgbenchScript[step.name]; ok && pgbench != "" {
					floorRun++
					run := pgbenchRun{bin: pgbench, dir: tmp, dbURL: dbs.floorURL, floor: step.name, run: floorRun}
					s, err := measurePgbench(ctx, run, clients, p, procs{postgres: postmaster})
					if err != nil {
						return fmt.Errorf("%s, %d clients: %w", step.name, clients, err)
					}
					results.add(step.name, clients, s)
					fmt.Fprintf(stdout, " %s %.0f/s", step.name, s.OpsPerS)
					if cfg.Pgbench != "both" {
						continue
					}
					// And the same through pgx, to compare the two.
					step.name += pgxFloorSuffix
				}
				newWorker, err := step.new()
				if err != nil {
					return fmt.Errorf("%s, %d clients: %w", step.name, clients, err)
				}
				// The floors have no server: the database's CPU is theirs.
				pid := srv.cmd.Process.Pid
				if _, http := floorOf[step.name]; !http {
					pid = 0
				}
				if step.name == bareReadName {
					pid = bare.cmd.Process.Pid
				}
				var s sample
				switch {
				case step.name == relayOffName || step.name == relayOnName:
					s, err = relay.measure(ctx, step.srv, clients, p, postmaster, newWorker)
				case step.srv != nil:
					s, err = measure(ctx, clients, p, procs{server: step.srv.cmd.Process.Pid, postgres: postmaster}, newWorker)
				default:
					s, err = measure(ctx, clients, p, procs{server: pid, postgres: postmaster}, newWorker)
				}
				if err != nil {
					return fmt.Errorf("%s, %d clients: %w", step.name, clients, err)
				}
				results.add(step.name, clients, s)
				fmt.Fprintf(stdout, " %s %.0f/s", step.name, s.OpsPerS)
			}
			fmt.Fprintln(stdout)
		}
	}

	var long []longStreamResult
	if cfg.runs(longStreamName) {
		if long, err = runLongStreams(ctx, cfg, bin, dbs.benchURL, tmp, auth, stdout); err != nil {
			return err
		}
	}

	lost, err := checkLedger(ctx, dbs.benchURL, l)
	if err != nil {
		return err
	}
	if sealing != nil {
		sealingLost, err := sealing.verify(ctx)
		if err != nil {
			return err
		}
		lost += sealingLost
	}
	var stream *streamCheck
	if relay != nil {
		relayLost, c, err := relay.verify(ctx)
		if err != nil {
			return err
		}
		lost += relayLost
		stream = &c
	}
	var traces *traceCount
	if traced != nil {
		tracedLost, err := traced.verify(ctx)
		if err != nil {
			return err
		}
		lost += tracedLost
		// Stopped, the tracing server has exported what it had left.
		sink := traced.sink
		if err := traced.stop(); err != nil {
			return err
		}
		traced = nil
		exports, spans := sink.Counts()
		traces = &traceCount{Exports: exports, Spans: spans}
	}

	rep := buildReport(cfg, machine, results, long, stream, lost, lateCreates.Load(), time.Since(started))
	rep.Traces = traces
	return publish(stdout, cfg.Out, started, rep, rep.Errors, rep.LostWrites)
}

// runLongStreams times commands on long orders against two more servers
// on the same database, one with snapshots (default configuration) and
// one without. Both keep no order states between commands
// (ORDERAPI_STATE_CACHE=0): every command loads its order, which is what
// this scenario measures. The first server's /metrics shows the snapshot
// hits.
func runLongStreams(ctx context.Context, cfg config, bin, dbURL string, tmp string, auth *tokens, stdout io.Writer) ([]longStreamResult, error) {
	pool, err := openPool(ctx, dbURL, 4)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	keyring, err := auth.keyring(pool)
	if err != nil {
		return nil, err
	}
	store := eventstore.New(pool, eventstore.Config{Keyring: keyring})

	withSnapshots, err := startServer(ctx, bin, dbURL, filepath.Join(tmp, "server-snapshots.log"), auth, "ORDERAPI_STATE_CACHE=0")
	if err != nil {
		return nil, err
	}
	defer withSnapshots.stop()
	without, err := startServer(ctx, bin, dbURL, filepath.Join(tmp, "server-nosnapshots.log"), auth, "ORDERAPI_STATE_CACHE=0", "ORDERAPI_SNAPSHOT_EVERY=0")
	if err != nil {
		return nil, err
	}
	defer without.stop()

	var out []longStreamResult
	defer func() {
		// The server's own count of snapshot hits shows the loads used
		// them.
		if b, err := withSnapshots.get("/metrics"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "orderapi_snapshot") {
					fmt.Fprintf(stdout, "  %s\n", l)
				}
			}
		}
	}()
	for _, events := range cfg.LongLengths {
		for _, s := range []struct {
			srv       *server
			snapshots bool
		}{{withSnapshots, true}, {without, false}} {
			r, err := measureLongStream(ctx, store, s.srv.addr, auth.staff, events, cfg.LongCommands, s.snapshots)
			if err != nil {
				return nil, fmt.Errorf("long stream of %d events: %w", events, err)
			}
			fmt.Fprintf(stdout, "long stream %d events, snapshots %t: p50 %s\n", events, s.snapshots, fmtDur(r.P50))
			out = append(out, r)
		}
	}
	return out, nil
}

// databases are the two fresh databases of a run: the server's and the
// floor's.
type databases struct {
	adminURL           string
	bench, floor       string
	benchURL, floorURL string
	// relayOffURL and relayOnURL are the relay scenarios' servers', when
	// the run has them; tracingOffURL and tracingOnURL the tracing
	// scenarios'; sealedURL and clearURL the sealing scenarios'.
	relayOffURL, relayOnURL     string
	tracingOffURL, tracingOnURL string
	sealedURL, clearURL         string
	names                       []string
}

func createDatabases(ctx context.Context, adminURL string, relay, tracing, sealing bool) (*databases, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	d := &databases{adminURL: adminURL}
	d.bench = "orderapi_bench_" + hex.EncodeToString(suffix)
	d.floor = d.bench + "_floor"
	d.names = []string{d.bench, d.floor}
	if relay {
		d.names = append(d.names, d.bench+"_relay_off", d.bench+"_relay_on")
	}
	if tracing {
		d.names = append(d.names, d.bench+"_tracing_off", d.bench+"_tracing_on")
	}
	if sealing {
		d.names = append(d.names, d.bench+"_sealing_on", d.bench+"_sealing_off")
	}
	conn, err := pgx.Connect(ctx, connURL(adminURL))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer conn.Close(ctx)
	for _, name := range d.names {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			d.drop()
			return nil, fmt.Errorf("create database %s: %w", name, err)
		}
	}
	d.benchURL, d.floorURL = d.with(d.bench), d.with(d.floor)
	if relay {
		d.relayOffURL, d.relayOnURL = d.with(d.bench+"_relay_off"), d.with(d.bench+"_relay_on")
	}
	if tracing {
		d.tracingOffURL, d.tracingOnURL = d.with(d.bench+"_tracing_off"), d.with(d.bench+"_tracing_on")
	}
	if sealing {
		d.sealedURL, d.clearURL = d.with(d.bench+"_sealing_on"), d.with(d.bench+"_sealing_off")
	}
	return d, nil
}

// with is the URL of the database name on the server of adminURL.
func (d *databases) with(name string) string {
	u, err := url.Parse(d.adminURL)
	if err != nil {
		return ""
	}
	u.Path = "/" + name
	return u.String()
}

// drop removes the run's databases, even after an interrupt.
func (d *databases) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL(d.adminURL))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var errs []error
	for _, name := range d.names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// connURL drops pgxpool's own settings (pool_max_conns and the like) from
// a URL, for a single connection: they may be there for the server's pool.
func connURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func openPool(ctx context.Context, dbURL string, conns int) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	pc.MaxConns = int32(conns)
	return pgxpool.NewWithConfig(ctx, pc)
}

func maxInt(ns []int) int {
	m := 0
	for _, n := range ns {
		m = max(m, n)
	}
	return m
}
