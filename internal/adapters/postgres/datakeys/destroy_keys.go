package datakeys

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// An erasure locks the keys it destroys before it touches any other row.
// An append that seals with a key share-locks the key's row as it inserts
// its events (events_require_live_key), before it writes any other row:
// so an erasure and an append each wait for the other only at the key,
// never one at the key and the other at a row the first holds. FOR NO KEY
// UPDATE is the lock the destruction's UPDATE takes itself (no column of
// a foreign-key-usable unique index changes: the live-key index is
// partial), so nothing upgrades it later; it conflicts with the appends'
// FOR SHARE and with another erasure's lock. An insert of a new live key
// for the customer does not wait for it: it finds the locked key live and
// inserts nothing (insertLiveSQL), and an append sealing with that key
// waits, then is refused (OAKEY) once it is destroyed.

// lockSQL locks the customer's live keys, or only those of $2 unless it
// is NULL, in key order.
const lockSQL = `SELECT key_id FROM customer_data_keys
 WHERE customer_id = $1 AND destroyed_at IS NULL AND ($2::uuid[] IS NULL OR key_id = ANY ($2))
 ORDER BY key_id
   FOR NO KEY UPDATE`

// Lock locks the customer's live keys in tx, for their destruction by
// DestroyKeys in the same transaction, and returns their ids. It waits
// for the appends sealing with them to commit. Call it before tx touches
// any other row.
func Lock(ctx context.Context, tx Execer, customerID uuid.UUID) ([]uuid.UUID, error) {
	return lock(ctx, tx, customerID, nil)
}

// LockKeys is Lock for those of the customer's keys named that are live.
func LockKeys(ctx context.Context, tx Execer, customerID uuid.UUID, keys []uuid.UUID) ([]uuid.UUID, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	return lock(ctx, tx, customerID, postgres.UUIDs(keys))
}

func lock(ctx context.Context, tx Execer, customerID uuid.UUID, keys any) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, lockSQL, customerID, keys)
	if err != nil {
		return nil, fmt.Errorf("lock data keys of customer %s: %w", customerID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("lock data keys of customer %s: %w", customerID, err)
	}
	return ids, nil
}

// DestroyKeys destroys those of the customer's keys named that are live,
// locked by Lock or LockKeys first, and returns their ids. Every replica
// is told once tx commits, if it destroyed any.
func DestroyKeys(ctx context.Context, tx Execer, customerID uuid.UUID, keys []uuid.UUID) ([]uuid.UUID, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `UPDATE customer_data_keys
   SET wrapped_key = NULL, master_key_id = NULL, destroyed_at = now()
 WHERE customer_id = $1 AND destroyed_at IS NULL AND key_id = ANY ($2)
RETURNING key_id`, customerID, postgres.UUIDs(keys))
	if err != nil {
		return nil, fmt.Errorf("destroy data keys of customer %s: %w", customerID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("destroy data keys of customer %s: %w", customerID, err)
	}
	if len(ids) > 0 {
		// Sent on commit, with the transaction: never for an erasure
		// that rolled back.
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ErasedChannel, customerID.String()); err != nil {
			return nil, fmt.Errorf("announce the erasure of customer %s: %w", customerID, err)
		}
	}
	return ids, nil
}
