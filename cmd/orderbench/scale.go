package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/bulkload"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

// `orderbench scale` (make bench-scale) measures orderapi on a large
// store against a small one, in the same run: both seeded by the bulk
// loader with the same mix of histories, so that only their size
// differs. See docs/performance.md, "At ten million events".

// Store labels, as printed and written to JSON.
const (
	smallStore = "small"
	largeStore = "large"
)

// diskMargin is how much more than the small store's bytes per event the
// large one is allowed for in the disk estimate.
const diskMargin = 1.25

// scaleCustomers is how many customers of each store the read scenarios
// read as: as many as the small store has at the defaults.
const scaleCustomers = 2_000

// catchUpLimit bounds the wait for analytics to count the large store.
const catchUpLimit = 2 * time.Hour

func runScale(ctx context.Context, cfg scaleConfig, stdout io.Writer) (err error) {
	started := time.Now()
	tmp, bin, err := workspace(ctx, cfg.Server, stdout)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	dbs, err := createScaleDatabases(ctx, cfg.AdminURL)
	if err != nil {
		return err
	}
	defer func() {
		if derr := dbs.drop(); derr != nil && err == nil {
			err = derr
		}
	}()
	small, large := dbs.with(dbs.names[0]), dbs.with(dbs.names[1])

	rep := scaleReport{Config: cfg}
	smallPool, err := openPool(ctx, small, 4)
	if err != nil {
		return err
	}
	defer smallPool.Close()
	if rep.Machine, err = describeMachine(ctx, smallPool); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", rep.Machine)

	// The small store first: its bytes per event say how much disk the
	// large one needs.
	fmt.Fprintf(stdout, "seeding the small store: %d orders, %d events\n", cfg.SmallOrders, cfg.smallEvents())
	if _, err := seedStore(ctx, &rep, smallStore, small, cfg.SmallOrders, cfg.smallEvents(), cfg.Seed, io.Discard); err != nil {
		return err
	}
	if rep.SmallDisk, err = bulkload.MeasureFootprint(ctx, smallPool); err != nil {
		return err
	}
	if err := rep.checkDisk(ctx, smallPool, stdout); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "seeding the large store: %d orders, %d events\n", cfg.Orders, cfg.Events)
	if _, err := seedStore(ctx, &rep, largeStore, large, cfg.Orders, cfg.Events, cfg.Seed+1, stdout); err != nil {
		return err
	}
	largePool, err := openPool(ctx, large, 4)
	if err != nil {
		return err
	}
	defer largePool.Close()
	t0 := time.Now()
	if rep.LargeDisk, err = bulkload.MeasureFootprint(ctx, largePool); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "measured the large store's footprint in %s: %s\n", time.Since(t0).Round(time.Second), describeFootprint(rep.LargeDisk))
	events := rep.LargeDisk.Events
	head, err := bulkload.FeedHead(ctx, largePool)
	if err != nil {
		return err
	}
	smallHead, err := bulkload.FeedHead(ctx, smallPool)
	if err != nil {
		return err
	}

	auth, err := newTokens(filepath.Join(tmp, "orderapi-dev"))
	if err != nil {
		return err
	}
	urls := map[string]string{smallStore: small, largeStore: large}
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	start := func(label string) (*server, error) {
		s, err := startServer(ctx, bin, urls[label], filepath.Join(tmp, "server-"+label+".log"), auth)
		if err == nil {
			servers[label] = s
		}
		return s, err
	}
	stop := func(label string) {
		servers[label].stop()
		delete(servers, label)
	}

	// The small store's server counts its analytics before the large
	// one's starts, so that the large one's catch-up has the machine.
	smallSrv, err := start(smallStore)
	if err != nil {
		return err
	}
	if err := waitCaughtUp(ctx, smallPool, smallHead, catchUpLimit); err != nil {
		return err
	}
	// Both stores are on one cluster: its postmaster, so that the
	// database's CPU counts backends that end within a measurement.
	postmaster := postmasterPID(ctx, largePool)
	fmt.Fprintln(stdout, "starting the large store's server: its analytics consumer counts every event")
	var largeSrv *server
	catchUp, err := timePhase(catchUpName, "the server's analytics consumer, from checkpoint zero to the feed's head", events, 0, postmaster, func() error {
		if largeSrv, err = start(largeStore); err != nil {
			return err
		}
		return waitCaughtUp(ctx, largePool, head, catchUpLimit)
	})
	if err != nil {
		return err
	}
	// Its CPU is the server's, all of it spent on the catch-up so far
	// (timePhase counted this process's).
	catchUp.ProcessCPU = processCPU(largeSrv.cmd.Process.Pid) / time.Duration(max(events, 1))
	rep.Startup = []startup{{Store: smallStore, Runs: []time.Duration{smallSrv.readyIn}}, {Store: largeStore, Runs: []time.Duration{largeSrv.readyIn}}}
	rep.Phases = append(rep.Phases, catchUp)
	fmt.Fprintf(stdout, "analytics counted %d events in %s (%.0f/s)\n", events, catchUp.Took.Round(time.Second), catchUp.EventsPerS)

	pools := map[string]*pgxpool.Pool{smallStore: smallPool, largeStore: largePool}
	if err := rep.measureHTTP(ctx, cfg, servers, pools, postmaster, urls, auth, stdout); err != nil {
		return err
	}

	// Start-up again, on stores whose analytics are counted, as a
	// restarted replica finds them.
	for range cfg.Starts - 1 {
		for i, st := range rep.Startup {
			stop(st.Store)
			srv, err := start(st.Store)
			if err != nil {
				return err
			}
			rep.Startup[i].Runs = append(rep.Startup[i].Runs, srv.readyIn)
		}
	}
	stop(smallStore)
	stop(largeStore)
	fmt.Fprintf(stdout, "start-up: %s\n", rep.describeStartup())

	if !cfg.Passes {
		return rep.end(cfg, started, stdout)
	}
	// The floor's count is the store's events, the requests' included.
	floor, err := measureCopyFloor(ctx, largePool, postmaster)
	if err != nil {
		return err
	}
	rep.Phases = append(rep.Phases, floor)
	fmt.Fprintf(stdout, "%s: %d events in %s (%.0f/s)\n", floor.Name, floor.Events, floor.Took.Round(time.Millisecond), floor.EventsPerS)
	keyring, err := auth.keyring(largePool)
	if err != nil {
		return err
	}
	store := eventstore.New(largePool, eventstore.Config{Keyring: keyring})
	for _, measure := range []func(int64) (storePhase, error){
		func(n int64) (storePhase, error) { return measureFeed(ctx, store, n, postmaster) },
		func(n int64) (storePhase, error) { return measureRebuild(ctx, store, n, postmaster) },
		func(n int64) (storePhase, error) { return measureVerify(ctx, bin, large, auth, n, postmaster) },
	} {
		p, err := measure(floor.Events)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d events in %s (%.0f/s)\n", p.Name, p.Events, p.Took.Round(time.Millisecond), p.EventsPerS)
		rep.Phases = append(rep.Phases, p)
	}
	return rep.end(cfg, started, stdout)
}

// end prints the report and writes it.
func (rep *scaleReport) end(cfg scaleConfig, started time.Time, stdout io.Writer) error {
	rep.finish(time.Since(started))
	return publish(stdout, cfg.Out, started, rep, rep.Errors, rep.LostWrites)
}

// seedStore migrates and loads one store, and records the load.
func seedStore(ctx context.Context, rep *scaleReport, label, dbURL string, orders, events int, seed uint64, progress io.Writer) (bulkload.Report, error) {
	r, err := seedDatabase(ctx, dbURL, bulkloadConfig(orders, events, seed), progress)
	if err != nil {
		return bulkload.Report{}, fmt.Errorf("seed the %s store: %w", label, err)
	}
	rep.Seeds = append(rep.Seeds, seedResult{Store: label, Report: r, EventsPerS: float64(r.Events) / r.Copied.Seconds()})
	return r, nil
}

// createScaleDatabases creates the small and the large store's databases.
func createScaleDatabases(ctx context.Context, adminURL string) (*databases, error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	base := "orderapi_bench_scale_" + hex.EncodeToString(suffix)
	d := &databases{adminURL: adminURL, names: []string{base + "_" + smallStore, base + "_" + largeStore}}
	conn, err := pgx.Connect(ctx, connURL(adminURL))
	if err != nil {
		return nil, fmt.Errorf("connect to the database server: %w", err)
	}
	defer conn.Close(ctx)
	for i, name := range d.names {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			d.names = d.names[:i]
			return nil, errors.Join(fmt.Errorf("create database %s: %w", name, err), d.drop())
		}
	}
	return d, nil
}
