package eventstore

import (
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/snapshot"
)

// Snapshots keep reads of long streams short: every read of an order's
// state starts from its newest snapshot within the bound and folds the
// events after it. They are a cache: a missing, stale, foreign or
// unreadable snapshot only costs a longer fold, never a different answer.
// See docs/design.md, "Snapshots and their fingerprints".

// snapshotQueueSize bounds the reads' offers waiting for the writer; past
// it, reads drop theirs (a later read offers again). An offer holds the
// states of at most keptPerFold versions.
const snapshotQueueSize = 64

// snapshots is the state of the feature in one Store.
type snapshots struct {
	every       int
	fingerprint string
	queue       chan snapshotWrite
	// writers counts the running SnapshotWriters: without one, loads
	// queue nothing.
	writers atomic.Int32

	hits, misses, written, dropped, failed, folded atomic.Uint64
}

// snapshotWrite is what a read offers the writer: states of the stream to
// store, and the version of the stream's row that the read could not use,
// or 0. That row is deleted, and replaced when one of the states is at its
// version.
type snapshotWrite struct {
	id       uuid.UUID
	states   []snapshotState
	unusable int
	reason   error
}

func newSnapshots(codec *codec.Codec, every int) (*snapshots, error) {
	fp, err := snapshot.Fingerprint(codec)
	if err != nil {
		return nil, err
	}
	return &snapshots{every: every, fingerprint: fp, queue: make(chan snapshotWrite, snapshotQueueSize)}, nil
}

// offer hands a read's states to the writer without waiting: when none
// runs they are not kept, and when the queue is full they are dropped.
func (sn *snapshots) offer(w snapshotWrite) {
	if sn.writers.Load() == 0 {
		return
	}
	select {
	case sn.queue <- w:
	default:
		sn.dropped.Add(uint64(len(w.states)))
	}
}

// SnapshotStats counts what the store's snapshots did since it was made.
type SnapshotStats struct {
	// Hits are reads of an order's state, current or past, that started
	// from a snapshot.
	Hits uint64
	// Misses are reads of an existing order that found no usable snapshot
	// within their bound and folded the stream from its start.
	Misses uint64
	// Written are snapshots stored (one already stored at the same
	// version is not written again, nor counted).
	Written uint64
	// Dropped are states not queued for the writer because it was busy.
	Dropped uint64
	// Failed are snapshot rows that could not be used (each also a miss)
	// and writes that failed.
	Failed uint64
	// Folded are the events that reads folded after the snapshot they
	// started from, or from the start.
	Folded uint64
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
		Folded:  sn.folded.Load(),
	}
}
