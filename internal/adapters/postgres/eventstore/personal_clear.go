package eventstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/snapshot"
	"github.com/orderapi/orderapi/internal/app"
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

// Sealing in place locks the key before the row, as an append does (see
// datakeys.Lock): a sealing that took an events row and then waited for
// its key, held by an erasure that seals that same row next, would
// deadlock. So each batch locks the keys it seals with before it changes
// any row: share locks here, the erasure's own locks in PrepareErasure.

// maxKeyRefusals bounds the tries of a batch refused because a key it
// sealed with was destroyed meanwhile.
const maxKeyRefusals = 3

// SealClearEvents seals the personal members of every event stored in
// clear, limit events per transaction, and returns how many it sealed. A
// batch that would seal with a key an erasure destroyed meanwhile is tried
// again with the keys read anew (the erasure sealed its customer's events
// itself).
func (s *Store) SealClearEvents(ctx context.Context, limit int) (int, error) {
	if s.keys == nil {
		return 0, errNoKeyring
	}
	total := 0
	for after, refused := int64(0), 0; ; {
		var (
			last           int64
			looked, sealed int
		)
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			last, looked, sealed, err = s.sealClear(ctx, tx, nil, after, limit, func(keys []uuid.UUID) error {
				_, err := tx.Exec(ctx, `SELECT events_require_live_key(k) FROM unnest($1::uuid[]) AS k`, postgres.UUIDs(keys))
				return err
			})
			return err
		})
		if IsKeyDestroyed(err) && refused < maxKeyRefusals {
			refused++
			s.keys.ForgetAll()
			continue
		}
		if err != nil || looked == 0 {
			return total, err
		}
		total, after, refused = total+sealed, last, 0
	}
}

// sealClear seals the events found in clear after a position, up to limit
// of them, of the given streams only unless they are nil; it returns the
// last position it looked at, how many it looked at and how many it
// sealed. It has lockKeys lock the keys it seals with before it changes
// any row.
func (s *Store) sealClear(ctx context.Context, db Execer, streams []uuid.UUID, after int64, limit int, lockKeys func([]uuid.UUID) error) (last int64, looked, sealed int, err error) {
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
	if len(found) == 0 {
		return after, 0, 0, nil
	}
	type sealedEvent struct {
		position int64
		eventID  uuid.UUID
		data     []byte
		key      pgtype.UUID
	}
	var (
		seals []sealedEvent
		keys  []uuid.UUID
	)
	for _, e := range found {
		k, err := s.keys.ForSealing(ctx, e.customerID)
		if err != nil {
			return after, len(found), 0, err
		}
		data, key, err := sealEvent(k, e.eventID, codec.Schema{EventType: e.eventType, Version: e.schemaVersion}, e.data)
		if err != nil {
			return after, len(found), 0, fmt.Errorf("seal event %s: %w", e.eventID, err)
		}
		if !key.Valid {
			continue // nothing personal in it after all
		}
		seals = append(seals, sealedEvent{e.position, e.eventID, data, key})
		if !slices.Contains(keys, k.ID) {
			keys = append(keys, k.ID)
		}
	}
	last = found[len(found)-1].position
	if len(seals) == 0 {
		return last, len(found), 0, nil
	}
	if err := lockKeys(keys); err != nil {
		return after, len(found), 0, err
	}
	for _, e := range seals {
		tag, err := db.Exec(ctx, sealClearSQL, e.position, string(e.data), e.key)
		if err != nil {
			return after, len(found), sealed, fmt.Errorf("seal event %s: %w", e.eventID, err)
		}
		sealed += int(tag.RowsAffected())
	}
	return last, len(found), sealed, nil
}

// erasedFingerprint replaces the fingerprint of a claim of an erased
// customer's order: no request's fingerprint, keyed or not, is all zeros.
var erasedFingerprint [32]byte

// Execer is a transaction, as PrepareErasure needs it.
type Execer interface {
	postgres.Querier
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// clearDetailsSQL clears the personal columns of the customer's ($1)
// read model rows, but those sealed with a live key other than the keys
// the erasure destroys ($2): a key made after they were locked, for
// personal data recorded while the erasure runs, or one made after the
// erasure that an erasure applied again leaves alone. A value names its
// key in its first 36 characters; a value in clear names none.
const clearDetailsSQL = `
WITH kept AS (
    SELECT key_id::text AS id FROM customer_data_keys
     WHERE customer_id = $1 AND destroyed_at IS NULL AND key_id <> ALL ($2)
)
UPDATE order_details SET
    shipping_address = CASE WHEN left(shipping_address #>> '{}', 36) IN (SELECT id FROM kept) THEN shipping_address END,
    signature        = CASE WHEN left(signature, 36) IN (SELECT id FROM kept) THEN signature END,
    cancel_reason    = CASE WHEN left(cancel_reason, 36) IN (SELECT id FROM kept) THEN cancel_reason END,
    erased = true
 WHERE customer_id = $1
   AND (   (shipping_address IS NOT NULL AND left(shipping_address #>> '{}', 36) NOT IN (SELECT id FROM kept))
        OR (signature IS NOT NULL AND left(signature, 36) NOT IN (SELECT id FROM kept))
        OR (cancel_reason IS NOT NULL AND left(cancel_reason, 36) NOT IN (SELECT id FROM kept)))`

// PrepareErasure makes, in tx, every copy of the customer's personal data
// depend on the keys the erasure destroys alone, so that destroying them
// in the same transaction forgets it all: it seals the customer's events
// stored in clear, clears the personal columns of the customer's read
// model rows (rows written before sealing hold them in clear; the others
// would read as erased anyway), deletes the snapshots of the customer's
// orders, and forgets the fingerprints of the requests that claimed
// idempotency keys on them (a fingerprint of a body holding personal data
// would confirm a guess of it to whoever holds the master key, and an
// unkeyed one of an earlier build to anyone: a replay of such a key is
// refused as a different request). A store without a keyring, which
// writes personal data in clear, refuses with app.ErrPersonalDataNotSealed
// before it touches anything.
//
// lock locks the keys the erasure destroys and returns them (see
// datakeys.Lock). PrepareErasure calls it first, before tx touches any
// other row, and again before it seals with a key it did not return (the
// customer's first, made to seal its events stored in clear); it returns
// what the last call returned, the keys to destroy. Every append that
// sealed with them has committed by then, and its rows are cleared with
// the rest; every later one waits for the erasure and is refused.
func (s *Store) PrepareErasure(ctx context.Context, tx Execer, customerID uuid.UUID, lock func() ([]uuid.UUID, error)) ([]uuid.UUID, error) {
	if s.keys == nil {
		// Sealing off: personal data is stored in clear, and no key
		// destroyed would erase it.
		return nil, app.ErrPersonalDataNotSealed
	}
	locked, err := lock()
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT order_id FROM customer_orders WHERE customer_id = $1`, postgres.UUID(customerID))
	if err != nil {
		return nil, fmt.Errorf("orders of customer %s: %w", customerID, err)
	}
	orders, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("orders of customer %s: %w", customerID, err)
	}
	lockKeys := func(keys []uuid.UUID) error {
		for _, k := range keys {
			if !slices.Contains(locked, k) {
				locked, err = lock()
				return err
			}
		}
		return nil
	}
	for after, looked := int64(0), 1; looked > 0; {
		if after, looked, _, err = s.sealClear(ctx, tx, orders, after, 500, lockKeys); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, clearDetailsSQL, postgres.UUID(customerID), postgres.UUIDs(locked)); err != nil {
		return nil, fmt.Errorf("clear the read model of customer %s: %w", customerID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM stream_snapshots WHERE stream_id = ANY ($1)`, postgres.UUIDs(orders)); err != nil {
		return nil, fmt.Errorf("delete the snapshots of customer %s: %w", customerID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET fingerprint = $2 WHERE order_id = ANY ($1)`,
		postgres.UUIDs(orders), erasedFingerprint[:]); err != nil {
		return nil, fmt.Errorf("forget the request fingerprints of customer %s: %w", customerID, err)
	}
	return locked, nil
}

// foreignSnapshotsSQL deletes up to $2 stream_snapshots rows of another
// fingerprint than $1.
const foreignSnapshotsSQL = `DELETE FROM stream_snapshots WHERE ctid = ANY (ARRAY(
SELECT ctid FROM stream_snapshots WHERE fingerprint <> $1 LIMIT $2))`

// DeleteForeignSnapshots deletes every snapshot this build does not read,
// limit rows per statement, and returns how many: the stream_snapshots
// rows of other fingerprints and the rows of the one-per-stream snapshots
// table of earlier builds. Those written before sealing began hold
// personal data in clear, and no build that could read them runs once
// every replica seals; a snapshot is a cache, so deleting one changes no
// answer. This build's fingerprint is the store's codec's, whether or
// not the store itself snapshots.
func (s *Store) DeleteForeignSnapshots(ctx context.Context, limit int) (int64, error) {
	fingerprint, err := snapshot.Fingerprint(s.codec)
	if err != nil {
		return 0, err
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, foreignSnapshotsSQL, fingerprint, limit)
		if err != nil {
			return total, fmt.Errorf("delete the snapshots of other builds: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(limit) {
			break
		}
	}
	var legacy bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('snapshots') IS NOT NULL`).Scan(&legacy); err != nil {
		return total, fmt.Errorf("find the snapshots table of earlier builds: %w", err)
	}
	if !legacy {
		return total, nil
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM snapshots`)
	if err != nil {
		return total, fmt.Errorf("delete the snapshots of earlier builds (table snapshots): %w", err)
	}
	return total + tag.RowsAffected(), nil
}
