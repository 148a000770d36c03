// Package metrics exposes orderapi's figures for Prometheus: HTTP requests
// by route, how commands end, the events appended, the event store's
// snapshots, the database pool, the asynchronous projections' lag, the
// reads each database answered and the hot standbys' lag, and the Go
// runtime and process. The counters are fed by hooks the HTTP and app
// layers call; the rest is read from its source at each scrape.
package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "orderapi"

// Config names the sources read at each scrape. Each is optional: a nil
// source leaves its metrics out.
type Config struct {
	// Pool is the database pool; a *pgxpool.Pool.
	Pool PoolStater
	// Projections reports every projection's progress.
	Projections ProjectionReporter
	// ProjectionsTimeout bounds reading Projections, so that a slow
	// database delays a scrape by at most this much; 1s if zero.
	ProjectionsTimeout time.Duration
	// Snapshots returns the event store's snapshot counters.
	Snapshots func() SnapshotCounts
	// UnreadableEvents returns how many stored events this process's
	// readers met and could not decode.
	UnreadableEvents func() int64
	// ClockSkew returns how far the replica's clock is ahead of the
	// database's.
	ClockSkew func() time.Duration
	// LogLinesDropped returns how many log lines could not be written.
	LogLinesDropped func() uint64
	// RateLimitFailures returns how many requests the shared rate
	// limiter (Redis) could not decide, which passed unlimited.
	RateLimitFailures func() uint64
	// ReadSources returns the queries each database answered and the
	// hot standbys' state; nil when no standby is configured.
	ReadSources func() ReadSources
}

const defaultProjectionsTimeout = time.Second

// Metrics holds orderapi's metrics in a registry of their own, so that
// nothing registered globally by a library leaks into them.
type Metrics struct {
	registry *prometheus.Registry
	handler  http.Handler
	requests *requestMetrics
	commands *prometheus.CounterVec
	retries  *prometheus.CounterVec
	events   *prometheus.CounterVec
	states   *prometheus.CounterVec
}

var _ app.Observer = (*Metrics)(nil)

// New returns the metrics, registered with the Go runtime and process
// collectors and with collectors over cfg's sources.
func New(cfg Config) (*Metrics, error) {
	if cfg.ProjectionsTimeout < 0 {
		return nil, fmt.Errorf("metrics: negative ProjectionsTimeout %s", cfg.ProjectionsTimeout)
	}
	if cfg.ProjectionsTimeout == 0 {
		cfg.ProjectionsTimeout = defaultProjectionsTimeout
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: newRequestMetrics(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "commands_total",
			Help: "Commands finished, by command and outcome (ok, replayed, rejected, invalid, not_found, precondition_failed, conflict, error).",
		}, []string{"command", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "command_retries_total",
			Help: "Commands retried on fresh state after another writer changed the order first, by command.",
		}, []string{"command"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "events_appended_total",
			Help: "Events committed to the event store, by event type.",
		}, []string{"type"}),
		states: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "command_states_total",
			Help: "Where command attempts found their order's state: cache (kept from this process's last command on it), store (loaded), stale (a kept state found behind, then loaded).",
		}, []string{"source"}),
	}
	for _, src := range []app.StateSource{app.StateCached, app.StateLoaded, app.StateStale} {
		m.states.WithLabelValues(string(src))
	}
	// Every known type is shown from the start, so that a rate over the
	// first event of a type is not lost.
	for _, t := range order.EventTypes {
		m.events.WithLabelValues(t)
	}

	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests.count, m.requests.duration,
		m.commands, m.retries, m.events, m.states,
	}
	if cfg.Pool != nil {
		cs = append(cs, poolCollector{cfg.Pool})
	}
	if cfg.Projections != nil {
		cs = append(cs, newProjectionCollector(cfg.Projections, cfg.ProjectionsTimeout))
	}
	if cfg.Snapshots != nil {
		cs = append(cs, snapshotCollector{cfg.Snapshots})
	}
	if cfg.ClockSkew != nil {
		cs = append(cs, newClockSkew(cfg.ClockSkew))
	}
	if cfg.LogLinesDropped != nil {
		cs = append(cs, newLogLinesDropped(cfg.LogLinesDropped))
	}
	if cfg.UnreadableEvents != nil {
		cs = append(cs, newUnreadableEvents(cfg.UnreadableEvents))
	}
	if cfg.RateLimitFailures != nil {
		cs = append(cs, newRateLimitFailures(cfg.RateLimitFailures))
	}
	if cfg.ReadSources != nil {
		cs = append(cs, readSourcesCollector{cfg.ReadSources})
	}
	var errs []error
	for _, c := range cs {
		errs = append(errs, m.registry.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	// A collector that fails leaves its metrics out of the answer rather
	// than failing the scrape; promhttp counts such errors.
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry,
	})
	return m, nil
}

// Handler serves the metrics in the Prometheus exposition formats; the
// text format (version 0.0.4) unless the scraper asks for another.
func (m *Metrics) Handler() http.Handler { return m.handler }
