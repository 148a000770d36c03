package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// loadLatestSQL reads, in one statement and so one round trip, the
// stream's snapshot of this build's fingerprint, if any, first, then the
// events from its version on, or the whole stream when there is none.
// Like foldStream it reads the snapshot's own event too: that proves the
// stream reaches the snapshot's version. Rows of other fingerprints are
// never read. The sort puts the snapshot before its own event; both
// lookups are by primary or unique key.
const loadLatestSQL = `
WITH snap AS (
    SELECT version, state, created_at
      FROM snapshots
     WHERE stream_id = $1 AND fingerprint = $2
)
SELECT true AS is_snapshot, version, '' AS event_type, 0 AS schema_version, state AS data, created_at AS occurred_at
  FROM snap
UNION ALL
SELECT false, stream_version, event_type, schema_version, data, occurred_at
  FROM events
 WHERE stream_id = $1 AND stream_version >= coalesce((SELECT version FROM snap), 1)
 ORDER BY version, is_snapshot DESC`

// errUnusableSnapshot: the stream's snapshot row cannot be decoded, or
// the stream does not reach its version.
var errUnusableSnapshot = errors.New("unusable snapshot")

// loadLatest is Load with snapshots on. A snapshot row that cannot be used
// is a miss: the stream is replayed whole (a second query, only then) and
// the row is offered to the writer for replacement, so that the load
// answers as if the row did not exist. A state that took at least
// sn.every events to fold is offered to the writer once read.
func (s *Store) loadLatest(ctx context.Context, id uuid.UUID) (order.Order, error) {
	sn := s.snaps
	rows, err := s.pool.Query(ctx, loadLatestSQL, pgUUID(id), sn.fingerprint)
	if err != nil {
		return order.Order{}, fmt.Errorf("read snapshot and stream: %w", err)
	}
	var (
		f        = newFold(order.Order{})
		from     int // the snapshot's version, when one is used
		unusable int // the version of a row that cannot be used
		reason   error

		isSnapshot             bool
		version, schemaVersion int
		eventType              string
		data                   []byte
		occurredAt             time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&isSnapshot, &version, &eventType, &schemaVersion, &data, &occurredAt}, func() error {
		if isSnapshot {
			st, err := decodeSnapshot(id, version, data)
			if err != nil {
				unusable, reason = version, err
				return errUnusableSnapshot
			}
			f, from = newFold(st), version
			return nil
		}
		err := f.step(s, version, eventType, schemaVersion, data, occurredAt)
		if errors.Is(err, errNoAnchor) && from > 0 {
			unusable, reason = from, err
			return errUnusableSnapshot
		}
		return err
	})
	if err == nil && !f.within {
		// The stream ends before the snapshot's version.
		unusable, reason, err = from, fmt.Errorf("the stream ends before version %d", from), errUnusableSnapshot
	}
	if errors.Is(err, errUnusableSnapshot) {
		sn.failed.Add(1)
		from = 0
		f.o, err = s.replay(ctx, id, streamEnd)
		if err != nil {
			return order.Order{}, err
		}
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("read snapshot and stream: %w", err)
	}
	if f.o.Version == 0 {
		return order.Order{}, order.ErrNotFound
	}

	if from > 0 {
		sn.hits.Add(1)
	} else {
		sn.misses.Add(1)
	}
	if f.o.Version-from >= sn.every || unusable > 0 {
		sn.offer(snapshotWrite{state: f.o, unusable: unusable, reason: reason})
	}
	return f.o, nil
}
