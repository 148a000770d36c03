package metrics

import "github.com/prometheus/client_golang/prometheus"

// SnapshotCounts are the event store's snapshot counters since it started.
type SnapshotCounts struct {
	// Hits are order loads that started from a snapshot; Misses loads of
	// an existing order that found none usable and replayed the stream.
	Hits, Misses uint64
	// Written are snapshots stored; Dropped states not queued for the
	// snapshot writer because it was busy; Failed snapshots that could not
	// be used or written.
	Written, Dropped, Failed uint64
}

var (
	snapshotHits    = snapshotDesc("snapshot_hits_total", "Order loads that started from a snapshot.")
	snapshotMisses  = snapshotDesc("snapshot_misses_total", "Order loads that found no usable snapshot and replayed the whole stream.")
	snapshotWritten = snapshotDesc("snapshots_written_total", "Snapshots stored.")
	snapshotDropped = snapshotDesc("snapshots_dropped_total", "Snapshots not taken because the snapshot writer was busy.")
	snapshotFailed  = snapshotDesc("snapshots_failed_total", "Snapshots that could not be used or written.")
)

func snapshotDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, nil, nil)
}

// snapshotCollector reads the store's counters at each scrape, once for
// all five.
type snapshotCollector struct {
	counts func() SnapshotCounts
}

func (c snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{snapshotHits, snapshotMisses, snapshotWritten, snapshotDropped, snapshotFailed} {
		ch <- d
	}
}

func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.counts()
	for _, m := range []struct {
		desc  *prometheus.Desc
		value uint64
	}{
		{snapshotHits, s.Hits}, {snapshotMisses, s.Misses},
		{snapshotWritten, s.Written}, {snapshotDropped, s.Dropped}, {snapshotFailed, s.Failed},
	} {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.value))
	}
}
