package postgres

import (
	"context"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracer records a span for each statement, named by what it does
// ("INSERT events", "SELECT order_details"), as a child of the span in
// its context: a statement outside a recording span (a background
// worker's, a request not sampled) records nothing. A span holds the
// statement's text, whose values are always bind parameters, never the
// parameters themselves.
//
// Set it as the pool's ConnConfig.Tracer; it is otelpgx's tracer, whose
// spans it names and describes.
type Tracer struct {
	*otelpgx.Tracer
	summaries *summaries
}

// NewTracer returns a Tracer whose spans tp makes.
func NewTracer(tp trace.TracerProvider) *Tracer {
	t := &Tracer{summaries: &summaries{}}
	t.Tracer = otelpgx.NewTracer(
		otelpgx.WithTracerProvider(tp),
		// Metrics are Prometheus's here (the pool's collector).
		otelpgx.WithMeterProvider(noop.NewMeterProvider()),
		// db.system.name is the conventions' present name; db.system
		// their former, which many backends still read.
		otelpgx.WithTracerAttributes(attribute.String("db.system", "postgresql")),
		otelpgx.WithSpanNameFunc(func(sql string) string { return t.summaries.of(sql).String() }),
		// A span per wait for a pooled connection would be a third of a
		// read's spans; the wait shows as the gap before the statement.
		otelpgx.WithDisableAcquireTracer(),
	)
	return t
}

// Outside a recording span, which at a low sampling ratio is most
// statements, each hook returns at once: otelpgx would still time the
// statement for its metrics, which go nowhere here. A hook's end is
// skipped exactly when its start was, the context being the same.

// TraceQueryStart starts the statement's span, if its context records.
func (t *Tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	ctx = t.Tracer.TraceQueryStart(ctx, conn, data)
	t.describe(ctx, data.SQL, "")
	return ctx
}

// TraceQueryEnd ends the statement's span.
func (t *Tracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if recording(ctx) {
		t.Tracer.TraceQueryEnd(ctx, conn, data)
	}
}

// TracePrepareStart starts the span of preparing a statement, which a
// connection does before it first runs it.
func (t *Tracer) TracePrepareStart(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	ctx = t.Tracer.TracePrepareStart(ctx, conn, data)
	t.describe(ctx, data.SQL, "PREPARE ")
	return ctx
}

// TracePrepareEnd ends it.
func (t *Tracer) TracePrepareEnd(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareEndData) {
	if recording(ctx) {
		t.Tracer.TracePrepareEnd(ctx, conn, data)
	}
}

// TraceBatchStart starts a batch's span.
func (t *Tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return t.Tracer.TraceBatchStart(ctx, conn, data)
}

// TraceBatchQuery records a statement of the batch.
func (t *Tracer) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	if recording(ctx) {
		t.Tracer.TraceBatchQuery(ctx, conn, data)
	}
}

// TraceBatchEnd ends the batch's span.
func (t *Tracer) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	if recording(ctx) {
		t.Tracer.TraceBatchEnd(ctx, conn, data)
	}
}

func recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// describe gives the span otelpgx started the conventions' attributes:
// otelpgx takes the whole name for the operation.
func (t *Tracer) describe(ctx context.Context, sql, prefix string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	s := t.summaries.of(sql)
	if prefix != "" {
		span.SetName(prefix + s.String())
	}
	attrs := []attribute.KeyValue{semconv.DBOperationName(s.operation), semconv.DBQuerySummary(s.String())}
	if s.table != "" {
		attrs = append(attrs, semconv.DBCollectionName(s.table))
	}
	span.SetAttributes(attrs...)
}
