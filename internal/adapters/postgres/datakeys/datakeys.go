// Package datakeys keeps customers' wrapped data keys in PostgreSQL (the
// customer_data_keys table): the key store of personaldata.Keyring, and
// their destruction when a customer's personal data is erased.
package datakeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// Store is the key store over a pool of the primary: keys are read where
// they are destroyed, never from a standby that may not have replayed a
// destruction yet.
type Store struct {
	pool *pgxpool.Pool
}

// New returns the key store over the pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const (
	keyColumns = `key_id, customer_id, wrapped_key, coalesce(master_key_id, '')`

	// insertLiveSQL stores a candidate key unless the customer has a live
	// one, and returns the customer's live key either way. A concurrent
	// insert for the same customer makes ON CONFLICT wait and then do
	// nothing, while the SELECT's snapshot predates it: no row, and the
	// caller asks again.
	insertLiveSQL = `WITH made AS (
    INSERT INTO customer_data_keys (key_id, customer_id, wrapped_key, master_key_id)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (customer_id) WHERE destroyed_at IS NULL DO NOTHING
    RETURNING ` + keyColumns + `)
SELECT * FROM made
UNION ALL
SELECT ` + keyColumns + ` FROM customer_data_keys WHERE customer_id = $2 AND destroyed_at IS NULL
LIMIT 1`

	selectLiveSQL = `SELECT ` + keyColumns + ` FROM customer_data_keys WHERE customer_id = $1 AND destroyed_at IS NULL`
	selectKeySQL  = `SELECT ` + keyColumns + ` FROM customer_data_keys WHERE key_id = $1`
)

// InsertCandidatesSQL stores keys made for customers that had none live
// (personaldata.Candidate), in customer order, each unless its customer
// has a live key by then: the statement a writer sends ahead of the one
// that seals with them, in one transaction. A key not stored leaves what
// it sealed refused by the events' trigger (OAKEY), so the transaction
// rolls back whole. Two transactions storing keys of the same customers
// take the live-key index's entries in one order, so neither waits for
// the other while holding one the other waits for.
const InsertCandidatesSQL = `INSERT INTO customer_data_keys (key_id, customer_id, wrapped_key, master_key_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bytea[], $4::text[]) AS k(key_id, customer_id, wrapped_key, master_key_id)
 ORDER BY k.customer_id
ON CONFLICT (customer_id) WHERE destroyed_at IS NULL DO NOTHING`

// CandidatesArgs are InsertCandidatesSQL's arguments for keys.
func CandidatesArgs(keys []personaldata.StoredKey) []any {
	ids, customers := make([]uuid.UUID, len(keys)), make([]uuid.UUID, len(keys))
	wrapped, masters := make([][]byte, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		ids[i], customers[i], wrapped[i], masters[i] = k.ID, k.CustomerID, k.Wrapped, k.MasterKeyID
	}
	return []any{postgres.UUIDs(ids), postgres.UUIDs(customers), wrapped, masters}
}

// LiveKey implements personaldata.KeyStore.
func (s *Store) LiveKey(ctx context.Context, customerID uuid.UUID, candidate *personaldata.StoredKey) (personaldata.StoredKey, bool, error) {
	if candidate == nil {
		return s.one(ctx, selectLiveSQL, customerID)
	}
	for range 3 {
		k, ok, err := s.one(ctx, insertLiveSQL, candidate.ID, customerID, candidate.Wrapped, candidate.MasterKeyID)
		if err != nil || ok {
			return k, ok, err
		}
	}
	return personaldata.StoredKey{}, false, fmt.Errorf("live key of customer %s: made and destroyed again while being stored", customerID)
}

// Key implements personaldata.KeyStore.
func (s *Store) Key(ctx context.Context, id uuid.UUID) (personaldata.StoredKey, bool, error) {
	return s.one(ctx, selectKeySQL, id)
}

func (s *Store) one(ctx context.Context, sql string, args ...any) (personaldata.StoredKey, bool, error) {
	var k personaldata.StoredKey
	err := s.pool.QueryRow(ctx, sql, args...).Scan(&k.ID, &k.CustomerID, &k.Wrapped, &k.MasterKeyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return personaldata.StoredKey{}, false, nil
	}
	if err != nil {
		return personaldata.StoredKey{}, false, err
	}
	return k, true, nil
}

// Execer is what Destroy needs: a transaction, so that the destruction
// commits with the record of the erasure or not at all.
type Execer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ErasedChannel is the notification channel on which every replica hears
// of an erasure, so that it forgets the customer's cached keys. The
// payload is the customer's id.
const ErasedChannel = "orderapi_personal_data_erased"

// Rewrap re-wraps every data key that a master key other than the
// keyring's current one wraps, one key per statement, and returns how
// many it re-wrapped. A key destroyed meanwhile is left destroyed.
func (s *Store) Rewrap(ctx context.Context, keyring *personaldata.Keyring) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM customer_data_keys
 WHERE destroyed_at IS NULL AND master_key_id <> $1 ORDER BY key_id`, keyring.CurrentMasterKeyID())
	if err != nil {
		return 0, err
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (personaldata.StoredKey, error) {
		var k personaldata.StoredKey
		return k, r.Scan(&k.ID, &k.CustomerID, &k.Wrapped, &k.MasterKeyID)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		re, err := keyring.Rewrap(ctx, k)
		if err != nil {
			return n, err
		}
		tag, err := s.pool.Exec(ctx, `UPDATE customer_data_keys SET wrapped_key = $2, master_key_id = $3
 WHERE key_id = $1 AND master_key_id = $4 AND destroyed_at IS NULL`, k.ID, re.Wrapped, re.MasterKeyID, k.MasterKeyID)
		if err != nil {
			return n, fmt.Errorf("re-wrap data key %s: %w", k.ID, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
