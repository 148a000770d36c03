package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestServeLifeCycle runs the binary's run function as production does:
// migrations at start, a real listener, readiness, a command, and a
// graceful shutdown when the context ends.
func TestServeLifeCycle(t *testing.T) {
	// Given a fresh, empty database (migrations are undone so serve must
	// apply them itself)
	url := pgtest.NewURL(t)
	dropSchema(t, url)

	// When the service starts on it
	addr, stop := startServer(t, url)
	base := "http://" + addr

	// Then it is ready, serves commands, and stops cleanly
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d", resp.StatusCode)
	}
	resp, err = authed.Post(base+"/v1/orders", "application/json",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("create = %d, ETag %s", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v after shutdown", err)
	}
}

// startServer runs the service on a free port, as `orderapi serve` does,
// and returns its address and a function that shuts it down and returns
// run's result.
func startServer(t *testing.T, databaseURL string) (addr string, stop func() error) {
	t.Helper()
	return startServerLogging(t, databaseURL, io.Discard)
}

// startServerLogging is startServer, with the server's log lines written
// to log too.
func startServerLogging(t *testing.T, databaseURL string, log io.Writer) (addr string, stop func() error) {
	t.Helper()
	return startServerEnv(t, devAuth(t, map[string]string{
		"DATABASE_URL":  databaseURL,
		"ORDERAPI_ADDR": "127.0.0.1:0",
	}), log)
}

// manyRequestsEnv raises the rate limits for tests that send one caller's
// requests by the hundred within a second, more than the defaults allow:
// the limits still count every request, and never refuse one there.
var manyRequestsEnv = map[string]string{
	"ORDERAPI_RATE_COMMANDS": "1000000/s burst 1000000",
	"ORDERAPI_RATE_READS":    "1000000/s burst 1000000",
}

// startServerWith is startServer, in development mode, with more
// variables set.
func startServerWith(t *testing.T, databaseURL string, vars map[string]string, log io.Writer) (addr string, stop func() error) {
	t.Helper()
	all := map[string]string{"DATABASE_URL": databaseURL, "ORDERAPI_ADDR": "127.0.0.1:0"}
	maps.Copy(all, vars)
	return startServerEnv(t, devAuth(t, all), log)
}

// startServerEnv is startServerLogging with the environment vars.
func startServerEnv(t *testing.T, vars map[string]string, log io.Writer) (addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, logs := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"orderapi", "serve"}, env(vars), io.MultiWriter(logs, log))
		logs.Close()
	}()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return after the context ended")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return waitForAddr(t, stdout), stop
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := map[string]map[string]string{
		"log format":       {"LOG_FORMAT": "xml"},
		"log level":        {"LOG_LEVEL": "loud"},
		"default currency": {"ORDERAPI_DEFAULT_CURRENCY": "usd"},
		"database url":     {"DATABASE_URL": "postgres://[::1"},
		"idempotency ttl":  {"ORDERAPI_IDEMPOTENCY_TTL": "1 day"},
		"zero ttl":         {"ORDERAPI_IDEMPOTENCY_TTL": "0s"},
		"trace sampler":    {"OTEL_TRACES_SAMPLER": "sometimes"},
		"otlp over grpc":   {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"},
	}
	for name, vars := range tests {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), []string{"orderapi", "serve"}, env(vars), io.Discard)
			if err == nil {
				t.Fatal("run accepted a bad configuration")
			}
		})
	}
	if err := run(context.Background(), []string{"orderapi", "frobnicate"}, env(nil), io.Discard); err == nil {
		t.Error("run accepted an unknown command")
	}
}

func TestMigrateCommand(t *testing.T) {
	url := pgtest.NewURL(t)
	dropSchema(t, url)
	var out strings.Builder
	if err := run(context.Background(), []string{"orderapi", "migrate"}, env(map[string]string{"DATABASE_URL": url}), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Errorf("log = %s", out.String())
	}
}

// waitForAddr reads JSON log lines until the "serving" line and returns
// its address.
func waitForAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "serving" {
				found <- line.Addr
				break
			}
		}
		io.Copy(io.Discard, r) // keep the pipe flowing
	}()
	select {
	case addr := <-found:
		return addr
	case <-time.After(30 * time.Second):
		t.Fatal("the server never logged its address")
		return ""
	}
}

// TestMigrateRefusesADatabaseNotInUTF8: text the API accepts would be
// stored as other characters, or refused at the first command with one
// the encoding lacks.
func TestMigrateRefusesADatabaseNotInUTF8(t *testing.T) {
	t.Parallel()
	// Given a LATIN1 database on the test server
	admin := pgtest.Connect(t, pgtest.NewURL(t))
	ctx := context.Background()
	name := "orderapi_latin1_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	cfg := admin.Config()
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)

	// When it is migrated, or checked
	for _, cmd := range []string{"migrate", "check"} {
		err := run(ctx, []string{"orderapi", cmd}, env(map[string]string{"DATABASE_URL": url}), io.Discard)
		// Then each refuses, saying why
		if err == nil || !strings.Contains(err.Error(), "encoding is LATIN1") {
			t.Errorf("%s = %v, want a refusal naming the encoding", cmd, err)
		}
	}
}
