package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// constraintIdempotencyKey is the primary key of idempotency_keys
// (migrations/00014_idempotency_principal.sql): a second claim of a key by
// one principal violates it.
const constraintIdempotencyKey = "idempotency_keys_pkey"

// LookupIdempotency returns the record of the commit by which principal
// claimed key, unless its claim has expired. Expiry is judged by the
// database's clock, like the claim's expires_at, so that every replica
// agrees.
func (s *Store) LookupIdempotency(ctx context.Context, principal, key string) (_ app.IdempotencyRecord, found bool, err error) {
	defer postgres.MarkUnavailable(&err)
	var (
		rec         app.IdempotencyRecord
		fingerprint []byte
	)
	err = s.pool.QueryRow(ctx, `
SELECT fingerprint, order_id, version, position
  FROM idempotency_keys
 WHERE principal = $1 AND key = $2 AND expires_at > now()`, principal, key).Scan(&fingerprint, &rec.OrderID, &rec.Version, &rec.Position)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return app.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	if len(fingerprint) != len(rec.Fingerprint) {
		return app.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key: fingerprint of %d bytes", len(fingerprint))
	}
	copy(rec.Fingerprint[:], fingerprint)
	return rec, true, nil
}

// PurgeIdempotencyKeys deletes up to limit expired claims, oldest first,
// and returns how many it deleted. Replicas may purge at once: each skips
// the rows another is deleting.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, limit int) (_ int64, err error) {
	defer postgres.MarkUnavailable(&err)
	tag, err := s.pool.Exec(ctx, `
DELETE FROM idempotency_keys
 WHERE (principal, key) IN (SELECT principal, key FROM idempotency_keys
                             WHERE expires_at <= now()
                             ORDER BY expires_at
                             LIMIT $1
                               FOR UPDATE SKIP LOCKED)`, limit)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// freeExpiredKey deletes the principal's claim of key if it has expired,
// and reports whether the key is free now: no unexpired claim holds it.
// An append refused on the key retries when it is, so that an expired key
// is new without waiting for the purge.
func (s *Store) freeExpiredKey(ctx context.Context, principal, key string) (bool, error) {
	var held bool
	err := s.pool.QueryRow(ctx, `
WITH expired AS (
    DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND expires_at <= now()
)
SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE principal = $1 AND key = $2 AND expires_at > now())`, principal, key).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("free expired idempotency key: %w", err)
	}
	return !held, nil
}

// isKeyClaimed reports whether PostgreSQL refused an append because its
// idempotency key is claimed already, by the constraint's name.
func isKeyClaimed(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == sqlstateUniqueViolation &&
		pgErr.ConstraintName == constraintIdempotencyKey
}
