package postgres

import (
	"context"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// Hooks into snapshots for the tests of package postgres_test.

// SnapshotQueueSize is snapshotQueueSize.
const SnapshotQueueSize = snapshotQueueSize

// SaveSnapshot stores o as its stream's snapshot now, as the writer would,
// and reports whether it was stored.
func (s *Store) SaveSnapshot(ctx context.Context, o order.Order) (bool, error) {
	return s.saveSnapshot(ctx, snapshotWrite{state: o})
}

// SaveSnapshotAs stores o as another build, of the given fingerprint,
// would.
func (s *Store) SaveSnapshotAs(ctx context.Context, fingerprint string, o order.Order) error {
	_, err := s.writeSnapshot(ctx, fingerprint, snapshotWrite{state: o})
	return err
}

// SnapshotFingerprint is the fingerprint the store reads and writes.
func (s *Store) SnapshotFingerprint() string { return s.snaps.fingerprint }

// SnapshotWritersRunning counts the SnapshotWriters running.
func (s *Store) SnapshotWritersRunning() int { return int(s.snaps.writers.Load()) }
