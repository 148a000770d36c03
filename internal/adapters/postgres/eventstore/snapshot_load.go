package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// snapshotReadSQLs read, in one statement, the stream's newest snapshot of
// this build's fingerprint within the bound, if any, then the events from
// its version on (its own event included, to prove the stream reaches it)
// up to the bound, or from the start when there is none: one text per kind
// of bound. Both lookups go down primary or unique keys.
var snapshotReadSQLs = func() (texts [boundKinds]string) {
	const from = `coalesce((SELECT version FROM snap), 1)`
	within := [boundKinds]string{
		boundVersion:  ` AND version <= $3`,
		boundOccurred: ` AND occurred_until <= $3`,
	}
	for kind := range boundKinds {
		texts[kind] = `
WITH snap AS (
    SELECT version, state, occurred_until
      FROM stream_snapshots
     WHERE stream_id = $1 AND fingerprint = $2` + within[kind] + `
     ORDER BY version DESC
     LIMIT 1
)
SELECT true AS is_snapshot, version, '' AS event_type, 0 AS schema_version, state AS data, occurred_until AS occurred_at,
       NULL::uuid AS event_id, NULL::uuid AS personal_key
  FROM snap
UNION ALL
SELECT false, stream_version, event_type, schema_version, data, occurred_at, event_id, personal_key
  FROM events
 WHERE stream_id = $1 AND stream_version >= ` + from + boundSQL(kind, from) + `
 ORDER BY version, is_snapshot DESC`
	}
	return texts
}()

// errUnusableSnapshot: the snapshot row read cannot be decoded, or the
// stream does not reach its version within the bound.
var errUnusableSnapshot = errors.New("unusable snapshot")

// loadFromSnapshot is loadTo with snapshots on. A snapshot row that cannot
// be used is a miss: the stream is folded from its start (a second query,
// only then) and the row is offered to the writer for deletion, so that
// the read answers as if the row did not exist. The states at the
// multiples of sn.every that the fold passed are offered to the writer.
func (s *Store) loadFromSnapshot(ctx context.Context, id uuid.UUID, b bound) (order.Order, error) {
	sn := s.snaps
	rows, err := s.pool.Query(ctx, snapshotReadSQLs[b.kind], b.args(postgres.UUID(id), sn.fingerprint)...)
	if err != nil {
		return order.Order{}, fmt.Errorf("read snapshot and stream: %w", err)
	}
	var (
		f        = newFold(order.Order{}, time.Time{}, sn.every)
		from     int // the snapshot's version, when one is used
		unusable int // the version of a row that cannot be used
		reason   error

		isSnapshot bool
		eventID    *uuid.UUID
		ev         = StoredEvent{OrderID: id}
	)
	_, err = pgx.ForEachRow(rows, []any{&isSnapshot, &ev.Version, &ev.Type, &ev.SchemaVersion, &ev.Data, envelopeTime{&ev.OccurredAt},
		&eventID, &ev.PersonalKey}, func() error {
		if isSnapshot {
			st, keys, err := s.openSnapshot(ctx, id, ev.Version, ev.Data)
			if err != nil {
				unusable, reason = ev.Version, err
				return errUnusableSnapshot
			}
			f, from = newFold(st, ev.OccurredAt.UTC(), sn.every), ev.Version
			f.keys = keys
			return nil
		}
		ev.EventID = *eventID
		err := f.step(ctx, s, &ev)
		if errors.Is(err, errNoAnchor) && from > 0 {
			unusable, reason = from, err
			return errUnusableSnapshot
		}
		return err
	})
	if err == nil && !f.within {
		unusable, reason, err = from, fmt.Errorf("the stream does not reach version %d within the bound", from), errUnusableSnapshot
	}
	if errors.Is(err, errUnusableSnapshot) {
		sn.failed.Add(1)
		f, from = newFold(order.Order{}, time.Time{}, sn.every), 0
		err = s.foldInto(ctx, id, &f, b)
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("read snapshot and stream: %w", err)
	}
	sn.folded.Add(uint64(f.folded))
	if f.Order.Version == 0 {
		return order.Order{}, order.ErrNotFound
	}

	if from > 0 {
		sn.hits.Add(1)
	} else {
		sn.misses.Add(1)
	}
	if len(f.kept) > 0 || unusable > 0 {
		sn.offer(snapshotWrite{id: id, states: f.kept, unusable: unusable, reason: reason})
	}
	return f.Order, nil
}
