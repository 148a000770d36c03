package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// analyticsLockKey is the PostgreSQL session advisory lock that elects the
// one replica running the analytics consumer: "orderapi" in ASCII, so it
// cannot meet goose's migration lock or another key by chance.
const analyticsLockKey int64 = 0x6f72646572617069

// Defaults of AnalyticsConfig.
const (
	defaultAnalyticsBatch  = 500
	defaultAnalyticsPoll   = time.Second
	defaultAnalyticsRetry  = time.Second
	defaultAnalyticsLinger = 10 * time.Millisecond
	defaultAnalyticsStall  = 30 * time.Second
	// analyticsStepTimeout bounds each read and each batch of the
	// consumer, so that a connection that hangs without failing (a network
	// partition) cannot stall it forever; the connection is then closed.
	analyticsStepTimeout = 30 * time.Second
)

// AnalyticsConfig tunes an Analytics projection. The zero value is usable.
type AnalyticsConfig struct {
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
	Wake interface {
		Subscribe() (wake <-chan struct{}, cancel func())
	}
	// Linger is how long a woken consumer waits before it reads, so that
	// the appends of a busy moment are counted in one transaction (each
	// costs a commit) instead of one each; 10ms if zero, none if
	// negative.
	Linger time.Duration
	// StalledRetry is how often a consumer stopped before an event it
	// cannot decode looks at it again; 30s if zero.
	StalledRetry time.Duration
}

// Analytics is the asynchronous analytics projection: daily figures per
// currency, folded from the global feed by a consumer that runs in exactly
// one replica at a time, and the queries over them and over the progress
// of every projection.
//
// Run is the consumer. Each replica calls it; the one that takes a session
// advisory lock consumes, the others try again every LockRetry. The holder
// does all its work on the connection that holds the lock, so that it
// cannot write once that session is gone, and a query fails at once when
// the connection dies; when the holding process dies, PostgreSQL ends the
// session, releases the lock, and another replica takes over within
// LockRetry. Each batch's effects and the checkpoint's compare-and-set
// commit together, so every event counts exactly once across crashes,
// restarts and takeovers, and even two consumers running at once could
// not count one twice.
type Analytics struct {
	pool  *pgxpool.Pool
	codec *Codec
	log   zerolog.Logger
	cfg   AnalyticsConfig
	held  atomic.Bool

	// beforeCommit, if set, runs before each batch commits: tests stop
	// the consumer there.
	beforeCommit func(context.Context)
}

var _ app.AnalyticsStore = (*Analytics)(nil)

// NewAnalytics returns the analytics projection over the store's database.
// It consumes once Run runs; its queries work at once.
func NewAnalytics(store *Store, log zerolog.Logger, cfg AnalyticsConfig) (*Analytics, error) {
	if store == nil {
		return nil, errors.New("postgres: NewAnalytics needs a store")
	}
	if cfg.BatchSize < 0 || cfg.Poll < 0 || cfg.LockRetry < 0 {
		return nil, fmt.Errorf("postgres: negative AnalyticsConfig %+v", cfg)
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
	return &Analytics{pool: store.pool, codec: store.codec, log: log.With().Str("projection", analyticsName).Logger(), cfg: cfg}, nil
}

// HoldsLock reports whether this process runs the consumer now.
func (a *Analytics) HoldsLock() bool { return a.held.Load() }

// Run takes part in the election of the consumer until ctx ends, then
// returns ctx's error: it tries the lock every LockRetry, and while it
// holds it, consumes. A consumer that fails (its connection lost, the
// database down) gives the lock up and competes again.
func (a *Analytics) Run(ctx context.Context) error {
	for {
		err := a.lead(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			a.log.Warn().Err(err).Dur("retry_in", a.cfg.LockRetry).Msg("analytics consumer failed; competing for its lock again")
		}
		if err := sleep(ctx, a.cfg.LockRetry); err != nil {
			return err
		}
	}
}

// lead tries the lock once on a connection of the pool. Without it, the
// connection goes back to the pool and lead returns nil. With it, the
// connection stays out of the pool and consumes until an error or the end
// of ctx; then it is closed, which ends the session and so releases the
// lock even if unlocking could not be sent.
func (a *Analytics) lead(ctx context.Context) error {
	conn, err := a.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire a connection: %w", err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", analyticsLockKey).Scan(&locked); err != nil {
		// The connection may be broken: close it rather than pool it.
		closeConn(conn)
		return fmt.Errorf("try the analytics lock: %w", err)
	}
	if !locked {
		conn.Release()
		return nil
	}
	a.held.Store(true)
	a.log.Info().Msg("analytics lock taken: consuming the feed")
	defer func() {
		a.held.Store(false)
		closeConn(conn)
		a.log.Info().Msg("analytics lock released")
	}()
	return a.consume(ctx, conn.Conn())
}

// closeConn closes a pooled connection and drops it from the pool.
func closeConn(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx)
	conn.Release()
}
