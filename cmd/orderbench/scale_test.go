package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestBenchScaleRunsEndToEnd runs bench-scale at a tiny size: what `make
// bench-scale` runs, so that it keeps working between the runs that
// measure.
func TestBenchScaleRunsEndToEnd(t *testing.T) {
	// Given a database server and a tiny large store
	env := map[string]string{
		"DATABASE_URL":       pgtest.NewURL(t),
		"BENCH_OUT":          filepath.Join(t.TempDir(), "results.json"),
		"BENCH_SCALE_EVENTS": "3000",
		"BENCH_SCALE_ORDERS": "300",
		"BENCH_SEED_ORDERS":  "60",
		"BENCH_CLIENTS":      "2",
		"BENCH_ROUNDS":       "1",
		"BENCH_WARMUP":       "50ms",
		"BENCH_WINDOW":       "300ms",
		"BENCH_SCALE_STARTS": "2",
	}
	cfg, err := loadScaleConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}

	// When it runs
	var stdout bytes.Buffer
	if err := runScale(t.Context(), cfg, &stdout); err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}

	// Then it said how much disk it needed, measured every request on
	// both stores and went through every event of the large one in each
	// pass, without an error or a lost write
	var rep scaleReport
	readJSON(t, env["BENCH_OUT"], &rep)
	if rep.DiskNeeded == 0 || !strings.Contains(stdout.String(), "needs about") {
		t.Errorf("no disk estimate:\n%s", stdout.String())
	}
	if rep.Errors != 0 || rep.LostWrites != 0 || len(rep.Rows) != len(scaleScenarios) {
		t.Errorf("%d errors, %d lost writes, %d rows", rep.Errors, rep.LostWrites, len(rep.Rows))
	}
	for _, r := range rep.Rows {
		if r.Small.Ops == 0 || r.Large.Ops == 0 || r.CPURatio == 0 {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}
	passes := map[string]bool{}
	for _, p := range rep.Phases {
		passes[p.Name] = true
		if p.Events < 3000 || p.EventsPerS == 0 || p.Name != copyFloorName && p.VsFloor == 0 {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	for _, name := range []string{copyFloorName, feedName, rebuildName, verifyName, catchUpName} {
		if !passes[name] {
			t.Errorf("%s not measured", name)
		}
	}
	if rep.LargeDisk.Events != 3000 || rep.LargeDisk.RawJSON == 0 || len(rep.Startup) != 2 || len(rep.Startup[1].Runs) != 2 {
		t.Errorf("footprint %+v, start-up %+v", rep.LargeDisk, rep.Startup)
	}
	// and named the goals
	if len(rep.Goals) == 0 || !strings.Contains(stdout.String(), "goals:") {
		t.Errorf("no goals in the output:\n%s", stdout.String())
	}
}

// TestSeedFlags: orderbench seed reads its sizes and refuses arguments.
func TestSeedFlags(t *testing.T) {
	f, err := parseSeedFlags([]string{"-events", "2000", "-orders", "200", "-seed", "9"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil || f.cfg.Events != 2000 || f.cfg.Orders != 200 || f.cfg.Seed != 9 || f.cfg.Principal != seedPrincipal {
		t.Fatalf("%+v, %v", f, err)
	}
	if _, err := parseSeedFlags([]string{"extra"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil {
		t.Error("an argument was accepted")
	}
}
