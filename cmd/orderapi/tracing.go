package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/tracing"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel"
)

// tracingFlush bounds how long, at shutdown, the spans still buffered
// may take to export.
const tracingFlush = 5 * time.Second

// tracer is what serve traces with: nothing when the OTEL_* settings
// leave tracing off, so that no middleware and no pool tracer is
// installed and tracing costs nothing.
type tracer struct{ t *tracing.Tracing }

// startTracing starts tracing as the settings say. The SDK reports what
// goes wrong (an export the collector refused or never answered) through
// OpenTelemetry's one error handler, which logs it.
func startTracing(ctx context.Context, cfg config, log zerolog.Logger) (tracer, error) {
	t, err := tracing.New(ctx, cfg.Tracing)
	if err != nil || t == nil {
		return tracer{}, err
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn().Err(err).Msg("tracing")
	}))
	c := cfg.Tracing
	log.Info().Str("sampler", c.Sampler).Float64("sampler_arg", c.SamplerArg).Strs("propagators", c.Propagators).
		Msg("tracing on: exporting spans over OTLP/HTTP")
	return tracer{t}, nil
}

// pool is the database pool's statement tracer; nil when off.
func (tr tracer) pool() pgx.QueryTracer {
	if tr.t == nil {
		return nil
	}
	return postgres.NewTracer(tr.t.Provider())
}

// http sets the server's tracing; none when off.
func (tr tracer) http(c *httpapi.Config) {
	if tr.t != nil {
		c.Tracing = tr.t
	}
}

// stop exports the spans left, within tracingFlush.
func (tr tracer) stop(log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), tracingFlush)
	defer cancel()
	if err := tr.t.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("tracing: spans left unexported at shutdown")
	}
}
