package metrics

import (
	"context"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/prometheus/client_golang/prometheus"
)

// ProjectionReporter reports every projection's progress, as GET
// /v1/projections does; the analytics consumer is one.
type ProjectionReporter interface {
	Projections(ctx context.Context) (app.ProjectionsReport, error)
}

// projectionCollector reads the projections' lag at each scrape, within a
// timeout. A failed read leaves the lag out of that scrape and is counted,
// so that the rest of the metrics still arrive while the database is slow
// or down.
type projectionCollector struct {
	source     ProjectionReporter
	timeout    time.Duration
	lagEvents  *prometheus.Desc
	lagSeconds *prometheus.Desc
	stalled    *prometheus.Desc
	failures   prometheus.Counter
}

func newProjectionCollector(source ProjectionReporter, timeout time.Duration) *projectionCollector {
	labels := []string{"projection"}
	return &projectionCollector{
		source:  source,
		timeout: timeout,
		lagEvents: prometheus.NewDesc(prometheus.BuildFQName(namespace, "projection", "lag_events"),
			"Committed events a projection has not processed yet; always 0 for the inline ones.", labels, nil),
		lagSeconds: prometheus.NewDesc(prometheus.BuildFQName(namespace, "projection", "lag_seconds"),
			"Age of the oldest committed event a projection has not processed yet; 0 when none.", labels, nil),
		stalled: prometheus.NewDesc(prometheus.BuildFQName(namespace, "projection", "stalled"),
			"1 while a projection is stopped before an event this build cannot decode (alert on it), else 0.", labels, nil),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "projection", Name: "status_failures_total",
			Help: "Scrapes that could not read the projections' progress and left their lag out.",
		}),
	}
}

func (c *projectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lagEvents
	ch <- c.lagSeconds
	ch <- c.stalled
	c.failures.Describe(ch)
}

func (c *projectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	report, err := c.source.Projections(ctx)
	if err != nil {
		c.failures.Inc()
	}
	for _, p := range report.Projections {
		ch <- prometheus.MustNewConstMetric(c.lagEvents, prometheus.GaugeValue, float64(p.LagEvents), p.Name)
		ch <- prometheus.MustNewConstMetric(c.lagSeconds, prometheus.GaugeValue, p.Lag.Seconds(), p.Name)
		stalled := 0.0
		if p.Stalled != nil {
			stalled = 1
		}
		ch <- prometheus.MustNewConstMetric(c.stalled, prometheus.GaugeValue, stalled, p.Name)
	}
	c.failures.Collect(ch)
}
