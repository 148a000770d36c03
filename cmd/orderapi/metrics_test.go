package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestServeMetrics: the binary serves GET /metrics on the API's listener,
// fed by the HTTP layer and the service and read from the pool and the
// projections at scrape time.
func TestServeMetrics(t *testing.T) {
	// Given the service running
	addr, _ := startServer(t, pgtest.NewURL(t))
	base := "http://" + addr

	// When an order is created and the metrics scraped
	resp, err := authed.Post(base+"/v1/orders", "application/json",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d", resp.StatusCode)
	}

	// Then each source has its say, in the text format
	want := []string{
		`orderapi_http_requests_total{method="POST",route="/v1/orders",status="201"} 1`,
		`orderapi_commands_total{command="create_order",outcome="ok"} 1`,
		`orderapi_events_appended_total{type="OrderCreated"} 1`,
		`orderapi_db_pool_max_conns `,
		`orderapi_projection_lag_events{projection="analytics"} `,
		`orderapi_clock_skew_seconds `,
		`orderapi_log_lines_dropped_total 0`,
		`go_goroutines `,
	}
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := authed.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Fatalf("GET /metrics = %d, %s", resp.StatusCode, ct)
		}
		body = string(data)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s:\n%s", missing, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeMetricsOnTheirOwnAddress: with ORDERAPI_METRICS_ADDR, /metrics
// is served there and no more on the API's listener, and stops with the
// service.
func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	// Given the service started with a metrics address
	logs := &lockedBuilder{}
	addr, stop := startServerWith(t, pgtest.NewURL(t), map[string]string{"ORDERAPI_METRICS_ADDR": "127.0.0.1:0"}, logs)
	var metricsAddr string
	for deadline := time.Now().Add(5 * time.Second); metricsAddr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(logs.String(), "\n") {
			var line struct{ Message, Addr string }
			if json.Unmarshal([]byte(l), &line) == nil && line.Message == "serving metrics" {
				metricsAddr = line.Addr
			}
		}
	}
	if metricsAddr == "" || metricsAddr == addr {
		t.Fatalf("metrics served at %q, the API at %s; log:\n%s", metricsAddr, addr, logs)
	}

	// Then the metrics are there, with the headers every answer carries
	if body := getText(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(body, "orderapi_db_pool_max_conns ") {
		t.Errorf("metrics:\n%s", body)
	}
	head, err := http.Head("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if got := head.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("the metrics listener's answer: X-Content-Type-Options %q, want nosniff", got)
	}
	// and not on the API's address
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the API's address = %d, want 404", resp.StatusCode)
	}

	// When the service stops, so does the metrics listener
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("the metrics listener still answers after shutdown: %d", resp.StatusCode)
	}
}
