package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/tracing/otlpsink"
)

// The tracing pairs of scenarios, run with BENCH_OTEL=1: add item and get
// order against two servers on two fresh databases of their own, one with
// tracing off and one tracing a tenth of its requests to an OTLP endpoint
// in this process, so that nothing but tracing tells them apart.
const (
	tracingOffAddName = "add item (tracing off)"
	tracingOnAddName  = "add item (tracing on)"
	tracingOffGetName = "get order (tracing off)"
	tracingOnGetName  = "get order (tracing on)"
)

// tracingPairs are the pairs, off then on, each on the tracing servers.
var tracingPairs = [][2]string{{tracingOffAddName, tracingOnAddName}, {tracingOffGetName, tracingOnGetName}}

// isTracingScenario says whether a scenario is one of the pairs'.
func isTracingScenario(name string) bool {
	for _, p := range tracingPairs {
		if name == p[0] || name == p[1] {
			return true
		}
	}
	return false
}

// tracingSampleRatio is the share of requests the tracing-on server
// samples: a production setting, not a worst case.
const tracingSampleRatio = "0.1"

// tracingCostGoal bounds tracing's CPU per operation over none.
const tracingCostGoal = 1.05

// tracingServers are the pairs' two servers, each on a fresh database of
// its own, the OTLP endpoint the one exports to, and what each was
// seeded with and acknowledged.
type tracingServers struct {
	sink          *otlpsink.Sink
	off, on       *server
	offURL, onURL string
	ledgers       map[*server]*ledger
	reads         map[*server]readData
}

// startTracingServers starts the endpoint and the two servers: tracing
// off (OTEL_SDK_DISABLED, whatever the environment says), and tracing on,
// sampled parent-based at tracingSampleRatio, exporting over OTLP/HTTP.
// Both are seeded for get order as the main server is.
func startTracingServers(ctx context.Context, cfg config, bin string, dbs *databases, tmp string, auth *tokens, stdout io.Writer) (_ *tracingServers, err error) {
	sink, err := otlpsink.Start(false)
	if err != nil {
		return nil, err
	}
	ts := &tracingServers{sink: sink, offURL: dbs.tracingOffURL, onURL: dbs.tracingOnURL}
	defer func() {
		if err != nil {
			ts.stop()
		}
	}()
	if ts.off, err = startServer(ctx, bin, ts.offURL, filepath.Join(tmp, "server-tracing-off.log"), auth, "OTEL_SDK_DISABLED=true"); err != nil {
		return ts, err
	}
	if ts.on, err = startServer(ctx, bin, ts.onURL, filepath.Join(tmp, "server-tracing-on.log"), auth,
		"OTEL_SDK_DISABLED=false", "OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT="+sink.URL(),
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG="+tracingSampleRatio,
		"OTEL_SERVICE_NAME=orderbench"); err != nil {
		return ts, err
	}
	ts.ledgers = map[*server]*ledger{ts.off: newLedger(), ts.on: newLedger()}
	ts.reads = map[*server]readData{}
	if cfg.runs(tracingOffGetName) || cfg.runs(tracingOnGetName) {
		for _, s := range []*server{ts.off, ts.on} {
			fmt.Fprintf(stdout, "seeding %d orders on a tracing server\n", cfg.SeedOrders)
			if ts.reads[s], err = seedOrders(ctx, s.addr, auth, cfg.SeedOrders, 2); err != nil {
				return ts, err
			}
		}
	}
	return ts, nil
}

// serverOf is the server a tracing scenario runs against.
func (ts *tracingServers) serverOf(name string) *server {
	if strings.Contains(name, "(tracing on)") {
		return ts.on
	}
	return ts.off
}

// stop stops the servers, then the endpoint, once the tracing server has
// exported what it had left.
func (ts *tracingServers) stop() error {
	var err error
	for _, s := range []*server{ts.off, ts.on} {
		if s != nil {
			if serr := s.stop(); serr != nil && err == nil {
				err = serr
			}
		}
	}
	ts.off, ts.on = nil, nil
	if cerr := ts.sink.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// verify checks every acknowledged add on both servers' databases.
func (ts *tracingServers) verify(ctx context.Context) (lost int, err error) {
	for srv, dbURL := range map[*server]string{ts.off: ts.offURL, ts.on: ts.onURL} {
		n, err := checkLedger(ctx, dbURL, ts.ledgers[srv])
		if err != nil {
			return 0, err
		}
		lost += n
	}
	return lost, nil
}

// traceCount is what the tracing server exported to the endpoint by the
// end of the run.
type traceCount struct {
	Exports int `json:"exports"`
	Spans   int `json:"spans"`
}

// tracingGoals: with tracing on, sampled at a tenth, add item and get
// order cost within tracingCostGoal of tracing off in CPU per operation,
// server and database together, at each concurrency measured.
func (rep report) tracingGoals() []goal {
	return rep.pairGoals(tracingPairs, tracingCostGoal, tracingName, "tracing on ("+tracingSampleRatio+" sampled) vs off")
}

// tracingName names a tracing pair by its scenario.
func tracingName(pair [2]string) string { return strings.TrimSuffix(pair[0], " (tracing off)") }

// printTracing prints the pairs' medians, then each concurrency's ratios
// round by round, and what was exported.
func (rep report) printTracing(w io.Writer) {
	title := "tracing (on: parentbased_traceidratio " + tracingSampleRatio + ", OTLP/HTTP to an endpoint in the benchmark's process)"
	if !rep.printPairs(w, tracingPairs, title, "on / off", tracingName) {
		return
	}
	if c := rep.Traces; c != nil {
		fmt.Fprintf(w, "exported: %d spans in %d exports\n", c.Spans, c.Exports)
	}
}
