package postgres

import (
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/app"
)

// Store is the event store and read model of orderapi over PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	codec *Codec
	// snaps is nil when snapshots are off; see WithSnapshots.
	snaps *snapshots
	// snapsErr says why snapshots are off although they were asked for.
	snapsErr error
	// announce, if set, is told of every committed append.
	announce *Announcer
	// unreadable counts the stored events readers could not decode.
	unreadable atomic.Int64
	// outcomeWait is how long an append sent waits for its outcome:
	// appendOutcomeWait, shorter in tests; endWait how long resolving it
	// waits for its session to end when told to: half of resolveWait.
	outcomeWait, endWait time.Duration
	// endSession is endSessionSQL; tests make it report false.
	endSession string
	// verifyChunk is about how many orders each of verify's transactions
	// compares: verifyChunk, fewer in tests, which may also act between
	// two (afterVerifyRange).
	verifyChunk      int
	afterVerifyRange func()
}

// Store serves both the command side and the query side of the app.
var (
	_ app.EventStore = (*Store)(nil)
	_ app.ReadModel  = (*Store)(nil)
)

// Option configures a Store: a CodecOption (WithDefaultCurrency),
// WithSnapshots or WithAnnouncer.
type Option interface {
	configure(*storeConfig)
}

type storeConfig struct {
	codec         []CodecOption
	snapshotEvery int
	announce      *Announcer
}

// WithAnnouncer has every committed append announced through a, so that
// the Listeners of every replica wake.
func WithAnnouncer(a *Announcer) Option { return announcerOption{a} }

type announcerOption struct{ a *Announcer }

func (o announcerOption) configure(c *storeConfig) { c.announce = o.a }

func (o CodecOption) configure(c *storeConfig) { c.codec = append(c.codec, o) }

// NewStore returns a Store over a pool whose database has been migrated.
func NewStore(pool *pgxpool.Pool, opts ...Option) *Store {
	var cfg storeConfig
	for _, opt := range opts {
		opt.configure(&cfg)
	}
	s := &Store{pool: pool, codec: NewCodec(cfg.codec...), announce: cfg.announce,
		outcomeWait: appendOutcomeWait, endWait: resolveWait / 2, endSession: endSessionSQL, verifyChunk: verifyChunk}
	if cfg.snapshotEvery > 0 {
		s.snaps, s.snapsErr = newSnapshots(s.codec, cfg.snapshotEvery)
	}
	return s
}
