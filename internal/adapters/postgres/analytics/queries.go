package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// analyticsDailySQL reads the days of a range, by the primary key; an
// empty currency keeps every currency.
const analyticsDailySQL = `
SELECT date, currency, orders_created, orders_placed, orders_shipped, orders_delivered, orders_cancelled,
       revenue_placed::text, revenue_cancelled::text, items_sold
  FROM analytics_daily
 WHERE date BETWEEN $1::date AND $2::date
   AND ($3::text = '' OR currency = $3::text)
 ORDER BY date, currency`

// analyticsProgressSQL reads the projection's checkpoint and what lies
// after it: the committed events it has not processed, and the oldest of
// them. The row comparison is a range of events_transaction_position_idx.
const analyticsProgressSQL = `
SELECT c.transaction_id, c.position, c.updated_at, l.n, l.oldest, now(),
       c.stalled_event_id, c.stalled_position, c.stalled_reason, c.stalled_since
  FROM projection_checkpoints c
 CROSS JOIN LATERAL (
       SELECT count(*) AS n, min(e.recorded_at) AS oldest
         FROM events e
        WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)) l
 WHERE c.name = $1`

// DailyFigures reads q's days and the projection's progress in one
// snapshot, so the progress is exactly that of the figures.
func (a *Projector) DailyFigures(ctx context.Context, q app.AnalyticsQuery) (_ app.AnalyticsReport, err error) {
	defer postgres.MarkUnavailable(&err)
	var report app.AnalyticsReport
	err = pgx.BeginTxFunc(ctx, a.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, analyticsDailySQL, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), string(q.Currency))
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dailyRow])
		if err != nil {
			return err
		}
		report.Days = make([]app.DailyFigures, len(found))
		for i, r := range found {
			if report.Days[i], err = r.toFigures(); err != nil {
				return err
			}
		}
		report.Progress, err = analyticsProgress(ctx, tx)
		return err
	})
	if err != nil {
		return app.AnalyticsReport{}, fmt.Errorf("read analytics: %w", err)
	}
	return report, nil
}

// analyticsProgress reads the analytics projection's status.
func analyticsProgress(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (app.ProjectionStatus, error) {
	st := app.ProjectionStatus{Name: analyticsName}
	var (
		oldest, stalledSince *time.Time
		now                  time.Time
		stalledID            *uuid.UUID
		stalledAt            *int64
		stalledReason        *string
	)
	err := db.QueryRow(ctx, analyticsProgressSQL, analyticsName).Scan(
		&st.Position.TransactionID, &st.Position.Position, &st.UpdatedAt, &st.LagEvents, &oldest, &now,
		&stalledID, &stalledAt, &stalledReason, &stalledSince)
	if err != nil {
		return app.ProjectionStatus{}, fmt.Errorf("analytics progress: %w", err)
	}
	st.UpdatedAt = st.UpdatedAt.UTC()
	if oldest != nil {
		st.Lag = max(now.Sub(*oldest), 0)
	}
	st.Stalled = stallOf(stalledID, stalledAt, stalledReason, stalledSince)
	return st, nil
}

// AnalyticsPosition reads the projection's checkpoint: a primary-key
// lookup, cheap enough to poll.
func (a *Projector) AnalyticsPosition(ctx context.Context) (_ app.FeedCursor, err error) {
	defer postgres.MarkUnavailable(&err)
	return Checkpoint(ctx, a.pool)
}

// EventCursor returns the feed cursor of the event at a global position,
// if it is committed.
func (a *Projector) EventCursor(ctx context.Context, position int64) (_ app.FeedCursor, _ bool, err error) {
	defer postgres.MarkUnavailable(&err)
	c := app.FeedCursor{Position: position}
	err = a.pool.QueryRow(ctx, `SELECT transaction_id FROM events WHERE position = $1`, position).Scan(&c.TransactionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.FeedCursor{}, false, nil
	}
	if err != nil {
		return app.FeedCursor{}, false, fmt.Errorf("event at position %d: %w", position, err)
	}
	return c, true, nil
}
