package notify

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/rs/zerolog"
)

// announceRetry is how long an Announcer waits after a failed
// announcement before it tries again.
const announceRetry = 100 * time.Millisecond

// Announcer tells every replica's Listener that events were appended, by a
// notification on Channel sent after the appending transactions
// commit.
//
// The notification is not sent by the appending transaction itself:
// PostgreSQL serializes the commits of all transactions that notify (they
// take one database-wide lock from before their commit record is written
// until it is flushed), which would undo group commit and halve the rate
// of appends. Instead a commit pokes the Announcer, and the Announcer sends
// one notification for every burst of pokes, in a transaction of its own
// that does not wait for its commit to be flushed: a wake-up is a hint,
// never data, so losing one to a crash costs only a reader's next poll.
type Announcer struct {
	pool  *pgxpool.Pool
	log   zerolog.Logger
	poke  chan struct{}
	local *Listener
}

// NewAnnouncer returns an Announcer over the pool. local, if not nil, is
// the replica's own Listener: it wakes its subscribers on every append at
// once, without waiting for the notification's round trip.
func NewAnnouncer(pool *pgxpool.Pool, log zerolog.Logger, local *Listener) *Announcer {
	return &Announcer{pool: pool, log: log, poke: make(chan struct{}, 1), local: local}
}

// Appended records that events were committed. It never blocks: pokes
// that arrive while a notification is pending are folded into it.
func (a *Announcer) Appended() {
	if a.local != nil {
		a.local.wakeAll()
	}
	select {
	case a.poke <- struct{}{}:
	default:
	}
}

// Run sends the notifications until ctx ends, then returns ctx's error.
// A failed notification is retried: the poke that asked for it is kept.
func (a *Announcer) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.poke:
		}
		for {
			err := a.notify(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.log.Warn().Err(err).Msg("announcing appended events failed")
			if err := postgres.Sleep(ctx, announceRetry); err != nil {
				return err
			}
		}
	}
}

// notify sends one notification, in one round trip.
func (a *Announcer) notify(ctx context.Context) error {
	b := postgres.RelaxedBatch()
	b.Queue("SELECT pg_notify($1, '')", Channel)
	b.Queue("COMMIT")
	return a.pool.SendBatch(ctx, b).Close()
}
