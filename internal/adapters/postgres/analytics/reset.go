package analytics

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/rs/zerolog"
)

// Reset empties the analytics projection and moves its checkpoint back to
// the start of the feed, in one transaction on conn, so that it is counted
// again from the events; it returns how many events it counted itself, or
// that a running consumer counts them. When no consumer holds the lock,
// Reset takes it on conn and counts the whole feed itself. See
// docs/design.md, "Blue/green projection rebuild".
func Reset(ctx context.Context, store *eventstore.Store, conn *pgx.Conn) (recounted int, consumerRuns bool, err error) {
	lock := newLock(store.Pool(), zerolog.Nop(), 0)
	consumerFree, err := lock.TryOn(ctx, conn)
	if err != nil {
		return 0, false, err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, analyticsName); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_daily`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_orders`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
UPDATE projection_checkpoints SET transaction_id = '0', position = 0, updated_at = now(),
       stalled_event_id = NULL, stalled_position = NULL, stalled_reason = NULL, stalled_since = NULL
 WHERE name = $1`, analyticsName); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, notify.Channel)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("reset: %w", err)
	}
	if !consumerFree {
		return 0, true, nil
	}
	a, err := New(store, zerolog.Nop(), Config{})
	if err != nil {
		return 0, false, err
	}
	if recounted, err = a.catchUp(ctx, conn); err != nil {
		return recounted, false, fmt.Errorf("recount: %w", err)
	}
	if err := lock.UnlockOn(ctx, conn); err != nil {
		return recounted, false, err
	}
	return recounted, false, nil
}

// catchUp counts the feed from the checkpoint to its end on conn, which
// holds the consumer's lock, and returns how many events it counted.
func (a *Projector) catchUp(ctx context.Context, conn *pgx.Conn) (int, error) {
	at, err := a.checkpoint(ctx, conn)
	if err != nil {
		return 0, err
	}
	n := 0
	mem := newOrderStates(a.cfg.CachedOrders)
	for {
		rows, err := a.readFeed(ctx, conn, at)
		if err != nil || len(rows) == 0 {
			return n, err
		}
		events, err := a.decodeAnalytics(rows)
		if err != nil {
			return n, err
		}
		if at, err = a.applyBatch(ctx, conn, at, events, mem); err != nil {
			return n, err
		}
		n += len(events)
	}
}
