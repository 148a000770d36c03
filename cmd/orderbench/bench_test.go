package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) {
	// The benchmark starts its bare handler by running its own binary,
	// which in a test is the test binary.
	if len(os.Args) == 4 && os.Args[1] == bareHandlerArg {
		if err := serveBare(os.Args[2], os.Args[3]); err != nil {
			panic(err)
		}
		return
	}
	pgtest.Main(m)
}

// TestBenchRunsEndToEnd runs the whole benchmark, briefly: what `make
// bench` runs, so that it keeps working between the runs that measure.
func TestBenchRunsEndToEnd(t *testing.T) {
	// Given a database server (the benchmark makes databases of its own
	// there, and drops them)
	env := map[string]string{
		"BENCH_CLIENTS":       "1,2",
		"BENCH_ROUNDS":        "1",
		"BENCH_WARMUP":        "50ms",
		"BENCH_WINDOW":        "200ms",
		"BENCH_SEED_ORDERS":   "20",
		"BENCH_LONG":          "10,150",
		"BENCH_LONG_COMMANDS": "6",
	}

	// When it runs
	rep, stdout := benchWith(t, env)

	// Then every scenario was measured at every concurrency, without an
	// error or a lost write
	if rep.Errors != 0 || rep.LostWrites != 0 {
		t.Errorf("%d errors, %d lost writes", rep.Errors, rep.LostWrites)
	}
	measured := map[string]bool{}
	for _, r := range rep.Rows {
		if r.Median.Ops == 0 {
			t.Errorf("%s at %d clients: no operation measured", r.Scenario, r.Clients)
		}
		if _, ok := floorOf[r.Scenario]; ok && r.Ratio == 0 {
			t.Errorf("%s at %d clients: no ratio to its floor", r.Scenario, r.Clients)
		}
		if _, ok := floorOf[r.Scenario]; ok && r.Median.DatabaseCPU > 0 && r.Efficiency == 0 {
			t.Errorf("%s at %d clients: CPU measured, but no efficiency", r.Scenario, r.Clients)
		}
		measured[resultKey(r.Scenario, r.Clients)] = true
	}
	for _, name := range []string{floorCommandName, floorPipelinedName, floorReadName, addItemName, createOrderName, getOrderName, listOrdersName, bareReadName,
		placeOrderName, getPlacedOrderName, placeClearName, getPlacedClearName} {
		for _, c := range []int{1, 2} {
			if !measured[resultKey(name, c)] {
				t.Errorf("%s at %d clients not measured", name, c)
			}
		}
	}
	// and the long-stream scenario ran with and without snapshots
	if len(rep.LongStreams) != 4 {
		t.Fatalf("long streams: %+v", rep.LongStreams)
	}
	for _, l := range rep.LongStreams {
		if l.P50 == 0 || l.Errors != 0 {
			t.Errorf("long stream %+v", l)
		}
	}
	// and the table names the goals, sealing's cost among them, with the
	// rounds' ratios printed
	if !strings.Contains(stdout, "goals:") {
		t.Errorf("no goals in the output:\n%s", stdout)
	}
	if gs := rep.sealingGoals(); len(gs) != 4 || !strings.Contains(stdout, "sealed / clear, per round") {
		t.Errorf("sealing goals %+v\n%s", gs, stdout)
	}
}

// benchWith runs the benchmark with env, on a database server of the
// test's unless env names one, and returns its report and what it
// printed.
func benchWith(t *testing.T, env map[string]string) (report, string) {
	t.Helper()
	if env["DATABASE_URL"] == "" {
		env["DATABASE_URL"] = pgtest.NewURL(t)
	}
	env["BENCH_OUT"] = filepath.Join(t.TempDir(), "results.json")
	var stdout bytes.Buffer
	if err := run(t.Context(), func(k string) string { return env[k] }, &stdout); err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	var rep report
	readJSON(t, env["BENCH_OUT"], &rep)
	return rep, stdout.String()
}

// readJSON reads the JSON a run wrote into v.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
