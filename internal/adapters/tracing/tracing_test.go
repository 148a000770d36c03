package tracing_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/tracing"
	"github.com/orderapi/orderapi/internal/adapters/tracing/otlpsink"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func start(t *testing.T, env map[string]string) *tracing.Tracing {
	t.Helper()
	cfg, err := load(env)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracing.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestNewIsNilWhenTracingIsOff(t *testing.T) {
	t.Parallel()
	// Given no exporter configured, when tracing starts
	tr := start(t, map[string]string{"OTEL_SERVICE_NAME": "orders"})
	// Then there is nothing to install, and nothing to shut down
	if tr != nil {
		t.Fatalf("New = %+v, want nil", tr)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown of nil: %v", err)
	}
}

func TestSpansReachTheCollectorAsConfigured(t *testing.T) {
	t.Parallel()
	// Given a collector, and tracing configured for it by the environment
	c := otlpsink.ForTest(t)
	tr := start(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": c.URL() + "/otlp",
		"OTEL_EXPORTER_OTLP_HEADERS":  "api-key=s%C3%A9cret",
		"OTEL_SERVICE_NAME":           "orders",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test,service.name=ignored",
	})

	// When a span ends, and tracing shuts down
	_, span := tr.Provider().Tracer("test").Start(context.Background(), "GET /v1/orders/{order_id}")
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Then the collector got it at the endpoint's traces path, with the
	// headers, from the service named, with the resource's attributes
	exports := c.Exports()
	if len(exports) != 1 || len(exports[0].Spans) != 1 || exports[0].Spans[0].Name != "GET /v1/orders/{order_id}" {
		t.Fatalf("exports %v", exports)
	}
	e := exports[0]
	if e.Path != "/otlp/v1/traces" || e.Header.Get("api-key") != "sécret" {
		t.Errorf("path %s, headers %v", e.Path, e.Header)
	}
	if e.Resource["service.name"] != "orders" || e.Resource["deployment.environment.name"] != "test" {
		t.Errorf("resource %v", e.Resource)
	}
}

func TestTheServiceNameDefaultsToTheResourcesThenOrderapi(t *testing.T) {
	t.Parallel()
	for attrs, want := range map[string]string{"service.name=shop-orders": "shop-orders", "": "orderapi"} {
		// Given tracing without OTEL_SERVICE_NAME
		c := otlpsink.ForTest(t)
		tr := start(t, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": c.URL() + "/v1/traces", "OTEL_RESOURCE_ATTRIBUTES": attrs})
		// When a span is exported
		_, span := tr.Provider().Tracer("test").Start(context.Background(), "span")
		span.End()
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Then its service is the resource attributes', else orderapi
		if e := c.Exports(); len(e) != 1 || e[0].Resource["service.name"] != want {
			t.Errorf("%q: exports %v, want service.name %q", attrs, e, want)
		}
	}
}

func TestTheSamplerKeepsWhatItIsToldTo(t *testing.T) {
	t.Parallel()
	sampledParent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true})
	for _, c := range []struct {
		sampler, arg string
		parent       bool
		sampled      bool
	}{
		{"always_off", "", false, false},
		{"traceidratio", "0", false, false},
		{"traceidratio", "1", false, true},
		{"parentbased_traceidratio", "0", false, false},
		// The caller sampled its trace: it is continued, whatever the ratio.
		{"parentbased_traceidratio", "0", true, true},
		{"parentbased_always_off", "", true, true},
		{"always_off", "", true, false},
	} {
		// Given tracing with the sampler
		tr := start(t, map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces",
			"OTEL_TRACES_SAMPLER": c.sampler, "OTEL_TRACES_SAMPLER_ARG": c.arg})
		ctx := context.Background()
		if c.parent {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sampledParent)
		}
		// When a span starts
		_, span := tr.Provider().Tracer("test").Start(ctx, "span")
		// Then it is sampled as the sampler decides
		if got := span.SpanContext().IsSampled(); got != c.sampled {
			t.Errorf("%s %s, sampled parent %t: sampled %t, want %t", c.sampler, c.arg, c.parent, got, c.sampled)
		}
		span.End()
		shutdownQuietly(tr)
	}
}

func TestThePropagatorsReadWhatTheyAreTold(t *testing.T) {
	t.Parallel()
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for propagators, continued := range map[string]bool{"": true, "tracecontext": true, "baggage": false, "none": false} {
		// Given tracing with the propagators
		tr := start(t, map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_PROPAGATORS": propagators})
		// When a request's traceparent is read
		h := http.Header{"Traceparent": []string{traceparent}}
		ctx := tr.Propagator().Extract(context.Background(), propagation.HeaderCarrier(h))
		// Then the trace is continued only by tracecontext
		if got := trace.SpanContextFromContext(ctx).TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736"; got != continued {
			t.Errorf("OTEL_PROPAGATORS=%q: continued %t, want %t", propagators, got, continued)
		}
		shutdownQuietly(tr)
	}
}

// shutdownQuietly stops a Tracing whose collector does not exist.
func shutdownQuietly(tr *tracing.Tracing) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = tr.Shutdown(ctx)
}

func TestSampledForetellsTheSpansSampling(t *testing.T) {
	t.Parallel()
	for _, sampler := range []string{"traceidratio", "parentbased_traceidratio", "parentbased_always_off", "always_on"} {
		// Given tracing sampling half the new traces
		tr := start(t, map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces",
			"OTEL_TRACES_SAMPLER": sampler, "OTEL_TRACES_SAMPLER_ARG": "0.5"})
		counts := map[bool]int{}
		for i := range 400 {
			// and requests, some continuing a caller's trace, sampled or not
			ctx := context.Background()
			if i%4 == 1 || i%4 == 2 {
				var tid trace.TraceID
				tid[0], tid[15] = byte(i), byte(i>>8)+1
				flags := trace.TraceFlags(0)
				if i%4 == 1 {
					flags = trace.FlagsSampled
				}
				ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: flags, Remote: true}))
			}
			// When the sampling is foretold
			parent := trace.SpanContextFromContext(ctx)
			ctx, sampled := tr.Sampled(ctx)
			counts[sampled]++
			// Then a caller's decision is followed by the parent-based samplers
			if strings.HasPrefix(sampler, "parentbased_") && parent.IsValid() && sampled != parent.IsSampled() {
				t.Errorf("%s, request %d: foretold %t for a caller's trace sampled %t", sampler, i, sampled, parent.IsSampled())
			}
			if !sampled {
				continue // a server starts no span
			}
			// and the span started in the context given is sampled
			_, span := tr.Provider().Tracer("test").Start(ctx, "GET /v1/orders/{order_id}", trace.WithSpanKind(trace.SpanKindServer))
			if !span.SpanContext().IsSampled() {
				t.Fatalf("%s, request %d: foretold sampled, the span is not", sampler, i)
			}
			span.End()
		}
		// and the ratio samplers sample some and drop some
		if sampler != "always_on" && (counts[true] == 0 || counts[false] == 0) {
			t.Errorf("%s: sampled %d, dropped %d", sampler, counts[true], counts[false])
		}
		shutdownQuietly(tr)
	}
}
