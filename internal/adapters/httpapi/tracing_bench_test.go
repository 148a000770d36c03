package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/adapters/tracing"
	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkTracingOverhead is what tracing adds to a request that does
// nothing else: off, and on with the share of new traces sampled that
// the name says; the spans go nowhere.
func BenchmarkTracingOverhead(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, ratio := range []string{"off", "0", "0.1", "1"} {
		mux := chi.NewRouter()
		log := zerolog.New(io.Discard)
		if ratio == "off" {
			mux.Use(requestID(log))
		} else {
			cfg, err := tracing.Load(func(k string) string {
				return map[string]string{"OTEL_TRACES_EXPORTER": "otlp",
					"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": ratio}[k]
			})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := tracing.New(context.Background(), cfg, tracing.WithExporter(nowhere{}))
			if err != nil {
				b.Fatal(err)
			}
			mux.Use(traced(tr), requestID(log), traceLog)
		}
		mux.Use(accessLog(nil))
		mux.Get("/v1/orders/{order_id}", ok)
		b.Run(ratio, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/v1/orders/0190d6c9-0000-7000-8000-000000000001", nil)
			b.ReportAllocs()
			for b.Loop() {
				mux.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}

// nowhere is an exporter that drops every span.
type nowhere struct{}

func (nowhere) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nowhere) Shutdown(context.Context) error                             { return nil }
