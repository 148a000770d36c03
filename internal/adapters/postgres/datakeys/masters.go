package datakeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// undefinedTable is PostgreSQL's SQLSTATE for a table that does not exist.
const undefinedTable = "42P01"

// WrappedBy counts the live data keys by the master key that wraps them:
// what a configuration must hold to read them, and what a rotation has
// left to re-wrap. A database not yet migrated to data keys has none.
func (s *Store) WrappedBy(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT master_key_id, count(*) FROM customer_data_keys
 WHERE destroyed_at IS NULL GROUP BY master_key_id`)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == undefinedTable {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("count data keys by master key: %w", err)
	}
	counts := map[string]int64{}
	var (
		id string
		n  int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { counts[id] = n; return nil }); err != nil {
		return nil, fmt.Errorf("count data keys by master key: %w", err)
	}
	return counts, nil
}

// masterBinding is the service_secrets row that names the master key the
// database's data keys are wrapped by.
const masterBinding = "master_key_id"

// BindMaster returns the id of the master key the database is bound to,
// binding it to current when it is bound to none yet: the first replica
// to start decides, and a replica given another master key can then be
// refused before it wraps a single data key with it (on a database whose
// data keys all wrap under one key, the keys alone could not tell). A
// database that takes no writes yet is not bound by this call: "" if it
// is bound to none.
func (s *Store) BindMaster(ctx context.Context, current string) (string, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO service_secrets (name, value) VALUES ($1, convert_to($2, 'UTF8'))
ON CONFLICT (name) DO NOTHING`, masterBinding, current); err != nil && !postgres.IsReadOnly(err) {
		return "", fmt.Errorf("bind the database to master key %s: %w", current, err)
	}
	var bound string
	err := s.pool.QueryRow(ctx, `SELECT convert_from(value, 'UTF8') FROM service_secrets WHERE name = $1`, masterBinding).Scan(&bound)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("the database's master key: %w", err)
	}
	return bound, nil
}

// Rebind binds the database to master key current, once no live data key
// is wrapped by another: the last step of a rotation.
func (s *Store) Rebind(ctx context.Context, current string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE service_secrets SET value = convert_to($2, 'UTF8') WHERE name = $1`, masterBinding, current); err != nil {
		return fmt.Errorf("bind the database to master key %s: %w", current, err)
	}
	return nil
}

// Made counts the data keys ever stored, destroyed ones included: every
// one may have sealed personal data. A database not yet migrated to data
// keys has none.
func (s *Store) Made(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM customer_data_keys`).Scan(&n)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == undefinedTable {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count data keys: %w", err)
	}
	return n, nil
}
