package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// feedHeadSQL reads the last committed event in feed order: where the
// inline projections are, since they commit with the events.
const feedHeadSQL = `
SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`

// oldestOpenTransactionSQL finds the transaction that holds the feed's
// watermark back: the feed reads only below the oldest transaction id
// still running in this database, and only a transaction that has written
// something has an id (backend_xid). Without the pg_read_all_stats role,
// PostgreSQL shows backend_xid only for sessions of the same user.
const oldestOpenTransactionSQL = `
SELECT pid, xact_start, now()
  FROM pg_stat_activity
 WHERE backend_xid IS NOT NULL AND xact_start IS NOT NULL
   AND datname = current_database()
 ORDER BY age(backend_xid) DESC
 LIMIT 1`

// oldestPreparedTransactionSQL finds the oldest prepared transaction. It
// holds the feed's watermark like a running one (its id stays in every
// snapshot's xip list), but it has no session, so pg_stat_activity never
// shows it, and the feed cannot tell its database: one prepared in any
// database of the server holds the feed back.
const oldestPreparedTransactionSQL = `
SELECT gid, database, prepared, now()
  FROM pg_prepared_xacts
 ORDER BY age(transaction) DESC
 LIMIT 1`

// Projections reports every projection's progress, the transactions that
// hold the feed back, and whether this process runs the consumer.
func (a *Projector) Projections(ctx context.Context) (_ app.ProjectionsReport, err error) {
	defer postgres.MarkUnavailable(&err)
	report := app.ProjectionsReport{AnalyticsLockHeld: a.HoldsLock()}
	var (
		head     app.FeedCursor
		analytic app.ProjectionStatus
		open     *app.OpenTransaction
		prepared *app.PreparedTransaction
	)
	err = pgx.BeginTxFunc(ctx, a.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, feedHeadSQL).Scan(&head.TransactionID, &head.Position)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("feed head: %w", err)
		}
		if analytic, err = analyticsProgress(ctx, tx); err != nil {
			return err
		}
		if open, err = oldestOpenTransaction(ctx, tx); err != nil {
			return err
		}
		prepared, err = oldestPreparedTransaction(ctx, tx)
		return err
	})
	if err != nil {
		return app.ProjectionsReport{}, fmt.Errorf("projection status: %w", err)
	}
	report.Projections = []app.ProjectionStatus{
		{Name: app.ProjectionOrderDetails, Inline: true, Position: head},
		{Name: app.ProjectionCustomerOrders, Inline: true, Position: head},
		analytic,
	}
	report.OldestOpenTransaction = open
	report.OldestPreparedTransaction = prepared
	return report, nil
}

func oldestOpenTransaction(ctx context.Context, tx pgx.Tx) (*app.OpenTransaction, error) {
	var (
		ot  app.OpenTransaction
		now time.Time
	)
	err := tx.QueryRow(ctx, oldestOpenTransactionSQL).Scan(&ot.PID, &ot.Started, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oldest open transaction: %w", err)
	}
	ot.Started = ot.Started.UTC()
	ot.Age = max(now.Sub(ot.Started), 0)
	return &ot, nil
}

func oldestPreparedTransaction(ctx context.Context, tx pgx.Tx) (*app.PreparedTransaction, error) {
	var (
		pt  app.PreparedTransaction
		now time.Time
	)
	err := tx.QueryRow(ctx, oldestPreparedTransactionSQL).Scan(&pt.GID, &pt.Database, &pt.Prepared, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oldest prepared transaction: %w", err)
	}
	pt.Prepared = pt.Prepared.UTC()
	pt.Age = max(now.Sub(pt.Prepared), 0)
	return &pt, nil
}
