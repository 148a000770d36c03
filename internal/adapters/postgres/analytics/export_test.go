package analytics

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/app"
)

// Hooks into the analytics consumer for the tests of package analytics_test.

// ErrCheckpointMoved is errCheckpointMoved.
var ErrCheckpointMoved = errCheckpointMoved

// LockKey is the consumer's advisory lock.
const LockKey = lockKey

// SetBeforeCommit runs f inside each batch's transaction, after its
// writes and before its commit. Set it before Run.
func (a *Projector) SetBeforeCommit(f func(context.Context)) { a.beforeCommit = f }

// CountBatch reads one batch after from on conn and counts it, bypassing
// the lock: what a second consumer running by mistake would do. It
// remembers no order from one call to the next.
func (a *Projector) CountBatch(ctx context.Context, conn *pgx.Conn, from app.FeedCursor) (app.FeedCursor, int, error) {
	return a.countBatch(ctx, conn, from, newOrderStates(a.cfg.CachedOrders))
}

// countBatch reads one batch after from on conn and counts it with mem.
func (a *Projector) countBatch(ctx context.Context, conn *pgx.Conn, from app.FeedCursor, mem *orderStates) (app.FeedCursor, int, error) {
	rows, err := a.readFeed(ctx, conn, from)
	if err != nil {
		return from, 0, err
	}
	events, err := a.decodeAnalytics(rows)
	if err != nil {
		return from, 0, err
	}
	to, err := a.applyBatch(ctx, conn, from, events, mem)
	return to, len(events), err
}

// CatchUp counts the feed from the checkpoint to its end on conn, as
// Reset does, and returns how many events it counted.
func (a *Projector) CatchUp(ctx context.Context, conn *pgx.Conn) (int, error) {
	return a.catchUp(ctx, conn)
}
