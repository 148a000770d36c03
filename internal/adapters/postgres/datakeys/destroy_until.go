package datakeys

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DestroyMadeBy is Destroy for the customer's live keys made at or
// before t only: an erasure applied again (after a restore) destroys what
// it destroyed the first time, and none of the keys the customer's later
// personal data got. Every replica is told once tx commits, if it
// destroyed any.
func DestroyMadeBy(ctx context.Context, tx Execer, customerID uuid.UUID, t time.Time) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `UPDATE customer_data_keys
   SET wrapped_key = NULL, master_key_id = NULL, destroyed_at = now()
 WHERE customer_id = $1 AND destroyed_at IS NULL AND created_at <= $2
RETURNING key_id`, customerID, t)
	if err != nil {
		return nil, fmt.Errorf("destroy data keys of customer %s made by %s: %w", customerID, t.Format(time.RFC3339Nano), err)
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
