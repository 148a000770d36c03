package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// tracedPool is a pool of a fresh database whose statements are traced
// into the returned exporter.
func tracedPool(t *testing.T) (*pgxpool.Pool, *sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	return pgtest.NewTraced(t, postgres.NewTracer(tp)), tp, exporter
}

func TestTracerRecordsStatementsUnderARecordingSpan(t *testing.T) {
	t.Parallel()
	pool, tp, exporter := tracedPool(t)
	const secret = "Zanzibar-7c1e-secret"

	// Given a statement outside any span (a background worker's)
	if _, err := pool.Exec(context.Background(), `SELECT length($1::text)`, secret); err != nil {
		t.Fatal(err)
	}
	if spans := exporter.GetSpans(); len(spans) != 0 {
		t.Fatalf("spans without a parent: %v", spans.Snapshots())
	}

	// When statements with a bind value run under a request's span
	ctx, parent := tp.Tracer("test").Start(context.Background(), "POST /v1/orders/{order_id}/items")
	if _, err := pool.Exec(ctx, `CREATE TABLE notes (id int, body text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO notes (id, body) VALUES (1, $1)`, secret); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM notes WHERE body = $1`, secret).Scan(&n); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	parent.End()

	// Then each is a child span of it, named by what it does, with the
	// database's conventions, and no attribute holds the value
	// (a statement's first run on a connection prepares it first, within
	// its span)
	names := map[string]bool{}
	ours := map[string]bool{parent.SpanContext().SpanID().String(): true}
	for _, s := range exporter.GetSpans() {
		ours[s.SpanContext.SpanID().String()] = true
	}
	for _, s := range exporter.GetSpans() {
		if s.Name == "POST /v1/orders/{order_id}/items" {
			continue
		}
		names[s.Name] = true
		if !ours[s.Parent.SpanID().String()] || s.SpanContext.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %s is not within the request's", s.Name)
		}
		attrs := attribute.NewSet(s.Attributes...)
		if v, _ := attrs.Value("db.system.name"); v.AsString() != "postgresql" {
			t.Errorf("span %s: db.system.name %q", s.Name, v.AsString())
		}
		if v, _ := attrs.Value("db.system"); v.AsString() != "postgresql" {
			t.Errorf("span %s: db.system %q", s.Name, v.AsString())
		}
		for _, a := range s.Attributes {
			if strings.Contains(a.Value.String(), "Zanzibar") {
				t.Errorf("span %s: attribute %s holds a bind value: %s", s.Name, a.Key, a.Value.String())
			}
		}
	}
	for _, want := range []string{"CREATE", "INSERT notes", "SELECT notes", "PREPARE INSERT notes"} {
		if !names[want] {
			t.Errorf("no span %q among %v", want, names)
		}
	}
	for _, s := range exporter.GetSpans() {
		if s.Name != "INSERT notes" {
			continue
		}
		attrs := attribute.NewSet(s.Attributes...)
		op, _ := attrs.Value("db.operation.name")
		table, _ := attrs.Value("db.collection.name")
		text, _ := attrs.Value("db.query.text")
		if op.AsString() != "INSERT" || table.AsString() != "notes" || text.AsString() != `INSERT INTO notes (id, body) VALUES (1, $1)` {
			t.Errorf("INSERT notes: operation %q, collection %q, text %q", op.AsString(), table.AsString(), text.AsString())
		}
	}
}
