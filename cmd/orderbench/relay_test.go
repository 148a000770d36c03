package main

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
)

// TestBenchMeasuresTheRelay runs the relay's pair of scenarios briefly,
// against a real NATS server.
func TestBenchMeasuresTheRelay(t *testing.T) {
	// Given a database server and a NATS server with JetStream
	natsURL := natstest.URL(t)
	env := map[string]string{
		"BENCH_NATS_URL":    natsURL,
		"BENCH_CLIENTS":     "2",
		"BENCH_ROUNDS":      "1",
		"BENCH_WARMUP":      "50ms",
		"BENCH_WINDOW":      "300ms",
		"BENCH_SEED_ORDERS": "10",
		"BENCH_SCENARIOS":   relayOffName + "," + relayOnName,
	}

	// When the benchmark runs only them
	rep, stdout := benchWith(t, env)

	// Then both were measured, without an error or a lost write
	if rep.Errors != 0 || rep.LostWrites != 0 {
		t.Errorf("%d errors, %d lost writes", rep.Errors, rep.LostWrites)
	}
	off, on, ok := rep.relayRows()
	if !ok || off.Median.Ops == 0 || on.Median.Ops == 0 || len(rep.Rows) != 2 {
		t.Fatalf("rows: %+v", rep.Rows)
	}
	// and the relay's lag was read while it ran, and drained after it
	if on.Median.Relay == nil || on.Median.Relay.Drain == 0 || off.Median.Relay != nil {
		t.Errorf("relay figures: on %+v, off %+v", on.Median.Relay, off.Median.Relay)
	}
	// and the stream held exactly the feed's events, then was deleted
	c := rep.Stream
	if c == nil || !c.Exact || c.FeedEvents == 0 {
		t.Fatalf("stream: %+v", c)
	}
	_, js := natstest.JetStream(t, natsURL)
	if _, err := js.Stream(t.Context(), c.Stream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("stream %s after the run: %v", c.Stream, err)
	}
	// and the goals name the relay's cost
	if len(rep.relayGoals()) != 4 || !strings.Contains(stdout, "relay on vs off") {
		t.Errorf("relay goals: %+v\n%s", rep.relayGoals(), stdout)
	}
}

func TestRelayScenariosNeedNATS(t *testing.T) {
	// Given no BENCH_NATS_URL, even with the scenarios named
	env := map[string]string{"BENCH_SCENARIOS": relayOnName}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	// Then they do not run
	if cfg.runsRelay() {
		t.Error("relay scenarios run without BENCH_NATS_URL")
	}
	// and with it, they run among all the others
	env = map[string]string{"BENCH_NATS_URL": "nats://127.0.0.1:4222"}
	if cfg, err = loadConfig(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !cfg.runs(relayOffName) || !cfg.runs(relayOnName) || !cfg.runs(addItemName) {
		t.Errorf("with BENCH_NATS_URL: %+v", cfg)
	}
}

func TestListenerPIDFindsTheListener(t *testing.T) {
	// Given this process listens on a port
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Then the listener's pid is this process's
	if got := listenerPID(ln.Addr().(*net.TCPAddr).Port); got != os.Getpid() {
		t.Errorf("listenerPID = %d, want %d", got, os.Getpid())
	}
}
