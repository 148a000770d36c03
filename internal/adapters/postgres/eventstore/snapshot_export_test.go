package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Hooks into snapshots for the tests of package eventstore_test.

// SnapshotQueueSize is snapshotQueueSize.
const SnapshotQueueSize = snapshotQueueSize

// KeptPerFold is keptPerFold.
const KeptPerFold = keptPerFold

// SaveSnapshot stores o as a snapshot of its stream now, as the writer
// would, with the latest time the stream's events up to it occurred, and
// reports whether it was stored.
func (s *Store) SaveSnapshot(ctx context.Context, o order.Order) (bool, error) {
	until, err := s.occurredUntil(ctx, o)
	if err != nil {
		return false, err
	}
	n, err := s.saveSnapshot(ctx, snapshotWrite{id: o.ID, states: []snapshotState{{state: o, until: until}}})
	return n == 1, err
}

// SaveSnapshotAs stores o as another build, of the given fingerprint,
// would.
func (s *Store) SaveSnapshotAs(ctx context.Context, fingerprint string, o order.Order) error {
	until, err := s.occurredUntil(ctx, o)
	if err != nil {
		return err
	}
	_, err = s.writeSnapshot(ctx, fingerprint, snapshotWrite{id: o.ID, states: []snapshotState{{state: o, until: until}}})
	return err
}

// occurredUntil is the latest time an event of o's stream up to o's
// version occurred; the epoch when there is none.
func (s *Store) occurredUntil(ctx context.Context, o order.Order) (time.Time, error) {
	var until time.Time
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(occurred_at), 'epoch') FROM events WHERE stream_id = $1 AND stream_version <= $2`,
		postgres.UUID(o.ID), o.Version).Scan(&until)
	return until, err
}

// SnapshotFingerprint is the fingerprint the store reads and writes.
func (s *Store) SnapshotFingerprint() string { return s.snaps.fingerprint }

// SnapshotWritersRunning counts the SnapshotWriters running.
func (s *Store) SnapshotWritersRunning() int { return int(s.snaps.writers.Load()) }

// ReplayOf folds the order's whole stream as a load does, keeping the
// keys of its personal fields.
func (s *Store) ReplayOf(ctx context.Context, id uuid.UUID) (*Replay, error) {
	f := newFold(order.Order{}, time.Time{}, 0)
	if err := s.foldInto(ctx, id, &f, streamEnd); err != nil {
		return nil, err
	}
	return &f.Replay, nil
}

// SaveReplayedSnapshot stores r's state as a snapshot, as the writer
// stores one a read handed it, and reports whether it was stored.
func (s *Store) SaveReplayedSnapshot(ctx context.Context, r *Replay) (bool, error) {
	until, err := s.occurredUntil(ctx, r.Order)
	if err != nil {
		return false, err
	}
	n, err := s.saveSnapshot(ctx, snapshotWrite{id: r.Order.ID, states: []snapshotState{{state: r.Order, until: until, keys: r.keys}}})
	return n == 1, err
}
