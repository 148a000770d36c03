package eventstore

import (
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Store is the event store and read model of orderapi over PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	codec *codec.Codec
	// snaps is nil when snapshots are off; see Config.SnapshotEvery.
	snaps *snapshots
	// snapsErr says why snapshots are off although they were asked for.
	snapsErr error
	// announce, if set, is told of every committed append.
	announce *notify.Announcer
	// orders answers GetOrder: the reads that arrive while others run
	// are made in one statement.
	orders *coalesce.Coalescer[uuid.UUID, order.Order]
	// unreadable counts the stored events readers could not decode.
	unreadable atomic.Int64
	// outcomeWait is how long an append sent waits for its outcome:
	// appendOutcomeWait, shorter in tests; endWait how long resolving it
	// waits for its session to end when told to: half of resolveWait.
	outcomeWait, endWait time.Duration
	// endSession is endSessionSQL; tests make it report false.
	endSession string
}

// Store serves both the command side and the query side of the app.
var (
	_ app.EventStore = (*Store)(nil)
	_ app.ReadModel  = (*Store)(nil)
)

// Config sets up a Store. The zero value is usable.
type Config struct {
	// DefaultCurrency is the currency of orders whose OrderCreated was
	// stored without one; see codec.Config.
	DefaultCurrency order.Currency
	// SnapshotEvery turns snapshots on when positive: reads of an order
	// start from its newest snapshot within their bound, and a read
	// whose fold passed a multiple of SnapshotEvery hands the state it
	// had there to the SnapshotWriter, when one runs.
	SnapshotEvery int
	// Announcer, if set, is told of every committed append, so that the
	// Listeners of every replica wake.
	Announcer *notify.Announcer
	// Keyring seals and opens customers' personal data; nil stores it in
	// clear (only for tests of other concerns: the service always sets it).
	Keyring *personaldata.Keyring
	// Reads bounds how GetOrder coalesces the reads of this store's pool:
	// how many statements run at once, how many orders each reads (at
	// most 64). The zero value is coalesce's defaults.
	Reads coalesce.Config
}

// New returns a Store over a pool whose database has been migrated.
func New(pool *pgxpool.Pool, cfg Config) *Store {
	s := &Store{pool: pool, codec: codec.New(codec.Config{DefaultCurrency: cfg.DefaultCurrency}), announce: cfg.Announcer,
		outcomeWait: appendOutcomeWait, endWait: resolveWait / 2, endSession: endSessionSQL}
	reads := cfg.Reads
	if reads.MaxBatch < 1 || reads.MaxBatch > maxOrdersPerRead {
		reads.MaxBatch = maxOrdersPerRead
	}
	s.orders = coalesce.New(s.readOrders, reads)
	if cfg.SnapshotEvery > 0 {
		s.snaps, s.snapsErr = newSnapshots(s.codec, cfg.SnapshotEvery)
	}
	return s
}

// Close waits for the reads in flight to end and refuses further
// GetOrder calls; close it before its pool.
func (s *Store) Close() { s.orders.Close() }

// Pool is the pool the store reads and writes through.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Codec is the event codec the store reads and writes with.
func (s *Store) Codec() *codec.Codec { return s.codec }
