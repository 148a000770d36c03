package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/bulkload"
)

// scaleReport is what bench-scale measured.
type scaleReport struct {
	Machine machine      `json:"machine"`
	Config  scaleConfig  `json:"config"`
	Seeds   []seedResult `json:"seeds"`
	// DiskNeeded is the estimate made before the large store was seeded;
	// DiskFree what the data directory's file system had then (0:
	// unknown).
	DiskNeeded int64              `json:"disk_needed_bytes"`
	DiskFree   int64              `json:"disk_free_bytes"`
	SmallDisk  bulkload.Footprint `json:"small_store_footprint"`
	LargeDisk  bulkload.Footprint `json:"large_store_footprint"`
	Startup    []startup          `json:"startup"`
	Rows       []scaleRow         `json:"requests"`
	Phases     []storePhase       `json:"store_passes"`
	Goals      []goal             `json:"goals"`
	Errors     int                `json:"errors"`
	LostWrites int                `json:"lost_writes"`
	Took       time.Duration      `json:"took_ns"`
}

type seedResult struct {
	Store string `json:"store"`
	bulkload.Report
	EventsPerS float64 `json:"events_per_s"`
}

// startup is a store's server's times to ready, over its starts.
type startup struct {
	Store string          `json:"store"`
	Runs  []time.Duration `json:"runs_ns"`
}

func (s startup) median() time.Duration {
	r := slices.Clone(s.Runs)
	slices.Sort(r)
	if len(r) == 0 {
		return 0
	}
	return r[len(r)/2]
}

// scaleRow is one request scenario on both stores, the medians of their
// rounds, and the medians of the per-round ratios of large to small.
type scaleRow struct {
	Scenario    string   `json:"scenario"`
	Clients     int      `json:"clients"`
	Small       sample   `json:"small"`
	Large       sample   `json:"large"`
	SmallRounds []sample `json:"small_rounds"`
	LargeRounds []sample `json:"large_rounds"`
	// CPURatio is the server's and the database's CPU per request on the
	// large store over the small one's; OpsRatio is requests/s.
	CPURatio float64 `json:"cpu_per_request_ratio"`
	OpsRatio float64 `json:"ops_ratio"`
	P99Ratio float64 `json:"p99_ratio"`
}

// checkDisk estimates, from the small store, what the large one needs,
// says it, and refuses to go on when the data directory's file system
// has less free.
func (rep *scaleReport) checkDisk(ctx context.Context, pool *pgxpool.Pool, stdout io.Writer) error {
	f := rep.SmallDisk
	events := float64(rep.Config.Events)
	perEvent := float64(f.Total()) / float64(f.Events)
	models := float64(f.Details+f.Summaries) / float64(f.Events)
	wal, err := walRoom(ctx, pool)
	if err != nil {
		return err
	}
	// The rebuild writes new read-model tables beside the old ones.
	rep.DiskNeeded = int64(diskMargin*perEvent*events+models*events) + wal
	fmt.Fprintf(stdout, "the large store needs about %s of disk: %.0f bytes per event measured on the small store × %d events × %.2f, "+
		"the rebuild's copy of the read models, and %s of WAL (max_wal_size)\n",
		gib(rep.DiskNeeded), perEvent, rep.Config.Events, diskMargin, gib(wal))
	dir, free, ok := dataDirFree(ctx, pool)
	if !ok {
		fmt.Fprintln(stdout, "the database server's data directory is not on this machine (or not readable): its free space is not checked")
		return nil
	}
	rep.DiskFree = free
	fmt.Fprintf(stdout, "%s has %s free\n", dir, gib(free))
	if free < rep.DiskNeeded {
		return fmt.Errorf("not enough disk: %s needs about %s, %s has %s free; set BENCH_SCALE_EVENTS and BENCH_SCALE_ORDERS lower",
			"the large store", gib(rep.DiskNeeded), dir, gib(free))
	}
	return nil
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// describeFootprint says in a line what a store takes per event.
func describeFootprint(f bulkload.Footprint) string {
	per := func(b int64) float64 { return float64(b) / float64(max(f.Events, 1)) }
	return fmt.Sprintf("%.0f bytes per event (events: heap %.0f, indexes %.0f, TOAST %.0f; order_details %.0f, customer_orders %.0f) against %.0f bytes of raw JSON: %.2f×",
		per(f.Total()), per(f.EventsHeap), per(f.EventsIndexes), per(f.EventsTOAST), per(f.Details), per(f.Summaries), per(f.RawJSON),
		float64(f.Total())/float64(max(f.RawJSON, 1)))
}

func (rep *scaleReport) describeStartup() string {
	s := ""
	for i, st := range rep.Startup {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s store %s (median of %d)", st.Store, fmtDur(st.median()), len(st.Runs))
	}
	return s
}

// scaleScenarios are the requests measured on both stores.
var scaleScenarios = []string{addItemName, getOrderName, listOrdersName}

// measureHTTP measures the request scenarios on both stores' servers, in
// turns, the store that goes first alternating by round.
func (rep *scaleReport) measureHTTP(ctx context.Context, cfg scaleConfig, servers map[string]*server, pools map[string]*pgxpool.Pool,
	postmaster int, urls map[string]string, auth *tokens, stdout io.Writer) error {
	reads := map[string]readData{}
	ledgers := map[string]*ledger{}
	for _, label := range []string{smallStore, largeStore} {
		d, err := sampleReads(ctx, pools[label], auth, scaleCustomers)
		if err != nil {
			return fmt.Errorf("the %s store's orders to read: %w", label, err)
		}
		reads[label], ledgers[label] = d, newLedger()
	}
	p := phase{Warmup: cfg.Warmup, Window: cfg.Window}
	var late atomic.Int64
	res := newResults()
	for round := 1; round <= cfg.Rounds; round++ {
		for _, clients := range cfg.Clients {
			fmt.Fprintf(stdout, "round %d/%d, %d clients:", round, cfg.Rounds, clients)
			for _, name := range scaleScenarios {
				labels := []string{smallStore, largeStore}
				if round%2 == 0 {
					labels[0], labels[1] = labels[1], labels[0]
				}
				for _, label := range labels {
					srv, key := servers[label], name+" ("+label+")"
					var newWorker func(i int) (worker, error)
					switch name {
					case addItemName:
						rate := max(res.last(key, clients).OpsPerS, relayRateGuess)
						perClient := int(rate*poolHeadroom*(p.Warmup+p.Window).Seconds()/addsPerOrder/float64(clients)) + 2
						orders, err := createPools(ctx, srv.addr, auth, clients, perClient)
						if err != nil {
							return fmt.Errorf("%s: %w", key, err)
						}
						newWorker = addItem(srv.addr, ledgers[label], orders, &late)
					case getOrderName:
						newWorker = getOrder(srv.addr, reads[label], uint64(round))
					case listOrdersName:
						newWorker = listOrders(srv.addr, reads[label], uint64(round))
					}
					s, err := measure(ctx, clients, p, procs{server: srv.cmd.Process.Pid, postgres: postmaster}, newWorker)
					if err != nil {
						return fmt.Errorf("%s, %d clients: %w", key, clients, err)
					}
					res.add(key, clients, s)
					fmt.Fprintf(stdout, " %s %.0f/s", key, s.OpsPerS)
				}
			}
			fmt.Fprintln(stdout)
		}
	}
	for _, label := range []string{smallStore, largeStore} {
		lost, err := checkLedger(ctx, urls[label], ledgers[label])
		if err != nil {
			return err
		}
		rep.LostWrites += lost
	}
	cost := func(s sample) float64 { return float64(s.ServerCPU + s.DatabaseCPU) }
	for _, clients := range cfg.Clients {
		for _, name := range scaleScenarios {
			sm, lg := res.by[resultKey(name+" ("+smallStore+")", clients)], res.by[resultKey(name+" ("+largeStore+")", clients)]
			r := scaleRow{Scenario: name, Clients: clients, SmallRounds: sm, LargeRounds: lg, Small: medianSample(sm), Large: medianSample(lg),
				CPURatio: medianRatio(lg, sm, cost),
				OpsRatio: medianRatio(lg, sm, func(s sample) float64 { return s.OpsPerS }),
				P99Ratio: medianRatio(lg, sm, func(s sample) float64 { return float64(s.P99) })}
			for _, s := range append(slices.Clone(sm), lg...) {
				rep.Errors += s.Errors
			}
			rep.Rows = append(rep.Rows, r)
		}
	}
	return nil
}

// finish sets the ratios to the COPY floor and the goals.
func (rep *scaleReport) finish(took time.Duration) {
	rep.Took = took
	var floor float64
	for _, p := range rep.Phases {
		if p.Name == copyFloorName {
			floor = p.EventsPerS
		}
	}
	for i, p := range rep.Phases {
		if floor > 0 && p.Name != copyFloorName {
			rep.Phases[i].VsFloor = p.EventsPerS / floor
		}
	}
	var gs []goal
	for _, r := range rep.Rows {
		gs = append(gs, goal{fmt.Sprintf("%s, %d clients: CPU per request, large vs small store", r.Scenario, r.Clients), "<= 1.10", r.CPURatio, r.CPURatio <= 1.10})
	}
	for _, p := range rep.Phases {
		switch p.Name {
		case feedName:
			gs = append(gs, goal{"feed from position 0, events/s vs COPY floor", ">= 0.5", p.VsFloor, p.VsFloor >= 0.5})
		case rebuildName:
			gs = append(gs, goal{"projections rebuild, events/s vs COPY floor", ">= 0.25", p.VsFloor, p.VsFloor >= 0.25})
		}
	}
	if len(rep.Startup) == 2 && rep.Startup[0].median() > 0 {
		x := float64(rep.Startup[1].median()) / float64(rep.Startup[0].median())
		gs = append(gs, goal{"start-up (to /readyz 200), large vs small store", "<= 1.5", x, x <= 1.5})
	}
	if f := rep.LargeDisk; f.RawJSON > 0 {
		x := float64(f.Total()) / float64(f.RawJSON)
		gs = append(gs, goal{"bytes on disk per event (events, indexes, TOAST, read models) vs raw JSON", "<= 2", x, x <= 2})
	}
	gs = append(gs, goal{"failed requests", "0", float64(rep.Errors), rep.Errors == 0},
		goal{"acknowledged writes missing", "0", float64(rep.LostWrites), rep.LostWrites == 0})
	rep.Goals = gs
}

func (rep *scaleReport) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", rep.Machine)
	for _, s := range rep.Seeds {
		fmt.Fprintf(w, "%s store: %d orders, %d events, seeded in %s (%.0f events/s), vacuumed in %s\n",
			s.Store, s.Orders, s.Events, s.Copied.Round(time.Second), s.EventsPerS, s.Vacuumed.Round(time.Second))
	}
	fmt.Fprintf(w, "\nrequests, large store vs small store (CPU/op is the server's + PostgreSQL's):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclients\tsmall ops/s\tlarge ops/s\tratio\tsmall CPU/op\tlarge CPU/op\tratio\tsmall p99\tlarge p99\terrors\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Scenario, r.Clients, r.Small.OpsPerS, r.Large.OpsPerS, fmtRatio(r.OpsRatio),
			fmtDur(r.Small.ServerCPU+r.Small.DatabaseCPU), fmtDur(r.Large.ServerCPU+r.Large.DatabaseCPU), fmtRatio(r.CPURatio),
			fmtDur(r.Small.P99), fmtDur(r.Large.P99), r.Small.Errors+r.Large.Errors)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nthe large store, every event once:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pass\tevents\ttime\tevents/s\tvs COPY floor\tCPU/event: process\tdatabase\t")
	for _, p := range rep.Phases {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f\t%s\t%s\t%s\t\n", p.Name, p.Events, p.Took.Round(10*time.Millisecond), p.EventsPerS, fmtRatio(p.VsFloor),
			fmtNs(p.ProcessCPU), fmtNs(p.DatabaseCPU))
	}
	tw.Flush()
	for _, p := range rep.Phases {
		fmt.Fprintf(w, "  %s: %s\n", p.Name, p.How)
	}

	fmt.Fprintf(w, "\nstart-up: %s\n", rep.describeStartup())
	fmt.Fprintf(w, "disk, small store: %s\n", describeFootprint(rep.SmallDisk))
	fmt.Fprintf(w, "disk, large store: %s\n", describeFootprint(rep.LargeDisk))

	printGoals(w, rep.Goals)
}

// fmtNs shows a small duration in microseconds with a decimal.
func fmtNs(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}

func (rep *scaleReport) write(path string) error { return writeJSON(path, rep) }
