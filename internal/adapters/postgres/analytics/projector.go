package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// lockKey is the PostgreSQL session advisory lock that elects the
// one replica running the analytics consumer: "orderapi" in ASCII, so it
// cannot meet goose's migration lock or another key by chance.
const lockKey int64 = 0x6f72646572617069

// Defaults of Config.
const (
	defaultAnalyticsBatch  = 500
	defaultAnalyticsPoll   = time.Second
	defaultAnalyticsRetry  = time.Second
	defaultAnalyticsLinger = 10 * time.Millisecond
	defaultAnalyticsStall  = 30 * time.Second
	// defaultCachedOrders bounds the consumer's memory of orders: about
	// 2 KB each for orders of 40 lines, so some 20 MB at most.
	defaultCachedOrders = 10_000
	// analyticsStepTimeout bounds each read and each batch of the
	// consumer, so that a connection that hangs without failing (a network
	// partition) cannot stall it forever; the connection is then closed.
	analyticsStepTimeout = 30 * time.Second
)

// Config tunes an Analytics projection. The zero value is usable.
type Config struct {
	// BatchSize is the most events counted in one transaction; 500 if zero.
	BatchSize int
	// Poll is how long an idle consumer waits for a wake-up before it
	// reads the feed anyway; 1s if zero.
	Poll time.Duration
	// LockRetry is how often a replica without the consumer's lock tries
	// to take it, and how soon a consumer that failed tries again; 1s if
	// zero.
	LockRetry time.Duration
	// Wake, if not nil, wakes the consumer when events are appended (a
	// *Listener does); without it the consumer polls.
	Wake app.Waker
	// Linger is how long a woken consumer waits before it reads, so that
	// the appends of a busy moment are counted in one transaction (each
	// costs a commit) instead of one each; 10ms if zero, none if
	// negative.
	Linger time.Duration
	// StalledRetry is how often a consumer stopped before an event it
	// cannot decode looks at it again; 30s if zero.
	StalledRetry time.Duration
	// CachedOrders is how many orders the consumer remembers the state of
	// between batches while it holds the lock, so that it reads an
	// order's row only when it first meets it; 10,000 if zero, none if
	// negative. The least recently counted are forgotten first, and read
	// again when they are next met.
	CachedOrders int
}

// Projector is the asynchronous analytics projection: daily figures per
// currency, folded from the global feed by a consumer that runs in exactly
// one replica at a time (Run, under a postgres.Lock), and the queries over
// them and over the progress of every projection. Every event counts
// exactly once across crashes, restarts and takeovers. See docs/design.md,
// "The analytics projection" and "Single-active workers".
type Projector struct {
	pool  *pgxpool.Pool
	codec *codec.Codec
	log   zerolog.Logger
	cfg   Config
	lock  *postgres.Lock

	// beforeCommit, if set, runs before each batch commits: tests stop
	// the consumer there.
	beforeCommit func(context.Context)
}

var _ app.AnalyticsStore = (*Projector)(nil)

// New returns the analytics projection over the store's database.
// It consumes once Run runs; its queries work at once.
func New(store *eventstore.Store, log zerolog.Logger, cfg Config) (*Projector, error) {
	if store == nil {
		return nil, errors.New("analytics: New needs a store")
	}
	if cfg.BatchSize < 0 || cfg.Poll < 0 || cfg.LockRetry < 0 {
		return nil, fmt.Errorf("analytics: negative Config %+v", cfg)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = defaultAnalyticsBatch
	}
	if cfg.Poll == 0 {
		cfg.Poll = defaultAnalyticsPoll
	}
	if cfg.LockRetry == 0 {
		cfg.LockRetry = defaultAnalyticsRetry
	}
	if cfg.Linger == 0 {
		cfg.Linger = defaultAnalyticsLinger
	}
	if cfg.StalledRetry <= 0 {
		cfg.StalledRetry = defaultAnalyticsStall
	}
	if cfg.CachedOrders == 0 {
		cfg.CachedOrders = defaultCachedOrders
	}
	p := &Projector{pool: store.Pool(), codec: store.Codec(), log: log.With().Str("projection", analyticsName).Logger(), cfg: cfg}
	p.lock = newLock(p.pool, p.log, cfg.LockRetry)
	return p, nil
}

// newLock is the lock that elects the consumer.
func newLock(pool *pgxpool.Pool, log zerolog.Logger, retry time.Duration) *postgres.Lock {
	return postgres.NewLock(pool, postgres.LockConfig{Key: lockKey, Name: "analytics", Retry: retry, Log: log})
}

// HoldsLock reports whether this process runs the consumer now.
func (a *Projector) HoldsLock() bool { return a.lock.Held() }

// HeldConns is how many of the pool's connections a running consumer
// keeps: the session holding its lock, in the replica that holds it.
func (a *Projector) HeldConns() int { return 1 }

// Run takes part in the election of the consumer until ctx ends, then
// returns ctx's error: it tries the lock every LockRetry, and while it
// holds it, consumes on the lock's connection. A consumer that fails (its
// connection lost, the database down) gives the lock up and competes
// again.
func (a *Projector) Run(ctx context.Context) error {
	return a.lock.Run(ctx, a.consume)
}
