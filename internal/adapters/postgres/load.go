package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// streamAfterSQL reads a stream's events after a version, in version order.
// The stream-version key's index serves it.
const streamAfterSQL = `
SELECT stream_version, event_type, schema_version, data, occurred_at
  FROM events
 WHERE stream_id = $1 AND stream_version > $2
 ORDER BY stream_version`

// Load replays the order's whole stream. An order with no events is
// order.ErrNotFound.
func (s *Store) Load(ctx context.Context, id uuid.UUID) (_ order.Order, err error) {
	defer markUnavailable(&err)
	o, err := s.foldStream(ctx, id, order.Order{})
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	if o.Version == 0 {
		return order.Order{}, fmt.Errorf("load order %s: %w", id, order.ErrNotFound)
	}
	return o, nil
}

// foldStream applies the stream's events after from.Version to from. Load
// starts from the empty state; a snapshot would be passed as from, with
// only the events after it read.
func (s *Store) foldStream(ctx context.Context, id uuid.UUID, from order.Order) (order.Order, error) {
	rows, err := s.pool.Query(ctx, streamAfterSQL, id, from.Version)
	if err != nil {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, err)
	}
	defer rows.Close()

	o := from
	var (
		version, schemaVersion int
		eventType              string
		data                   []byte
		occurredAt             time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&version, &eventType, &schemaVersion, &data, &occurredAt}, func() error {
		// Apply counts versions; a stream that skips one would silently
		// give the state the wrong version.
		if version != o.Version+1 {
			return fmt.Errorf("stream has version %d after %d", version, o.Version)
		}
		e, err := s.codec.Decode(eventType, schemaVersion, data)
		if err != nil {
			return fmt.Errorf("event version %d: %w", version, err)
		}
		o.Apply(e, occurredAt.UTC())
		return nil
	})
	if err != nil {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, err)
	}
	return o, nil
}
