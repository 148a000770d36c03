package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/app"
)

// Store is the event store and read model of orderapi over PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	codec *Codec
}

// Store serves both the command side and the query side of the app.
var (
	_ app.EventStore = (*Store)(nil)
	_ app.ReadModel  = (*Store)(nil)
)

// NewStore returns a Store over a pool whose database has been migrated.
// opts set up its codec (WithDefaultCurrency).
func NewStore(pool *pgxpool.Pool, opts ...CodecOption) *Store {
	return &Store{pool: pool, codec: NewCodec(opts...)}
}
