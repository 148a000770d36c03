package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
)

// consume is the consumer's loop, run on the connection that holds the
// lock: read a batch after the checkpoint, count it, repeat; when the
// feed is drained, wait for a wake-up or the poll. Each cycle begins with
// a query on the lock's connection, so a consumer whose session died
// stops at its next cycle, never later than Poll. Its memory of the
// orders lives as long as this holding of the lock: a replica that takes
// the lock again starts from the database.
func (a *Projector) consume(ctx context.Context, conn *pgx.Conn) error {
	var wake <-chan struct{} // nil never fires: poll only
	if a.cfg.Wake != nil {
		ch, cancel := a.cfg.Wake.Subscribe()
		defer cancel()
		wake = ch
	}
	// Subscribed before the first read: nothing committed after it goes
	// unnoticed.
	at, err := a.checkpoint(ctx, conn)
	if err != nil {
		return err
	}
	mem := newOrderStates(a.cfg.CachedOrders)
	timer := time.NewTimer(a.cfg.Poll)
	defer timer.Stop()
	st := stallState{a: a, recorded: true} // the last holder may have left one
	// Started settled: only a wake-up calls for quick second looks.
	follow := app.NewFeedFollower(a.cfg.Poll, true)
	for {
		rows, err := a.readFeed(ctx, conn, at)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			// A rebuild moves the checkpoint back (Reset): an
			// idle consumer follows it rather than wait for a batch to
			// fail its compare-and-set.
			c, err := a.checkpoint(ctx, conn)
			if err != nil {
				return err
			}
			if c != at {
				a.log.Info().Msg("analytics checkpoint moved (a rebuild); counting again from it")
				at = c
				mem.forget() // the rows it remembers are gone
				continue
			}
		}
		var unreadable *app.UnreadableEventError
		if len(rows) > 0 {
			events, err := a.decodeAnalytics(rows)
			if !errors.As(err, &unreadable) && err != nil {
				return err
			}
			stepCtx, cancel := context.WithTimeout(ctx, analyticsStepTimeout)
			next, err := a.applyBatch(stepCtx, conn, at, events, mem)
			cancel()
			if errors.Is(err, errCheckpointMoved) {
				// Only another consumer or a reset moves it: the lock
				// was lost or bypassed, or the projection emptied.
				// Nothing was written, and applyBatch forgot the orders;
				// start again from where the other one got to.
				a.log.Warn().Msg("analytics checkpoint moved under the consumer; reading it again")
				if at, err = a.checkpoint(ctx, conn); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			at = next
			if unreadable != nil {
				if err := st.stall(ctx, conn, unreadable); err != nil {
					return err
				}
				if err := postgres.Sleep(ctx, a.cfg.StalledRetry); err != nil {
					return err
				}
				continue // perhaps a newer build now shares the lock
			}
			if err := st.clear(ctx, conn); err != nil {
				return err
			}
			if len(rows) == a.cfg.BatchSize {
				continue // more may be waiting
			}
		}
		timer.Reset(follow.Wait(len(rows) == 0))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			follow.Woken()
			if a.cfg.Linger > 0 {
				timer.Reset(a.cfg.Linger)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			}
		case <-timer.C:
		}
	}
}

// checkpoint reads where the projection has got in the feed.
func (a *Projector) checkpoint(ctx context.Context, conn *pgx.Conn) (app.FeedCursor, error) {
	return Checkpoint(ctx, conn)
}

// Checkpoint reads where the analytics projection has got in the feed,
// through db: a pool, a connection or a transaction.
func Checkpoint(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (app.FeedCursor, error) {
	var c app.FeedCursor
	if err := db.QueryRow(ctx, analyticsCheckpointSQL, analyticsName).Scan(&c.TransactionID, &c.Position); err != nil {
		return app.FeedCursor{}, fmt.Errorf("read the analytics checkpoint: %w", err)
	}
	return c, nil
}

// readFeed reads the next batch of the global feed after the cursor, with
// the feed's own query (every type), undecoded.
func (a *Projector) readFeed(ctx context.Context, conn *pgx.Conn, after app.FeedCursor) ([]eventstore.StoredEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, analyticsStepTimeout)
	defer cancel()
	events, err := eventstore.FeedEvents(ctx, conn, after, a.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("read the feed after %d/%d: %w", after.TransactionID, after.Position, err)
	}
	return events, nil
}
