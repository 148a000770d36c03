package bulkload

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

// eventColumns are the events columns a load writes. position and
// transaction_id take their defaults: the table's identity, and the
// writing transaction's id.
var eventColumns = []string{
	"event_id", "stream_id", "stream_version", "event_type", "schema_version", "data", "metadata", "occurred_at", "recorded_at",
}

// eventBatch is a batch of the timeline with its place in line: its COPY
// starts when turn is closed, and it closes next once its events are in,
// so that the batches' transaction ids and positions follow the timeline.
type eventBatch struct {
	rows []eventRow
	turn <-chan struct{}
	next chan<- struct{}
}

// eventWriter writes batches of events on one connection, a transaction
// each.
type eventWriter struct {
	conn *pgx.Conn
	// triggersOff: the session skips the events table's row triggers
	// (session_replication_role = replica), so a batch's COPY may start
	// before the previous one commits.
	triggersOff bool
	written     func(n int)
}

// skipTriggers sets the session to skip row triggers, for COPY to write
// rows in bulk rather than one at a time, and reports whether it may:
// only a superuser may. The loader decides every history with the
// aggregate, so the contiguity trigger has nothing to refuse.
func skipTriggers(ctx context.Context, conn *pgx.Conn) (bool, error) {
	_, err := conn.Exec(ctx, "SET session_replication_role = replica")
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42501" {
		return false, nil
	}
	return err == nil, err
}

func (w *eventWriter) run(ctx context.Context, batches <-chan eventBatch) error {
	for b := range batches {
		if err := w.write(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (w *eventWriter) write(ctx context.Context, b eventBatch) error {
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	select {
	case <-b.turn:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The transaction takes its id now, in the batch's turn: the feed
	// reads the batches in the order they took them.
	if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		return fmt.Errorf("take a transaction id: %w", err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, &eventSource{rows: b.rows})
	if err != nil {
		return fmt.Errorf("copy %d events: %w", len(b.rows), err)
	}
	if n != int64(len(b.rows)) {
		return fmt.Errorf("copy %d events: %d written", len(b.rows), n)
	}
	if w.triggersOff {
		close(b.next)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit %d events: %w", len(b.rows), err)
	}
	if !w.triggersOff {
		// The contiguity trigger of the next batch must see these.
		close(b.next)
	}
	w.written(len(b.rows))
	return nil
}

// eventSource gives CopyFrom the rows of a batch.
type eventSource struct {
	rows []eventRow
	i    int
}

func (s *eventSource) Next() bool { s.i++; return s.i <= len(s.rows) }
func (s *eventSource) Err() error { return nil }
func (s *eventSource) Values() ([]any, error) {
	r := &s.rows[s.i-1]
	return []any{[16]byte(r.id), [16]byte(r.stream), r.version, r.eventType, r.schemaVersion, r.data, r.metadata, r.occurred, r.recorded}, nil
}

// writeProjections writes batches of the read models' rows on one
// connection, both tables in a transaction each.
func writeProjections(ctx context.Context, conn *pgx.Conn, batches <-chan []eventstore.DetailsRow) error {
	for rows := range batches {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			details := make([][]any, len(rows))
			summaries := make([][]any, len(rows))
			for i, r := range rows {
				var err error
				if details[i], err = r.CopyValues(); err != nil {
					return err
				}
				if summaries[i], err = r.Summary().CopyValues(); err != nil {
					return err
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"order_details"}, eventstore.DetailsColumns, pgx.CopyFromRows(details)); err != nil {
				return fmt.Errorf("copy %d order_details rows: %w", len(rows), err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"customer_orders"}, eventstore.SummaryColumns, pgx.CopyFromRows(summaries)); err != nil {
				return fmt.Errorf("copy %d customer_orders rows: %w", len(rows), err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
