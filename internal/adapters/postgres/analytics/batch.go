package analytics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
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

// analyticsInsertOrdersSQL writes the rows of the orders a batch created,
// whole, from parallel arrays. A row that exists already fails the
// batch: the feed gives each OrderCreated once.
const analyticsInsertOrdersSQL = `
INSERT INTO analytics_orders (order_id, currency, items, placed_total)
SELECT u.order_id, u.currency, u.items::jsonb, u.placed_total::numeric
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(order_id, currency, items, placed_total)`

// analyticsUpdateOrdersSQL writes what a batch changed of the rows of
// orders it did not create, from parallel arrays: the product lines it
// set or removed (as nulls, stripped; NULL when it changed none) over
// the stored ones, and the placed total.
const analyticsUpdateOrdersSQL = `
UPDATE analytics_orders AS o
   SET items = CASE WHEN u.items IS NULL THEN o.items ELSE jsonb_strip_nulls(o.items || u.items::jsonb) END,
       placed_total = u.placed_total::numeric
  FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(order_id, items, placed_total)
 WHERE o.order_id = u.order_id`

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
// codec; event is nil for one of a stream that is not an order's (a
// customer's), which counts for nothing but is passed like any other.
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
		cursor := app.FeedCursor{TransactionID: r.TransactionID, Position: r.Position}
		if !order.IsOrderID(r.OrderID) {
			events = append(events, analyticsEvent{cursor: cursor})
			continue
		}
		e, err := r.Decode(a.codec)
		if err != nil {
			return events, err
		}
		events = append(events, analyticsEvent{
			cursor:     cursor,
			orderID:    r.OrderID,
			event:      e,
			occurredAt: r.OccurredAt,
		})
	}
	return events, nil
}

// errStatesDiverged: analytics_orders does not hold a row that the
// consumer's memory says it wrote. Only a bug or a hand-edited table does
// that; the batch is rolled back and the consumer starts again from the
// database.
var errStatesDiverged = errors.New("analytics_orders differs from what the consumer remembers")

// applyBatch counts a batch of events read after from in one transaction:
// the checkpoint's compare-and-set from from to the last event, the
// states of the orders the batch touches (from mem, else read from the
// database after the compare-and-set), the fold (in Go), and one write
// each of the rows the batch changed and of the daily figures. When mem
// has every order the batch meets, the compare-and-set and the writes go
// in one round trip. It returns the new checkpoint, or errCheckpointMoved
// (nothing written). mem then remembers the committed states; on any
// failure it is forgotten, since the fold may have changed its states.
func (a *Projector) applyBatch(ctx context.Context, conn *pgx.Conn, from app.FeedCursor, events []analyticsEvent, mem *orderStates) (_ app.FeedCursor, err error) {
	if len(events) == 0 {
		return from, nil
	}
	defer func() {
		if err != nil {
			mem.forget()
		}
	}()
	move := checkpointMove{from: from, to: events[len(events)-1].cursor}
	b := newAnalyticsBatch(make(map[uuid.UUID]*analyticsOrder, len(events)))
	var misses []uuid.UUID
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if e.event == nil || seen[e.orderID] {
			continue
		}
		seen[e.orderID] = true
		if st, ok := mem.get(e.orderID); ok {
			b.orders[e.orderID] = st
		} else if _, created := e.event.(order.Created); !created {
			misses = append(misses, e.orderID)
		}
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// The compare-and-set goes with the reads if any, else with the
		// writes.
		withWrites := &move
		if len(misses) > 0 {
			stored, err := moveAndLoad(ctx, tx, move, misses)
			if err != nil {
				return err
			}
			maps.Copy(b.orders, stored)
			withWrites = nil
		}
		for _, e := range events {
			if e.event == nil {
				continue
			}
			if err := b.fold(e.orderID, e.event, e.occurredAt); err != nil {
				return fmt.Errorf("event at position %d: %w", e.cursor.Position, err)
			}
		}
		if err := saveBatch(ctx, tx, withWrites, b); err != nil {
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
	for id, c := range b.changes {
		if c.ended {
			mem.remove(id)
		} else {
			mem.put(id, b.orders[id])
		}
	}
	return move.to, nil
}

// checkpointMove is a batch's compare-and-set of the checkpoint.
type checkpointMove struct{ from, to app.FeedCursor }

// queue adds the compare-and-set to a batch of statements; its result is
// read with checked.
func (m checkpointMove) queue(batch *pgx.Batch) {
	batch.Queue(analyticsMoveSQL, analyticsName, m.from.TransactionID, m.from.Position, m.to.TransactionID, m.to.Position)
}

// checked reads the compare-and-set's result: errCheckpointMoved when the
// checkpoint was elsewhere.
func (m checkpointMove) checked(br pgx.BatchResults) error {
	tag, err := br.Exec()
	if err != nil {
		return fmt.Errorf("move checkpoint: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return errCheckpointMoved
	}
	return nil
}

// moveAndLoad moves the checkpoint, or fails with errCheckpointMoved, and
// reads the stored states of the orders, in one round trip. The
// checkpoint goes first: its row lock keeps any other consumer out until
// this transaction ends, so the states read are those at move.from.
func moveAndLoad(ctx context.Context, tx pgx.Tx, move checkpointMove, ids []uuid.UUID) (map[uuid.UUID]*analyticsOrder, error) {
	batch := &pgx.Batch{}
	move.queue(batch)
	batch.Queue(analyticsOrdersSQL, postgres.UUIDs(ids))
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	if err := move.checked(br); err != nil {
		return nil, err
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

// saveBatch writes what the batch changed, in one round trip: the rows of
// the orders it created, whole; what it changed of the other rows; the
// daily changes; each as one set-based statement. move, if not nil, is
// the checkpoint's compare-and-set, sent first in the same round trip.
func saveBatch(ctx context.Context, tx pgx.Tx, move *checkpointMove, b *analyticsBatch) error {
	batch := &pgx.Batch{}
	if move != nil {
		move.queue(batch)
	}
	created, updated, err := queueOrders(batch, b)
	if err != nil {
		return err
	}
	queueDays(batch, b)
	if batch.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	if move != nil {
		if err := move.checked(br); err != nil {
			return err
		}
	}
	if created > 0 {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("write analytics states: %w", err)
		}
	}
	if updated > 0 {
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("write analytics states: %w", err)
		}
		if tag.RowsAffected() != int64(updated) {
			return fmt.Errorf("%w: %d of %d rows to change found", errStatesDiverged, tag.RowsAffected(), updated)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("write analytics batch: %w", err)
	}
	return nil
}

// queueOrders queues the writes of the changed rows and returns how many
// rows each inserts and updates.
func queueOrders(batch *pgx.Batch, b *analyticsBatch) (created, updated int, err error) {
	var ins struct {
		ids               []uuid.UUID
		currencies, items []string
		totals            []*string
	}
	var upd struct {
		ids           []uuid.UUID
		items, totals []*string
	}
	for _, id := range b.changedOrders() {
		st, c := b.orders[id], b.changes[id]
		if c.created {
			r, err := analyticsOrderRowOf(id, st)
			if err != nil {
				return 0, 0, err
			}
			ins.ids, ins.currencies, ins.items, ins.totals = append(ins.ids, id), append(ins.currencies, r.Currency), append(ins.items, r.Items), append(ins.totals, r.PlacedTotal)
			continue
		}
		var items, total *string
		if len(c.items) > 0 {
			delta := string(appendItemsJSON(nil, c.items))
			items = &delta
		}
		if st.placedTotal != nil {
			t := codec.FormatAmount(*st.placedTotal)
			total = &t
		}
		upd.ids, upd.items, upd.totals = append(upd.ids, id), append(upd.items, items), append(upd.totals, total)
	}
	if len(ins.ids) > 0 {
		batch.Queue(analyticsInsertOrdersSQL, postgres.UUIDs(ins.ids), ins.currencies, ins.items, ins.totals)
	}
	if len(upd.ids) > 0 {
		batch.Queue(analyticsUpdateOrdersSQL, postgres.UUIDs(upd.ids), upd.items, upd.totals)
	}
	return len(ins.ids), len(upd.ids), nil
}

// queueDays queues the batch's changes to the daily figures, one row per
// day and currency, if it has any.
func queueDays(batch *pgx.Batch, b *analyticsBatch) {
	keys := b.dayKeys()
	n := len(keys)
	if n == 0 {
		return
	}
	var (
		dates, currencies                                     = make([]string, n), make([]string, n)
		created, placed, shipped, delivered, cancelled, units = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		revenuePlaced, revenueCancelled                       = make([]string, n), make([]string, n)
	)
	for i, k := range keys {
		f := b.days[k]
		dates[i], currencies[i] = k.date, string(k.currency)
		created[i], placed[i], shipped[i], delivered[i], cancelled[i], units[i] = f.created, f.placed, f.shipped, f.delivered, f.cancelled, f.itemsSold
		revenuePlaced[i], revenueCancelled[i] = codec.FormatAmount(f.revenuePlaced), codec.FormatAmount(f.revenueCancelled)
	}
	batch.Queue(analyticsAddDaysSQL, dates, currencies, created, placed, shipped, delivered, cancelled,
		revenuePlaced, revenueCancelled, units)
}
