package datakeys

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// DestroyKeys is Destroy for those of the customer's keys named that are
// live: an erasure applied again (after a restore) destroys what it
// destroyed the first time, and none of the keys the customer's later
// personal data got. Every replica is told once tx commits, if it
// destroyed any.
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
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ErasedChannel, customerID.String()); err != nil {
			return nil, fmt.Errorf("announce the erasure of customer %s: %w", customerID, err)
		}
	}
	return ids, nil
}
