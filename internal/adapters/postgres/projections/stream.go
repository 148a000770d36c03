package projections

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Verification and rebuild read whole tables in id order through
// server-side cursors, a batch of rows per FETCH, inside one snapshot: one
// query per batch however many streams it holds, and memory bounded by
// the batch whatever the size of the store.

// cursorBatch is how many rows each FETCH reads.
const cursorBatch = 1000

// rowCursor reads the rows of a query through a cursor of a transaction.
type rowCursor[T any] struct {
	tx   pgx.Tx
	name string
	scan pgx.RowToFunc[T]
	buf  []T
	done bool
}

// openCursor declares a cursor named name over sql (a constant text) with
// its arguments.
func openCursor[T any](ctx context.Context, tx pgx.Tx, name, sql string, scan pgx.RowToFunc[T], args ...any) (*rowCursor[T], error) {
	if _, err := tx.Exec(ctx, "DECLARE "+name+" NO SCROLL CURSOR FOR "+sql, args...); err != nil {
		return nil, fmt.Errorf("declare cursor %s: %w", name, err)
	}
	return &rowCursor[T]{tx: tx, name: name, scan: scan}, nil
}

// peek returns the next row without consuming it; nil at the end.
func (c *rowCursor[T]) peek(ctx context.Context) (*T, error) {
	if len(c.buf) == 0 && !c.done {
		// FETCH is described after the cursor exists, each time: a cached
		// prepared FETCH would outlive its cursor.
		rows, err := c.tx.Query(ctx, fmt.Sprintf("FETCH FORWARD %d FROM %s", cursorBatch, c.name), pgx.QueryExecModeDescribeExec)
		if err != nil {
			return nil, fmt.Errorf("fetch from %s: %w", c.name, err)
		}
		if c.buf, err = pgx.CollectRows(rows, c.scan); err != nil {
			return nil, fmt.Errorf("fetch from %s: %w", c.name, err)
		}
		c.done = len(c.buf) < cursorBatch
	}
	if len(c.buf) == 0 {
		return nil, nil
	}
	return &c.buf[0], nil
}

// pop consumes the row peek returned.
func (c *rowCursor[T]) pop() { c.buf = c.buf[1:] }

// eventRow is an events row as a replay reads it.
type eventRow struct {
	StreamID      uuid.UUID
	Version       int
	Type          string
	SchemaVersion int
	Data          []byte
	OccurredAt    time.Time
	TransactionID uint64
	Position      int64
	EventID       uuid.UUID
	PersonalKey   pgtype.UUID
}

// stored is the row as the store replays it.
func (e *eventRow) stored() *eventstore.StoredEvent {
	return &eventstore.StoredEvent{EventID: e.EventID, OrderID: e.StreamID, Version: e.Version, Type: e.Type,
		SchemaVersion: e.SchemaVersion, Data: e.Data, OccurredAt: e.OccurredAt, PersonalKey: e.PersonalKey}
}

// eventColumns and eventsInStreamOrder read every event, stream after
// stream, each in version order: the stream-version key's index order;
// eventsInStreamOrderWhere those of the streams a condition (%s) keeps.
const (
	eventColumns        = `stream_id, stream_version, event_type, schema_version, data, occurred_at, transaction_id, position, event_id, personal_key`
	eventsInStreamOrder = `
SELECT ` + eventColumns + `
  FROM events
 ORDER BY stream_id, stream_version`
	eventsInStreamOrderWhere = `
SELECT ` + eventColumns + `
  FROM events
 WHERE %s
 ORDER BY stream_id, stream_version`
)

// streams replays the streams of an events cursor, one after the other.
type streams struct {
	s      *store
	events *rowCursor[eventRow]
}

// peekID returns the id of the next order's stream; false at the end.
// It passes over the streams that are not orders' (a customer's: see
// order.IsOrderID), of which no order is folded.
func (r *streams) peekID(ctx context.Context) (uuid.UUID, bool, error) {
	for {
		e, err := r.events.peek(ctx)
		if err != nil || e == nil {
			return uuid.UUID{}, false, err
		}
		if order.IsOrderID(e.StreamID) {
			return e.StreamID, true, nil
		}
		r.events.pop()
	}
}

// fold replays the next stream, which must be id's, through the store's
// fold; each, if not nil, sees every event with the states around it.
// It returns the replay and the number of events.
func (r *streams) fold(ctx context.Context, id uuid.UUID, each func(before, after order.Order, e order.Event, row *eventRow)) (*eventstore.Replay, int, error) {
	var (
		o eventstore.Replay
		n int
	)
	for {
		row, err := r.events.peek(ctx)
		if err != nil {
			return nil, n, err
		}
		if row == nil || row.StreamID != id {
			return &o, n, nil
		}
		before := o.Order
		e, err := r.s.Apply(ctx, &o, row.stored())
		if err != nil {
			// Skip the rest of the stream, so the caller may go on.
			for row != nil && row.StreamID == id {
				r.events.pop()
				var perr error
				if row, perr = r.events.peek(ctx); perr != nil {
					return nil, n, perr
				}
			}
			return nil, n, fmt.Errorf("replay order %s: %w", id, err)
		}
		n++
		if each != nil {
			each(before, o.Order, e, row)
		}
		r.events.pop()
	}
}

// isAfter reports whether the event at c comes after the cursor at in feed
// order.
func isAfter(c, at app.FeedCursor) bool {
	return c.TransactionID > at.TransactionID || c.TransactionID == at.TransactionID && c.Position > at.Position
}

// compareIDs orders ids as PostgreSQL orders uuid values: bytewise.
func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }
