package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newClockSkew reads the replica's clock skew at each scrape.
func newClockSkew(skew func() time.Duration) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "clock_skew_seconds",
		Help: "How far this replica's clock is ahead of the database's (behind when negative), as last measured. Events take the database's time whatever it is.",
	}, func() float64 { return skew().Seconds() })
}

// newLogLinesDropped reads, at each scrape, how many log lines could not
// be written.
func newLogLinesDropped(dropped func() uint64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "log_lines_dropped_total",
		Help: "Log lines dropped because the log output failed (a closed pipe, say); the service serves on without them.",
	}, func() float64 { return float64(dropped()) })
}

// newUnreadableEvents reads, at each scrape, how many stored events this
// process's readers could not decode.
func newUnreadableEvents(unreadable func() int64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_unreadable_total",
		Help: "Stored events this process's readers met and could not decode (the feed and histories pass them, marked; loads fail). Alert on any.",
	}, func() float64 { return float64(unreadable()) })
}

// newRateLimitFailures reads, at each scrape, how many requests the shared
// rate limiter could not decide.
func newRateLimitFailures(failures func() uint64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "rate_limit_failures_total",
		Help: "Requests the shared rate limiter (Redis) could not decide, which passed without rate limits. Alert on a rise: the limits are off meanwhile.",
	}, func() float64 { return float64(failures()) })
}
