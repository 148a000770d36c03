package erasure

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetBetween runs f in each erasure's transaction after the keys'
// destruction and before the record; an error of f ends the transaction.
func (s *Store) SetBetween(f func(ctx context.Context, tx pgx.Tx) error) { s.betweenForTests = f }
