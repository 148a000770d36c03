package httpapi

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// traced gives every request the tracing samples, but the probes and
// scrapes, a server span (otelhttp's), continuing the trace the caller's
// headers name, if the propagator reads one. The span is named by the
// route pattern the router matched, "POST /v1/orders/{order_id}/items",
// never the raw path; a request no route matched keeps its method alone,
// "GET". The sampling is decided first: a request that will not be
// sampled, most of them at a low ratio, passes by otelhttp, whose work
// for it (attributes, wrapped writers) would be thrown away.
func traced(t Tracing) func(http.Handler) http.Handler {
	propagator := t.Propagator()
	return func(next http.Handler) http.Handler {
		// The route is known once the router has matched it, within.
		named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			span := trace.SpanFromContext(r.Context())
			if route := routePattern(r); route != "" && span.IsRecording() {
				span.SetName(spanName(r))
				span.SetAttributes(semconv.HTTPRoute(route))
			}
		})
		spanned := otelhttp.NewHandler(named, "",
			otelhttp.WithTracerProvider(t.Provider()),
			otelhttp.WithPropagators(propagator),
			// The metrics are Prometheus's, labelled as the access log is.
			otelhttp.WithMeterProvider(noop.NewMeterProvider()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return spanName(r) }))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isOps(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, sampled := t.Sampled(propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			if ctx != r.Context() {
				r = r.WithContext(ctx)
			}
			if !sampled {
				// The caller's trace, if it named one, still reaches
				// the log lines.
				next.ServeHTTP(w, r)
				return
			}
			spanned.ServeHTTP(w, r)
		})
	}
}

// isOps: the probes and the scrapes are not traced: they come every few
// seconds, say nothing of the service's work, and would crowd it out.
func isOps(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// routePattern is the route the router matched, "" when none did.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}

// spanName is "{method} {route}", as OpenTelemetry's HTTP conventions
// name a server span, or the method alone while no route is matched; a
// method HTTP does not define is "HTTP", so that clients cannot make up
// names.
func spanName(r *http.Request) string {
	method := r.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
	default:
		method = "HTTP"
	}
	if route := routePattern(r); route != "" {
		return method + " " + route
	}
	return method
}

// traceLog puts the request's trace into its logger as trace_id, and its
// server span as span_id: a sampled request's, and an unsampled one's
// whose caller named its trace (without a span of ours, the caller's
// trace alone). Its log lines are found from its trace, and the trace,
// if kept, from them.
func traceLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			l := withTrace(hlog.FromRequest(r).With(), r.Context()).Logger()
			r = r.WithContext(l.WithContext(r.Context()))
		}
		next.ServeHTTP(w, r)
	})
}

// withTrace adds what traceLog logs of ctx's trace to c.
func withTrace(c zerolog.Context, ctx context.Context) zerolog.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return c
	}
	c = c.Str("trace_id", sc.TraceID().String())
	if !sc.IsRemote() {
		c = c.Str("span_id", sc.SpanID().String())
	}
	return c
}
