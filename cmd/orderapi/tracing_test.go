package main

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/tracing/otlpsink"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// createOrder creates an order on the service at addr, with headers in
// name, value pairs.
func createOrder(t *testing.T, addr string, headers ...string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+addr+"/v1/orders",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d", resp.StatusCode)
	}
}

// TestServeTracesToTheConfiguredCollector: with an OTLP endpoint set,
// serve exports a request's span and its statements' to it, by the time
// it has shut down.
func TestServeTracesToTheConfiguredCollector(t *testing.T) {
	// Given a collector, and the service told of it by the OTEL_* variables
	sink := otlpsink.ForTest(t)
	var log bytes.Buffer
	addr, stop := startServerWith(t, pgtest.NewURL(t), map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": sink.URL(),
		"OTEL_SERVICE_NAME":           "orderapi-test",
	}, &log)

	// When an order is created, continuing a caller's trace, and the service stops
	const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
	createOrder(t, addr, "traceparent", "00-"+caller+"-00f067aa0ba902b7-01")
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Then the collector has the request's span, in the caller's trace,
	// and the append's within it, from the service named
	byName := map[string]*tracepb.Span{}
	for _, s := range sink.Spans() {
		byName[s.Name] = s
	}
	req, insert := byName["POST /v1/orders"], byName["INSERT events"]
	if req == nil || insert == nil {
		t.Fatalf("spans %v, want POST /v1/orders and INSERT events", keysOf(byName))
	}
	if hex.EncodeToString(req.TraceId) != caller || !bytes.Equal(insert.TraceId, req.TraceId) {
		t.Errorf("request in trace %x, append in %x; want both in %s", req.TraceId, insert.TraceId, caller)
	}
	if e := sink.Exports(); e[0].Resource["service.name"] != "orderapi-test" {
		t.Errorf("resource %v", e[0].Resource)
	}
	if !strings.Contains(log.String(), "tracing on") {
		t.Error("the log does not say tracing is on")
	}
}

// TestServeTracesNothingWhenTracingIsOff: an endpoint set, but the
// exporter none or the SDK disabled, nothing is exported.
func TestServeTracesNothingWhenTracingIsOff(t *testing.T) {
	for _, off := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "none"},
		{"OTEL_SDK_DISABLED": "true"},
	} {
		// Given a collector, and the service told of it, and to trace nothing
		sink := otlpsink.ForTest(t)
		off["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.URL()
		addr, stop := startServerWith(t, pgtest.NewURL(t), off, io.Discard)

		// When an order is created and the service stops
		createOrder(t, addr, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if err := stop(); err != nil {
			t.Fatal(err)
		}

		// Then nothing was exported
		if n, _ := sink.Counts(); n != 0 {
			t.Errorf("%v: %d exports", off, n)
		}
	}
}

func keysOf(m map[string]*tracepb.Span) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
