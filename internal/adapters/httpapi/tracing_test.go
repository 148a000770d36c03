package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// tracedAPI is the real server over a fresh database, tracing requests
// and their statements, every trace sampled unless the caller's says
// otherwise, into an exporter in memory.
type tracedAPI struct {
	*testAPI
	spans *tracetest.InMemoryExporter
}

func newTracedAPI(t *testing.T) *tracedAPI {
	t.Helper()
	return newTracedAPIWith(t, map[string]string{})
}

// newTracedAPIWith is newTracedAPI with tracing configured by env, as the
// service's OTEL_* settings configure it.
func newTracedAPIWith(t *testing.T, env map[string]string) *tracedAPI {
	t.Helper()
	env["OTEL_TRACES_EXPORTER"] = "otlp"
	cfg, err := tracing.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	exporter := tracetest.NewInMemoryExporter()
	tr, err := tracing.New(context.Background(), cfg, tracing.WithExporter(exporter))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	a := newAPIOn(t, pgtest.NewTraced(t, postgres.NewTracer(tr.Provider())), func(c *Config) { c.Tracing = tr })
	return &tracedAPI{testAPI: a, spans: exporter}
}

// serverSpans waits for the server spans of n requests, then returns
// every span ended by then. The server span ends as the answer is sent,
// so it may end just after the client has it.
func (a *tracedAPI) serverSpans(n int) (server, all tracetest.SpanStubs) {
	a.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		server, all = nil, a.spans.GetSpans()
		for _, s := range all {
			if s.SpanKind == trace.SpanKindServer {
				server = append(server, s)
			}
		}
		if len(server) >= n || time.Now().After(deadline) {
			return server, all
		}
	}
}

// logLines are the server's log lines of the request with the id.
func (a *testAPI) logLines(requestID string) []map[string]any {
	a.t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(a.logs.String()), "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(l), &line) == nil && line["request_id"] == requestID {
			lines = append(lines, line)
		}
	}
	return lines
}

func attr(s tracetest.SpanStub, key string) string {
	set := attribute.NewSet(s.Attributes...)
	v, _ := set.Value(attribute.Key(key))
	return v.String()
}

func TestACommandIsOneTraceFromRequestToSQLToItsEvents(t *testing.T) {
	t.Parallel()
	// Given a traced server with an order
	a := newTracedAPI(t)
	o := a.create(uuid.New())
	a.spans.Reset()

	// When an item is added over HTTP, its name like no other value
	const probe = "Zanzibar spice tin 7f3a"
	r := a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": probe, "quantity": 2, "unit_price": "4.20",
	}).want(t, http.StatusOK)

	// Then the request is one server span, named by its route
	server, all := a.serverSpans(1)
	if len(server) != 1 {
		t.Fatalf("%d server spans, want 1: %v", len(server), names(all))
	}
	req := server[0]
	if req.Name != "POST /v1/orders/{order_id}/items" || attr(req, "http.route") != "/v1/orders/{order_id}/items" {
		t.Errorf("server span %q, http.route %q", req.Name, attr(req, "http.route"))
	}
	// and its statements are spans within it, in its trace, the append among them
	within := map[trace.SpanID]bool{req.SpanContext.SpanID(): true}
	for _, s := range all {
		within[s.SpanContext.SpanID()] = true
	}
	var statements []string
	for _, s := range all {
		if s.SpanKind == trace.SpanKindServer {
			continue
		}
		if s.SpanContext.TraceID() != req.SpanContext.TraceID() || !within[s.Parent.SpanID()] {
			t.Errorf("span %q is not within the request's", s.Name)
		}
		if attr(s, "db.system.name") == "postgresql" {
			statements = append(statements, s.Name)
		}
	}
	if !contains(statements, "INSERT events") {
		t.Errorf("database spans %v, want INSERT events among them", statements)
	}
	// and no span holds the values the request sent to the database
	for _, s := range all {
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.String(), "Zanzibar") {
				t.Errorf("span %q, attribute %s holds the product's name: %s", s.Name, kv.Key, kv.Value.String())
			}
		}
	}

	// and the request's log lines carry its trace and span
	traceID, spanID := req.SpanContext.TraceID().String(), req.SpanContext.SpanID().String()
	lines := a.logLines(r.Header.Get("X-Request-Id"))
	if len(lines) == 0 {
		t.Fatal("no log line of the request")
	}
	for _, l := range lines {
		if l["trace_id"] != traceID || l["span_id"] != spanID {
			t.Errorf("log line %v, want trace_id %s, span_id %s", l, traceID, spanID)
		}
	}

	// and the event it appended leads to its trace, in its order's
	// history and in the feed
	history := a.events(o.ID)
	added := history[len(history)-1]
	if added.Type != "OrderItemAdded" || deref(added.Metadata.TraceID) != traceID || deref(added.Metadata.SpanID) != spanID {
		t.Errorf("history: %s metadata %+v, want trace %s, span %s", added.Type, added.Metadata, traceID, spanID)
	}
	page := a.feedPage("")
	fed := page.Events[len(page.Events)-1]
	if fed.EventID != added.EventID || deref(fed.Metadata.TraceID) != traceID || deref(fed.Metadata.SpanID) != spanID {
		t.Errorf("feed: event %s metadata %+v, want trace %s, span %s", fed.EventID, fed.Metadata, traceID, spanID)
	}
}

func TestARequestContinuesItsCallersTrace(t *testing.T) {
	t.Parallel()
	// Given a traced server, and a caller whose trace is sampled
	a := newTracedAPI(t)
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"

	// When it creates an order with its traceparent (and tracestate)
	r := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()},
		"traceparent", "00-"+callerTrace+"-"+callerSpan+"-01", "tracestate", "shop=1").want(t, http.StatusCreated)

	// Then the request's span continues that trace, as the caller's span's child
	server, _ := a.serverSpans(1)
	if len(server) != 1 {
		t.Fatalf("%d server spans", len(server))
	}
	req := server[0]
	if req.SpanContext.TraceID().String() != callerTrace || req.Parent.SpanID().String() != callerSpan || !req.Parent.IsRemote() ||
		req.SpanContext.TraceState().Get("shop") != "1" {
		t.Errorf("server span in trace %s, parent %s (remote %t), tracestate %q; want the caller's",
			req.SpanContext.TraceID(), req.Parent.SpanID(), req.Parent.IsRemote(), req.SpanContext.TraceState())
	}
	// and its event carries that trace
	o := r.order(t)
	ev := a.events(o.ID)[0]
	if deref(ev.Metadata.TraceID) != callerTrace || deref(ev.Metadata.SpanID) != req.SpanContext.SpanID().String() {
		t.Errorf("event metadata %+v, want trace %s", ev.Metadata, callerTrace)
	}
}

func TestAnUnsampledTraceIsLoggedButNotRecorded(t *testing.T) {
	t.Parallel()
	// Given a traced server, and a caller whose trace is not sampled
	a := newTracedAPI(t)
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

	// When it creates an order with its traceparent
	r := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()},
		"traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-00").want(t, http.StatusCreated)

	// Then nothing is exported, the sampler following the caller
	time.Sleep(50 * time.Millisecond)
	if spans := a.spans.GetSpans(); len(spans) != 0 {
		t.Errorf("spans of an unsampled trace: %v", names(spans))
	}
	// and the log lines carry the caller's trace all the same, with no
	// span of the service's
	for _, l := range a.logLines(r.Header.Get("X-Request-Id")) {
		if _, ok := l["span_id"]; l["trace_id"] != callerTrace || ok {
			t.Errorf("log line %v, want trace_id %s and no span_id", l, callerTrace)
		}
	}
	// but its event leads to no trace: none was kept
	o := r.order(t)
	if m := a.events(o.ID)[0].Metadata; m.TraceID != nil || m.SpanID != nil {
		t.Errorf("event metadata %+v, want no trace", m)
	}
}

func TestACallersSampledTraceIsNotTheRequestsWhenTheSamplerDropsIt(t *testing.T) {
	t.Parallel()
	// Given a server whose sampler ignores the caller's decision, and drops all
	a := newTracedAPIWith(t, map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"})

	// When a caller whose trace is sampled creates an order
	r := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()},
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").want(t, http.StatusCreated)

	// Then the event names no trace: the service kept none of the request
	if m := a.events(r.order(t).ID)[0].Metadata; m.TraceID != nil || m.SpanID != nil {
		t.Errorf("event metadata %+v, want no trace", m)
	}
	if spans := a.spans.GetSpans(); len(spans) != 0 {
		t.Errorf("spans %v", names(spans))
	}
}

func TestEveryRequestSampledIsTracedAndNoOtherIs(t *testing.T) {
	t.Parallel()
	// Given a server tracing half of the new traces
	a := newTracedAPIWith(t, map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"})

	// When orders are created
	const n = 40
	var orders []string
	for range n {
		orders = append(orders, a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).want(t, http.StatusCreated).order(t).ID)
	}

	// Then each order's event carries a trace exactly when the request
	// was a span, in that trace, and some of each happened
	traced := 0
	for _, id := range orders {
		if a.events(id)[0].Metadata.TraceID != nil {
			traced++
		}
	}
	// (the creates' spans ended long before the reads of their events did)
	all, _ := a.serverSpans(traced)
	spans := map[string]bool{}
	var server []string
	for _, s := range all {
		if s.Name == "POST /v1/orders" {
			spans[s.SpanContext.TraceID().String()] = true
			server = append(server, s.Name)
		}
	}
	for _, id := range orders {
		m := a.events(id)[0].Metadata
		if m.TraceID != nil && !spans[*m.TraceID] {
			t.Errorf("order %s's event names trace %s, which has no server span", id, *m.TraceID)
		}
	}
	if len(server) != traced || traced == 0 || traced == n {
		t.Errorf("%d server spans, %d traced events of %d", len(server), traced, n)
	}
}

func TestUnmatchedRequestsAndProbesAreNotNamedByTheirPath(t *testing.T) {
	t.Parallel()
	// Given a traced server
	a := newTracedAPI(t)

	// When paths no route has are asked for, and the probes
	a.do("GET", "/v1/no/such/"+uuid.NewString(), nil).want(t, http.StatusNotFound)
	a.do("DELETE", "/v1/orders", nil).want(t, http.StatusMethodNotAllowed)
	a.do("BREW", "/v1/orders/"+uuid.NewString(), nil).want(t, http.StatusMethodNotAllowed)
	a.do("GET", "/healthz", nil).want(t, http.StatusOK)
	a.do("GET", "/readyz", nil).want(t, http.StatusOK)

	// Then each unmatched request is a span named by its method alone (a
	// method HTTP does not define by "HTTP"), and the probes are not traced
	server, _ := a.serverSpans(3)
	got := names(server)
	if len(got) != 3 || !contains(got, "GET") || !contains(got, "DELETE") || !contains(got, "HTTP") {
		t.Errorf("server spans %v, want GET, DELETE and HTTP", got)
	}
	for _, s := range server {
		if attr(s, "http.route") != "" {
			t.Errorf("span %s has route %q", s.Name, attr(s, "http.route"))
		}
	}
}

func TestALiveFeedStreamsWhileTraced(t *testing.T) {
	t.Parallel()
	// Given a traced server and a live feed open on it
	a := newTracedAPI(t)
	stream := a.openStream("")

	// When an order is created
	o := a.create(uuid.New())

	// Then the feed streams its event, with the request's trace, through
	// the traced response
	_, e := stream.nextEvent(5 * time.Second)
	if e.OrderID != o.ID || e.Metadata.TraceID == nil {
		t.Errorf("streamed %s of order %s, metadata %+v; want order %s's, traced", e.Type, e.OrderID, e.Metadata, o.ID)
	}
}

func TestWithoutTracingNothingOfATraceIsKept(t *testing.T) {
	t.Parallel()
	// Given a server without tracing
	a := newAPI(t)

	// When a caller sends its sampled trace
	r := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()},
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").want(t, http.StatusCreated)

	// Then neither the log lines nor the event carry it
	for _, l := range a.logLines(r.Header.Get("X-Request-Id")) {
		if _, ok := l["trace_id"]; ok {
			t.Errorf("log line %v has a trace", l)
		}
	}
	o := r.order(t)
	if m := a.events(o.ID)[0].Metadata; m.TraceID != nil || m.SpanID != nil {
		t.Errorf("event metadata %+v, want no trace", m)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var ns []string
	for _, s := range spans {
		ns = append(ns, s.Name)
	}
	return ns
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
