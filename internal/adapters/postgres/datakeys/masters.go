package datakeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
