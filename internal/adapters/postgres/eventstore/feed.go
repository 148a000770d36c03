package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// feedSQL reads the global feed: committed events after a cursor in
// (transaction_id, position) order, only from transactions below the
// watermark, so that nothing can later appear before what it returns. $4
// filters by type; NULL keeps every type. See docs/design.md, "The global
// feed".
//
// The watermark is the oldest transaction of this database still running,
// else the snapshot's xmax. On a hot standby the snapshot lists the
// primary's running transactions in its subxip, which pg_current_snapshot
// does not copy: there its xip is empty, and its xmin, the oldest of them,
// is the watermark (of every database's: a standby cannot tell them
// apart). On a primary an empty xip has xmin equal to xmax, so one test
// covers both, and no pg_is_in_recovery() can disagree with the snapshot
// while a standby is promoted.
const feedSQL = `
WITH snapshot AS MATERIALIZED (
    SELECT pg_current_snapshot() AS s
), other_databases AS MATERIALIZED (
    SELECT backend_xid AS xid
      FROM pg_stat_activity
     WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()
), watermark AS MATERIALIZED (
    SELECT CASE
        WHEN NOT EXISTS (SELECT FROM pg_snapshot_xip((SELECT s FROM snapshot)))
            THEN pg_snapshot_xmin((SELECT s FROM snapshot))
        ELSE coalesce(
            (SELECT min(x) FROM pg_snapshot_xip((SELECT s FROM snapshot)) AS x
              WHERE x::xid NOT IN (SELECT xid FROM other_databases)),
            pg_snapshot_xmax((SELECT s FROM snapshot)))
        END AS w
)
SELECT transaction_id, event_id, stream_id, stream_version, position, event_type, schema_version,
       data, metadata, occurred_at, recorded_at, personal_key
  FROM events
 WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
   AND transaction_id < (SELECT w FROM watermark)
   AND ($4::text[] IS NULL OR event_type = ANY ($4::text[]))
 ORDER BY transaction_id, position
 LIMIT $3`

// ReadFeed returns up to q.Limit events after q.After in feed order; with
// q.Sealed, their personal data as stored.
func (s *Store) ReadFeed(ctx context.Context, q app.FeedQuery) (_ []app.RecordedEvent, err error) {
	defer postgres.MarkUnavailable(&err)
	if q.Limit <= 0 {
		return nil, fmt.Errorf("read feed: limit %d must be positive", q.Limit)
	}
	var types []string
	if len(q.Types) > 0 {
		types = q.Types
	}
	rows, err := s.pool.Query(ctx, feedSQL, q.After.TransactionID, q.After.Position, q.Limit, types)
	if err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	events, err := s.recordedEvents(ctx, rows, q.Sealed)
	if err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	return events, nil
}

// eventAtSQL finds an event by its feed cursor, through the primary key.
const eventAtSQL = `SELECT EXISTS (SELECT 1 FROM events WHERE position = $2 AND transaction_id = $1::xid8)`

// EventAt reports whether an event is stored at c.
func (s *Store) EventAt(ctx context.Context, c app.FeedCursor) (_ bool, err error) {
	defer postgres.MarkUnavailable(&err)
	var ok bool
	if err := s.pool.QueryRow(ctx, eventAtSQL, c.TransactionID, c.Position).Scan(&ok); err != nil {
		return false, fmt.Errorf("event at %d/%d: %w", c.TransactionID, c.Position, err)
	}
	return ok, nil
}

// eventCursorSQL finds an event's place in the feed by its id, through
// events_event_id_key.
const eventCursorSQL = `SELECT transaction_id, position FROM events WHERE event_id = $1`

// EventCursor returns the feed cursor of the event id; false when no such
// event is stored. The event may still be above the feed's watermark: a
// reader that must not pass the watermark reads the feed to it.
func (s *Store) EventCursor(ctx context.Context, id uuid.UUID) (_ app.FeedCursor, _ bool, err error) {
	defer postgres.MarkUnavailable(&err)
	var c app.FeedCursor
	err = s.pool.QueryRow(ctx, eventCursorSQL, postgres.UUID(id)).Scan(&c.TransactionID, &c.Position)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.FeedCursor{}, false, nil
	}
	if err != nil {
		return app.FeedCursor{}, false, fmt.Errorf("event %s: %w", id, err)
	}
	return c, true, nil
}

// FeedEvents reads up to limit events of the global feed after the cursor
// on db, every type, undecoded: the analytics consumer reads them on the
// connection that holds its lock.
func FeedEvents(ctx context.Context, db postgres.Querier, after app.FeedCursor, limit int) ([]StoredEvent, error) {
	rows, err := db.Query(ctx, feedSQL, after.TransactionID, after.Position, limit, nil)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanStoredEvent)
}

// feedLagSQL counts the committed events after a cursor and reads the
// oldest one's age: a range of events_transaction_position_idx.
const feedLagSQL = `
SELECT count(*), min(recorded_at), now()
  FROM events WHERE (transaction_id, position) > ($1, $2)`

// FeedLag is how far a reader at cursor c is behind the feed's head: the
// committed events after c and the age of the oldest of them (zero when
// none). The broker relay reports its lag with it.
func (s *Store) FeedLag(ctx context.Context, c app.FeedCursor) (n int64, age time.Duration, err error) {
	defer postgres.MarkUnavailable(&err)
	var (
		oldest *time.Time
		now    time.Time
	)
	if err := s.pool.QueryRow(ctx, feedLagSQL, c.TransactionID, c.Position).Scan(&n, &oldest, &now); err != nil {
		return 0, 0, fmt.Errorf("feed lag after %d/%d: %w", c.TransactionID, c.Position, err)
	}
	if oldest != nil {
		age = max(now.Sub(*oldest), 0)
	}
	return n, age, nil
}
