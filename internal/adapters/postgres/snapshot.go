package postgres

import (
	"sync/atomic"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// Snapshots keep Load fast on long streams. A snapshot is an order's state
// at some version, stored in the snapshots table under the fingerprint of
// this build (snapshot_fingerprint.go); Load reads the newest one with the
// events after it, and hands a state it had to fold many events for to a
// SnapshotWriter. They are a cache: a missing, stale, foreign or unreadable
// snapshot only costs a longer replay, never a different answer. Time
// travel (LoadVersion, LoadAsOf) and the projections' verification and
// rebuild replay from the events alone.

// snapshotQueueSize bounds the states waiting for the writer; past it,
// loads drop theirs (a later load offers again).
const snapshotQueueSize = 64

// WithSnapshots turns snapshots on: Load starts from the stream's
// snapshot when there is one, and a Load that folded at least every
// events hands its state to the SnapshotWriter, when one runs. every <= 0
// leaves snapshots off: nothing is read or written.
func WithSnapshots(every int) Option { return snapshotOption(every) }

type snapshotOption int

func (n snapshotOption) configure(c *storeConfig) { c.snapshotEvery = int(n) }

// snapshots is the state of the feature in one Store.
type snapshots struct {
	every       int
	fingerprint string
	queue       chan snapshotWrite
	// writers counts the running SnapshotWriters: without one, loads
	// queue nothing.
	writers atomic.Int32

	hits, misses, written, dropped, failed atomic.Uint64
}

// snapshotWrite is a state for the writer to store. unusable is the
// version of the stream's row that Load could not use, or 0: that row is
// replaced even when it claims a version as new as the state's.
type snapshotWrite struct {
	state    order.Order
	unusable int
	reason   error
}

func newSnapshots(codec *Codec, every int) (*snapshots, error) {
	fp, err := snapshotFingerprint(codec)
	if err != nil {
		return nil, err
	}
	return &snapshots{every: every, fingerprint: fp, queue: make(chan snapshotWrite, snapshotQueueSize)}, nil
}

// offer hands a loaded state to the writer without waiting: when none runs
// it is not kept, and when the queue is full it is dropped. The state is
// shared, not copied: an Order changes only through Apply, which never
// writes into a slice or address another copy holds.
func (sn *snapshots) offer(w snapshotWrite) {
	if sn.writers.Load() == 0 {
		return
	}
	select {
	case sn.queue <- w:
	default:
		sn.dropped.Add(1)
	}
}

// SnapshotStats counts what the store's snapshots did since it was made.
type SnapshotStats struct {
	// Hits are loads that started from a snapshot.
	Hits uint64
	// Misses are loads of an existing order that found no usable snapshot
	// and replayed the whole stream.
	Misses uint64
	// Written are snapshots stored (a write that found a newer one stored
	// changes nothing and is not counted).
	Written uint64
	// Dropped are states not queued for the writer because it was busy.
	Dropped uint64
	// Failed are snapshot rows that could not be used (each also a miss)
	// and writes that failed.
	Failed uint64
}

// SnapshotStats returns the snapshot counters; all zero when snapshots are
// off. It is cheap enough for every metrics scrape.
func (s *Store) SnapshotStats() SnapshotStats {
	sn := s.snaps
	if sn == nil {
		return SnapshotStats{}
	}
	return SnapshotStats{
		Hits:    sn.hits.Load(),
		Misses:  sn.misses.Load(),
		Written: sn.written.Load(),
		Dropped: sn.dropped.Load(),
		Failed:  sn.failed.Load(),
	}
}
