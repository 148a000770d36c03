package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// analyticsName is the projection's row in projection_checkpoints.
const analyticsName = app.ProjectionAnalytics

// analyticsCheckpointSQL reads the projection's checkpoint.
const analyticsCheckpointSQL = `
SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1`

// analyticsMoveSQL is the compare-and-set of the checkpoint: it moves only
// from the cursor the batch was read after. A consumer whose checkpoint
// moved under it (another consumer committed first) updates no row and
// rolls its batch back; one that committed meanwhile holds the row lock
// until it ends, and READ COMMITTED then re-checks the condition against
// the committed row. Either way no batch is counted twice.
const analyticsMoveSQL = `
UPDATE projection_checkpoints
   SET transaction_id = $4, position = $5, updated_at = now()
 WHERE name = $1 AND (transaction_id, position) = ($2::xid8, $3::bigint)`

// analyticsOrdersSQL reads the stored states of a batch's orders, once.
const analyticsOrdersSQL = `
SELECT order_id, currency, items::text, placed_total::text
  FROM analytics_orders
 WHERE order_id = ANY ($1::uuid[])`

// analyticsSaveOrdersSQL writes the states the batch changed, one row per
// order, from parallel arrays.
const analyticsSaveOrdersSQL = `
INSERT INTO analytics_orders AS o (order_id, currency, items, placed_total)
SELECT u.order_id, u.currency, u.items::jsonb, u.placed_total::numeric
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(order_id, currency, items, placed_total)
    ON CONFLICT (order_id) DO UPDATE SET
       currency = EXCLUDED.currency, items = EXCLUDED.items, placed_total = EXCLUDED.placed_total`

// analyticsAddDaysSQL adds the batch's changes to the daily figures, one
// row per day and currency, from parallel arrays.
const analyticsAddDaysSQL = `
INSERT INTO analytics_daily AS d (
       date, currency, orders_created, orders_placed, orders_shipped, orders_delivered, orders_cancelled,
       revenue_placed, revenue_cancelled, items_sold)
SELECT u.date::date, u.currency, u.created, u.placed, u.shipped, u.delivered, u.cancelled,
       u.revenue_placed::numeric, u.revenue_cancelled::numeric, u.items_sold
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
              $8::text[], $9::text[], $10::bigint[])
       AS u(date, currency, created, placed, shipped, delivered, cancelled, revenue_placed, revenue_cancelled, items_sold)
    ON CONFLICT (date, currency) DO UPDATE SET
       orders_created    = d.orders_created    + EXCLUDED.orders_created,
       orders_placed     = d.orders_placed     + EXCLUDED.orders_placed,
       orders_shipped    = d.orders_shipped    + EXCLUDED.orders_shipped,
       orders_delivered  = d.orders_delivered  + EXCLUDED.orders_delivered,
       orders_cancelled  = d.orders_cancelled  + EXCLUDED.orders_cancelled,
       revenue_placed    = d.revenue_placed    + EXCLUDED.revenue_placed,
       revenue_cancelled = d.revenue_cancelled + EXCLUDED.revenue_cancelled,
       items_sold        = d.items_sold        + EXCLUDED.items_sold`

// errCheckpointMoved: the checkpoint is no longer where the batch was read
// after; the batch was rolled back and must be read again.
var errCheckpointMoved = errors.New("analytics checkpoint moved: another consumer processed these events")

// analyticsEvent is an event of the global feed, decoded by the store's
// codec.
type analyticsEvent struct {
	cursor     app.FeedCursor
	orderID    uuid.UUID
	event      order.Event
	occurredAt time.Time
}

// decodeAnalytics decodes feed rows for the fold. It runs before the
// batch's transaction, which then stays as short as its statements. An
// event it cannot decode ends the batch: the events before it are
// returned with an *app.UnreadableEventError naming it, and the consumer
// stops there (see stall) rather than count around it.
func (a *Projector) decodeAnalytics(rows []eventstore.StoredEvent) ([]analyticsEvent, error) {
	events := make([]analyticsEvent, 0, len(rows))
	for _, r := range rows {
		e, err := r.Decode(a.codec)
		if err != nil {
			return events, err
		}
		events = append(events, analyticsEvent{
			cursor:     app.FeedCursor{TransactionID: r.TransactionID, Position: r.Position},
			orderID:    r.OrderID,
			event:      e,
			occurredAt: r.OccurredAt,
		})
	}
	return events, nil
}

// applyBatch counts a batch of events read after from in one transaction:
// the checkpoint's compare-and-set from from to the last event, one read
// of the states of the orders the batch touches, the fold (in Go), and one
// write each of the changed states and of the daily figures. It returns
// the new checkpoint, or errCheckpointMoved (nothing written).
func (a *Projector) applyBatch(ctx context.Context, conn *pgx.Conn, from app.FeedCursor, events []analyticsEvent) (app.FeedCursor, error) {
	if len(events) == 0 {
		return from, nil
	}
	to := events[len(events)-1].cursor
	ids := make([]uuid.UUID, 0, len(events))
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if !seen[e.orderID] {
			seen[e.orderID] = true
			ids = append(ids, e.orderID)
		}
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		stored, err := moveAndLoad(ctx, tx, from, to, ids)
		if err != nil {
			return err
		}
		b := newAnalyticsBatch(stored)
		for _, e := range events {
			if err := b.fold(e.orderID, e.event, e.occurredAt); err != nil {
				return fmt.Errorf("event at position %d: %w", e.cursor.Position, err)
			}
		}
		if err := saveBatch(ctx, tx, b); err != nil {
			return err
		}
		if a.beforeCommit != nil {
			a.beforeCommit(ctx)
		}
		return nil
	})
	if err != nil {
		return from, fmt.Errorf("analytics batch after %d/%d: %w", from.TransactionID, from.Position, err)
	}
	return to, nil
}

// moveAndLoad moves the checkpoint from from to to, or fails with
// errCheckpointMoved, and reads the stored states of the orders, in one
// round trip. The checkpoint goes first: its row lock keeps any other
// consumer out until this transaction ends, so the states read are those
// at from.
func moveAndLoad(ctx context.Context, tx pgx.Tx, from, to app.FeedCursor, ids []uuid.UUID) (map[uuid.UUID]*analyticsOrder, error) {
	batch := &pgx.Batch{}
	batch.Queue(analyticsMoveSQL, analyticsName, from.TransactionID, from.Position, to.TransactionID, to.Position)
	batch.Queue(analyticsOrdersSQL, ids)
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	tag, err := br.Exec()
	if err != nil {
		return nil, fmt.Errorf("move checkpoint: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return nil, errCheckpointMoved
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("read analytics states: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[analyticsOrderRow])
	if err != nil {
		return nil, fmt.Errorf("read analytics states: %w", err)
	}
	stored := make(map[uuid.UUID]*analyticsOrder, len(ids))
	for _, r := range found {
		if stored[r.OrderID], err = r.toState(); err != nil {
			return nil, err
		}
	}
	return stored, br.Close()
}

// saveBatch writes the batch's changed states and its daily changes in
// one round trip, each as one set-based statement.
func saveBatch(ctx context.Context, tx pgx.Tx, b *analyticsBatch) error {
	changed := b.changedOrders()
	var (
		ids        = make([]uuid.UUID, len(changed))
		currencies = make([]string, len(changed))
		items      = make([]string, len(changed))
		totals     = make([]*string, len(changed))
	)
	for i, id := range changed {
		r, err := analyticsOrderRowOf(id, b.orders[id])
		if err != nil {
			return err
		}
		ids[i], currencies[i], items[i], totals[i] = r.OrderID, r.Currency, r.Items, r.PlacedTotal
	}

	keys := b.dayKeys()
	n := len(keys)
	var (
		dates, dayCurrencies                                  = make([]string, n), make([]string, n)
		created, placed, shipped, delivered, cancelled, units = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		revenuePlaced, revenueCancelled                       = make([]string, n), make([]string, n)
	)
	for i, k := range keys {
		f := b.days[k]
		dates[i], dayCurrencies[i] = k.date, string(k.currency)
		created[i], placed[i], shipped[i], delivered[i], cancelled[i], units[i] = f.created, f.placed, f.shipped, f.delivered, f.cancelled, f.itemsSold
		revenuePlaced[i], revenueCancelled[i] = codec.FormatAmount(f.revenuePlaced), codec.FormatAmount(f.revenueCancelled)
	}

	batch := &pgx.Batch{}
	batch.Queue(analyticsSaveOrdersSQL, ids, currencies, items, totals)
	if n > 0 {
		batch.Queue(analyticsAddDaysSQL, dates, dayCurrencies, created, placed, shipped, delivered, cancelled,
			revenuePlaced, revenueCancelled, units)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write analytics batch: %w", err)
	}
	return nil
}
