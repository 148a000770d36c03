// Package tracing sets up OpenTelemetry tracing as the standard OTEL_*
// environment variables configure it (Variables reads them): spans are
// exported over OTLP/HTTP to a collector, sampled as OTEL_TRACES_SAMPLER
// says, and incoming requests continue the trace their W3C traceparent
// names. Tracing is off unless an exporter is configured, and then New
// returns nil, so that nothing traces and nothing is installed.
//
// Who makes spans is the adapters' concern: the HTTP server
// (httpapi.Config.Tracing) and the database pool (postgres.NewTracer)
// take the provider and propagator from here.
package tracing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is tracing turned on: the provider spans are made with, its
// sampler, and the propagator incoming requests are read with.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	sampler    sdktrace.Sampler
	propagator propagation.TextMapPropagator
}

// An Option changes what New sets up.
type Option func(*options)

type options struct{ exporter sdktrace.SpanExporter }

// WithExporter exports each span to e as it ends, instead of batching
// them to the OTLP endpoint: for tests, with an exporter in memory.
func WithExporter(e sdktrace.SpanExporter) Option { return func(o *options) { o.exporter = e } }

// New starts tracing as cfg configures it; nil when cfg leaves it off.
// Spans are batched and exported in the background; Shutdown sends what
// is left.
func New(ctx context.Context, cfg Config, opts ...Option) (*Tracing, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	processor := sdktrace.WithSyncer(o.exporter)
	if o.exporter == nil {
		exporter, err := otlptracehttp.New(ctx, exporterOptions(cfg)...)
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
		}
		processor = sdktrace.WithBatcher(exporter)
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := sampler(cfg)
	return &Tracing{
		provider: sdktrace.NewTracerProvider(
			processor,
			sdktrace.WithResource(res),
			sdktrace.WithSampler(s),
			sdktrace.WithIDGenerator(ids{}),
		),
		sampler:    s,
		propagator: propagator(cfg.Propagators),
	}, nil
}

// Load reads the OTEL_* variables from getenv, as the service's settings
// do: for tests and tools that configure tracing from a map.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for _, v := range Variables(&c) {
		errs = append(errs, v.Set(getenv(v.Name)))
	}
	return c, errors.Join(errs...)
}

// Provider is where spans are made.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Propagator reads (and writes) trace context in headers.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// Shutdown exports the spans still buffered, within ctx, and stops
// tracing. A nil Tracing (off) has nothing to do.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// exporterOptions are the settings Variables read; what the SDK reads of
// the environment on its own (certificates, compression) it still reads.
func exporterOptions(cfg Config) []otlptracehttp.Option {
	var opts []otlptracehttp.Option
	if u := cfg.endpointURL(); u != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	if h := cmpMap(cfg.TracesHeaders, cfg.Headers); h != nil {
		opts = append(opts, otlptracehttp.WithHeaders(h))
	}
	if d := cmp.Or(cfg.TracesTimeout, cfg.Timeout); d > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(d))
	}
	if cmp.Or(cfg.TracesProtocol, cfg.Protocol) == "http/json" {
		opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	}
	return opts
}

// newResource describes this process: the resource attributes, the
// service's name over any they hold, and the SDK's.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+1)
	for _, k := range slices.Sorted(maps.Keys(cfg.ResourceAttributes)) {
		attrs = append(attrs, attribute.String(k, cfg.ResourceAttributes[k]))
	}
	name := cmp.Or(cfg.ServiceName, cfg.ResourceAttributes[string(semconv.ServiceNameKey)], defaultServiceName)
	attrs = append(attrs, semconv.ServiceName(name))
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

// sampler is OTEL_TRACES_SAMPLER's, with its ratio.
func sampler(cfg Config) sdktrace.Sampler {
	ratio := sdktrace.TraceIDRatioBased(cfg.SamplerArg)
	switch cfg.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return ratio
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(ratio)
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

// propagator is OTEL_PROPAGATORS's: none reads no trace from requests.
func propagator(names []string) propagation.TextMapPropagator {
	var ps []propagation.TextMapPropagator
	for _, n := range names {
		switch n {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		}
	}
	return propagation.NewCompositeTextMapPropagator(ps...)
}

func cmpMap(a, b map[string]string) map[string]string {
	if a != nil {
		return a
	}
	return b
}
