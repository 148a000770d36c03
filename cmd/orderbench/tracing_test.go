package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestBenchMeasuresTracing runs the tracing pairs briefly.
func TestBenchMeasuresTracing(t *testing.T) {
	// Given a database server, whose connections its three servers share
	// with whatever else runs there: a few each suffice for two clients
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "5")
	u.RawQuery = q.Encode()
	env := map[string]string{
		"DATABASE_URL":      u.String(),
		"BENCH_OTEL":        "1",
		"BENCH_CLIENTS":     "2",
		"BENCH_ROUNDS":      "2",
		"BENCH_WARMUP":      "50ms",
		"BENCH_WINDOW":      "300ms",
		"BENCH_SEED_ORDERS": "20",
		"BENCH_SCENARIOS":   strings.Join([]string{tracingOffAddName, tracingOnAddName, tracingOffGetName, tracingOnGetName}, ","),
	}

	// When the benchmark runs only them
	rep, stdout := benchWith(t, env)

	// Then all four were measured, without an error or a lost write
	if rep.Errors != 0 || rep.LostWrites != 0 || len(rep.Rows) != 4 {
		t.Fatalf("%d errors, %d lost writes, rows %+v", rep.Errors, rep.LostWrites, rep.Rows)
	}
	for _, r := range rep.Rows {
		if r.Median.Ops == 0 || len(r.Rounds) != 2 {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}
	// and the tracing server exported spans (a tenth of hundreds of
	// requests), the other none
	if rep.Traces == nil || rep.Traces.Spans == 0 {
		t.Errorf("traces %+v", rep.Traces)
	}
	// and the goals name tracing's cost for both, with the rounds' ratios printed
	if gs := rep.tracingGoals(); len(gs) != 2 || !strings.Contains(stdout, "on / off, per round") {
		t.Errorf("tracing goals %+v\n%s", gs, stdout)
	}
}

func TestTracingScenariosNeedBenchOTel(t *testing.T) {
	// Given the scenarios named without BENCH_OTEL
	env := map[string]string{"BENCH_SCENARIOS": tracingOnAddName}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	// Then they do not run
	if cfg.runsTracing() {
		t.Error("tracing scenarios run without BENCH_OTEL")
	}
	// and with it, they run among all the others
	env = map[string]string{"BENCH_OTEL": "1"}
	if cfg, err = loadConfig(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !cfg.runs(tracingOnGetName) || !cfg.runs(tracingOffAddName) || !cfg.runs(addItemName) {
		t.Errorf("with BENCH_OTEL: %+v", cfg)
	}
	// and another value is refused
	env = map[string]string{"BENCH_OTEL": "yes"}
	if _, err := loadConfig(func(k string) string { return env[k] }); err == nil {
		t.Error("BENCH_OTEL=yes accepted")
	}
}
