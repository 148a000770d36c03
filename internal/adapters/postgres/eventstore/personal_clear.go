package eventstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Events stored before sealing began hold their personal data in clear.
// They are sealed once, in place (the one change the events table allows:
// see events_refuse_change_but_sealing), either all at once by an
// operator (SealClearEvents, `orderapi personal-data seal`) or a
// customer's alone just before the customer's keys are destroyed
// (PrepareErasure), so that an erasure forgets them too.

// personalTypes are the event types that may hold personal data.
var personalTypes = []string{order.TypePlaced, order.TypeDelivered, order.TypeCancelled}

// clearEventsSQL finds events stored in clear that may hold personal
// data, after a position, with their stream's customer (from its first
// event, which names it in every schema version).
const clearEventsSQL = `
SELECT e.position, e.event_id, e.event_type, e.schema_version, e.data, (c.data ->> 'customer_id')::uuid
  FROM events e
  JOIN events c ON c.stream_id = e.stream_id AND c.stream_version = 1
 WHERE e.personal_key IS NULL AND e.event_type = ANY ($1) AND e.position > $2
   AND ($3::uuid[] IS NULL OR e.stream_id = ANY ($3))
 ORDER BY e.position
 LIMIT $4`

// sealClearSQL seals one event found in clear; it changes nothing if
// another sealed it first.
const sealClearSQL = `UPDATE events SET data = $2::jsonb, personal_key = $3 WHERE position = $1 AND personal_key IS NULL`

// SealClearEvents seals the personal members of every event stored in
// clear, limit events per transaction, and returns how many it sealed.
func (s *Store) SealClearEvents(ctx context.Context, limit int) (int, error) {
	if s.keys == nil {
		return 0, errNoKeyring
	}
	total := 0
	for after := int64(0); ; {
		var looked, sealed int
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			after, looked, sealed, err = s.sealClear(ctx, tx, nil, after, limit)
			return err
		})
		total += sealed
		if err != nil || looked == 0 {
			return total, err
		}
	}
}

// sealClear seals the events found in clear after a position, up to limit
// of them, of the given streams only unless they are nil; it returns the
// last position it looked at, how many it looked at and how many it
// sealed.
func (s *Store) sealClear(ctx context.Context, db Execer, streams []uuid.UUID, after int64, limit int) (last int64, looked, sealed int, err error) {
	var ids any
	if streams != nil {
		ids = postgres.UUIDs(streams)
	}
	rows, err := db.Query(ctx, clearEventsSQL, personalTypes, after, ids, limit)
	if err != nil {
		return after, 0, 0, fmt.Errorf("find events stored in clear: %w", err)
	}
	type clearEvent struct {
		position      int64
		eventID       uuid.UUID
		eventType     string
		schemaVersion int
		data          []byte
		customerID    uuid.UUID
	}
	var found []clearEvent
	var e clearEvent
	if _, err := pgx.ForEachRow(rows, []any{&e.position, postgres.ScanUUID(&e.eventID), &e.eventType, &e.schemaVersion, &e.data, postgres.ScanUUID(&e.customerID)}, func() error {
		found = append(found, e)
		return nil
	}); err != nil {
		return after, 0, 0, fmt.Errorf("find events stored in clear: %w", err)
	}
	for _, e := range found {
		after = e.position
		k, err := s.keys.ForSealing(ctx, e.customerID)
		if err != nil {
			return after, len(found), sealed, err
		}
		data, key, err := sealEvent(k, e.eventID, codec.Schema{EventType: e.eventType, Version: e.schemaVersion}, e.data)
		if err != nil {
			return after, len(found), sealed, fmt.Errorf("seal event %s: %w", e.eventID, err)
		}
		if !key.Valid {
			continue // nothing personal in it after all
		}
		tag, err := db.Exec(ctx, sealClearSQL, e.position, string(data), key)
		if err != nil {
			return after, len(found), sealed, fmt.Errorf("seal event %s: %w", e.eventID, err)
		}
		sealed += int(tag.RowsAffected())
	}
	return after, len(found), sealed, nil
}

// erasedFingerprint replaces the fingerprint of a claim of an erased
// customer's order: no request's SHA-256 is all zeros.
var erasedFingerprint [32]byte

// Execer is a transaction, as PrepareErasure needs it.
type Execer interface {
	postgres.Querier
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// PrepareErasure makes, in tx, every copy of the customer's personal data
// depend on the customer's keys alone, so that destroying them in the
// same transaction forgets it all: it seals the customer's events stored
// in clear, clears the personal columns of the customer's read model rows
// (rows written before sealing hold them in clear; the others would read
// as erased anyway), deletes the snapshots of the customer's orders, and
// forgets the fingerprints of the requests that claimed idempotency keys
// on them (a digest of a body holding personal data would confirm a guess
// of it: a replay of such a key is refused as a different request).
func (s *Store) PrepareErasure(ctx context.Context, tx Execer, customerID uuid.UUID) error {
	if s.keys == nil {
		return errNoKeyring
	}
	rows, err := tx.Query(ctx, `SELECT order_id FROM customer_orders WHERE customer_id = $1`, postgres.UUID(customerID))
	if err != nil {
		return fmt.Errorf("orders of customer %s: %w", customerID, err)
	}
	orders, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("orders of customer %s: %w", customerID, err)
	}
	for after, looked := int64(0), 1; looked > 0; {
		if after, looked, _, err = s.sealClear(ctx, tx, orders, after, 500); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE order_details
   SET shipping_address = NULL, signature = NULL, cancel_reason = NULL, erased = true
 WHERE customer_id = $1 AND (shipping_address IS NOT NULL OR signature IS NOT NULL OR cancel_reason IS NOT NULL)`,
		postgres.UUID(customerID)); err != nil {
		return fmt.Errorf("clear the read model of customer %s: %w", customerID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM stream_snapshots WHERE stream_id = ANY ($1)`, postgres.UUIDs(orders)); err != nil {
		return fmt.Errorf("delete the snapshots of customer %s: %w", customerID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET fingerprint = $2 WHERE order_id = ANY ($1)`,
		postgres.UUIDs(orders), erasedFingerprint[:]); err != nil {
		return fmt.Errorf("forget the request fingerprints of customer %s: %w", customerID, err)
	}
	return nil
}
