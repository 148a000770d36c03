package metrics

import "github.com/prometheus/client_golang/prometheus"

// SnapshotCounts are the event store's snapshot counters since it started.
type SnapshotCounts struct {
	// Hits are reads of an order's state, current or past, that started
	// from a snapshot; Misses reads of an existing order that found none
	// usable and folded the stream from its start.
	Hits, Misses uint64
	// Written are snapshots stored; Dropped states not queued for the
	// snapshot writer because it was busy; Failed snapshots that could not
	// be used or written.
	Written, Dropped, Failed uint64
	// Folded are the events those reads folded.
	Folded uint64
}

var (
	snapshotHits    = snapshotDesc("snapshot_hits_total", "Reads of an order's state, current or past, that started from a snapshot.")
	snapshotMisses  = snapshotDesc("snapshot_misses_total", "Reads of an order's state that found no usable snapshot and folded the stream from its start.")
	snapshotWritten = snapshotDesc("snapshots_written_total", "Snapshots stored.")
	snapshotDropped = snapshotDesc("snapshots_dropped_total", "Snapshots not taken because the snapshot writer was busy.")
	snapshotFailed  = snapshotDesc("snapshots_failed_total", "Snapshots that could not be used or written.")
	snapshotFolded  = snapshotDesc("snapshot_events_folded_total", "Events folded by reads of an order's state, after the snapshot they started from.")
)

func snapshotDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, nil, nil)
}

// snapshotCollector reads the store's counters at each scrape, once for
// all of them.
type snapshotCollector struct {
	counts func() SnapshotCounts
}

func (c snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{snapshotHits, snapshotMisses, snapshotWritten, snapshotDropped, snapshotFailed, snapshotFolded} {
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
		{snapshotFolded, s.Folded},
	} {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.value))
	}
}
