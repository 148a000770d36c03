package standby

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// positionSQL probes the primary for the event at position $1 and for what
// may yet commit one there: the transactions writing events now, or those
// of $2 still writing. An insert locks events before the identity hands
// it positions and keeps the lock until its commit or rollback is
// visible; so once every transaction that held it when a position was
// missed has ended, a snapshot taken after says for good whether the
// position has an event. head is the newest committed position.
const positionSQL = `
SELECT EXISTS (SELECT 1 FROM events WHERE position = $1),
       coalesce((SELECT max(position) FROM events), 0),
       ARRAY(SELECT DISTINCT l.virtualtransaction
               FROM pg_locks l
              WHERE l.locktype = 'relation' AND l.granted
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND l.relation = 'events'::regclass
                AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
                AND ($2::text[] IS NULL OR l.virtualtransaction = ANY ($2::text[])))`

// primaryHas returns once the primary has committed the event at
// position. A client has its position from a command that committed, so
// one the primary lacks is a guess, or from elsewhere: it is waited for,
// until deadline, while a transaction that was writing events when it was
// first missed runs (app.ErrPositionNotReached if one still does), and
// refused as app.ErrUnknownPosition once none does: it is beyond every
// event, or its write rolled back, and no retry would find it.
func (r *Router) primaryHas(ctx context.Context, position int64, deadline time.Time) error {
	pool := r.primary.Pool()
	// Mostly the primary has it: a standby lacked it.
	if ok, err := eventAt(ctx, pool, position); err != nil || ok {
		return wrapPosition(position, err)
	}
	var (
		writers []string // nil until the first probe
		ended   bool
	)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		committed, head, running, err := probePosition(ctx, pool, position, writers)
		switch {
		case err != nil:
			return wrapPosition(position, err)
		case committed:
			return nil
		case ended:
			return unknownPosition(position, head)
		}
		if writers == nil {
			writers = append([]string{}, running...)
		}
		// Once they have all ended, one more probe, in a snapshot taken
		// after, settles it.
		if ended = len(running) == 0; ended {
			continue
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no committed event at position %d, and a write that may commit it still runs: %w", position, app.ErrPositionNotReached)
		}
		if err := postgres.Sleep(ctx, min(delay, left)); err != nil {
			return err
		}
	}
}

func probePosition(ctx context.Context, pool *pgxpool.Pool, position int64, writers []string) (committed bool, head int64, running []string, err error) {
	defer postgres.MarkUnavailable(&err)
	err = pool.QueryRow(ctx, positionSQL, position, writers).Scan(&committed, &head, &running)
	return committed, head, running, err
}

func wrapPosition(position int64, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("event at position %d: %w", position, err)
}

// unknownPosition is app.ErrUnknownPosition, saying why: beyond the newest
// event, head, or a hole a rolled-back write left.
func unknownPosition(position, head int64) error {
	why := "the write it was handed to did not commit, and positions are not used again"
	if position > head {
		why = "it is beyond every event written, so no command has answered with it"
	}
	return fmt.Errorf("event at position %d: %w", position, &app.Error{Code: app.ErrUnknownPosition.Code,
		Message: fmt.Sprintf("no event has position %d, and no write running may give it one: %s; pass back the X-Event-Position of a command that succeeded", position, why)})
}
