package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// resetAnalytics empties the analytics projection and moves its checkpoint
// back to the start of the feed, in one transaction, so that it is
// counted again from the events; it returns how many events it counted
// itself, or that a running consumer counts them.
//
// The consumer's advisory lock is held for good by the replica that
// consumes, so a rebuild cannot wait for it while the service runs. It
// takes it when it is free: no consumer runs, and the rebuild resets and
// counts the whole feed itself, holding the lock, then lets it go. When a
// consumer holds it, the reset is made safe by the consumer's own
// protocol instead: it first locks the checkpoint row, which every batch
// of the consumer updates (compare-and-set) before it writes anything, so
// no batch is half-way while the tables are emptied, and every batch read
// before the reset then fails its compare-and-set and is not written. The
// consumer re-reads the checkpoint when its feed is idle or a batch fails
// that way, and recounts from the start; the notification wakes it.
//
// Rows are deleted, not truncated: DELETE is MVCC-safe, so a reader's
// snapshot taken before the reset still sees the old figures with the old
// checkpoint.
func (s *Store) resetAnalytics(ctx context.Context, conn *pgx.Conn) (recounted int, consumerRuns bool, err error) {
	var consumerFree bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", analyticsLockKey).Scan(&consumerFree); err != nil {
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
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("reset: %w", err)
	}
	if !consumerFree {
		return 0, true, nil
	}
	a, err := NewAnalytics(s, zerolog.Nop(), AnalyticsConfig{})
	if err != nil {
		return 0, false, err
	}
	if recounted, err = a.catchUp(ctx, conn); err != nil {
		return recounted, false, fmt.Errorf("recount: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", analyticsLockKey); err != nil {
		return recounted, false, err
	}
	return recounted, false, nil
}

// catchUp counts the feed from the checkpoint to its end on conn, which
// holds the consumer's lock, and returns how many events it counted.
func (a *Analytics) catchUp(ctx context.Context, conn *pgx.Conn) (int, error) {
	at, err := a.checkpoint(ctx, conn)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		rows, err := a.readFeed(ctx, conn, at)
		if err != nil || len(rows) == 0 {
			return n, err
		}
		events, err := a.decodeAnalytics(rows)
		if err != nil {
			return n, err
		}
		if at, err = a.applyBatch(ctx, conn, at, events); err != nil {
			return n, err
		}
		n += len(events)
	}
}
