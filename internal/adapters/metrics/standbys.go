package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ReadSources are the queries each database answered, and the standbys'
// state, as the router of reads counts them.
type ReadSources struct {
	// PrimaryReads are the queries the primary answered.
	PrimaryReads uint64
	Standbys     []StandbyState
}

// StandbyState is one hot standby's.
type StandbyState struct {
	Name       string
	InRotation bool
	// Lag and LagBytes are how far behind the primary it was when last
	// checked.
	Lag      time.Duration
	LagBytes int64
	// Reads are the queries handed to it; FellBehind those with a
	// position it had not replayed in time, and Failed the reads that
	// failed on it: the primary answered both.
	Reads, FellBehind, Failed uint64
}

var (
	readsBySource = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "reads_total"),
		"Queries handed to a database to answer, by source: primary, or a standby's name. A read a standby failed under counts again for the primary.",
		[]string{"source"}, nil)
	standbyInRotation = prometheus.NewDesc(prometheus.BuildFQName(namespace, "standby", "in_rotation"),
		"1 while the standby answers queries; 0 while it is out of rotation (unreachable, promoted, or lagging beyond ORDERAPI_READ_MAX_LAG).",
		[]string{"standby"}, nil)
	standbyLag = prometheus.NewDesc(prometheus.BuildFQName(namespace, "standby", "lag_seconds"),
		"How far behind the primary the standby was at its last check: a bound on how old its answers are.",
		[]string{"standby"}, nil)
	standbyLagBytes = prometheus.NewDesc(prometheus.BuildFQName(namespace, "standby", "lag_bytes"),
		"The WAL the primary had written that the standby had not replayed, at its last check.",
		[]string{"standby"}, nil)
	standbyFallbacks = prometheus.NewDesc(prometheus.BuildFQName(namespace, "standby", "fallbacks_total"),
		"Queries meant for the standby that the primary answered, by reason: behind (it had not replayed the query's min_position in time), failed (the read failed on it).",
		[]string{"standby", "reason"}, nil)
)

// readSourcesCollector reads the router's counters at each scrape.
type readSourcesCollector struct {
	read func() ReadSources
}

func (c readSourcesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{readsBySource, standbyInRotation, standbyLag, standbyLagBytes, standbyFallbacks} {
		ch <- d
	}
}

func (c readSourcesCollector) Collect(ch chan<- prometheus.Metric) {
	rs := c.read()
	ch <- prometheus.MustNewConstMetric(readsBySource, prometheus.CounterValue, float64(rs.PrimaryReads), "primary")
	for _, s := range rs.Standbys {
		in := 0.0
		if s.InRotation {
			in = 1
		}
		ch <- prometheus.MustNewConstMetric(readsBySource, prometheus.CounterValue, float64(s.Reads), s.Name)
		ch <- prometheus.MustNewConstMetric(standbyInRotation, prometheus.GaugeValue, in, s.Name)
		ch <- prometheus.MustNewConstMetric(standbyLag, prometheus.GaugeValue, s.Lag.Seconds(), s.Name)
		ch <- prometheus.MustNewConstMetric(standbyLagBytes, prometheus.GaugeValue, float64(s.LagBytes), s.Name)
		ch <- prometheus.MustNewConstMetric(standbyFallbacks, prometheus.CounterValue, float64(s.FellBehind), s.Name, "behind")
		ch <- prometheus.MustNewConstMetric(standbyFallbacks, prometheus.CounterValue, float64(s.Failed), s.Name, "failed")
	}
}
