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

// Announcer tells every replica's Listener that events were appended, by
// a notification on Channel sent after the appending transactions commit:
// one per burst of Appended calls, in a relaxed-commit transaction of its
// own, never in the append's (notifying transactions commit one at a
// time). A wake-up is a hint: losing one costs a reader its next poll.
// See docs/design.md, "Wake-ups".
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
