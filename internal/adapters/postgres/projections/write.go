package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
)

// rebuildBatch is how many orders a rebuild writes per statement.
const rebuildBatch = 500

// nextDetailsSQL upserts rows into order_details_next from parallel
// arrays, one statement per batch: the columns and casts of appendSQL.
var nextDetailsSQL = `
INSERT INTO order_details_next AS d (
    order_id, customer_id, status, currency, items, item_count, total,
    shipping_address, tracking_number, carrier, signature, cancel_reason, cancelled_by,
    version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at, erased)
SELECT u.order_id, u.customer_id, u.status, u.currency, u.items::jsonb, u.item_count, u.total::numeric,
       u.shipping_address::jsonb, u.tracking_number, u.carrier, u.signature, u.cancel_reason, u.cancelled_by,
       u.version, u.created_at, u.updated_at, u.placed_at, u.shipped_at, u.delivered_at, u.cancelled_at, u.erased
  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[],
              $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
              $14::integer[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::timestamptz[],
              $19::timestamptz[], $20::timestamptz[], $21::boolean[])
       AS u(order_id, customer_id, status, currency, items, item_count, total,
            shipping_address, tracking_number, carrier, signature, cancel_reason, cancelled_by,
            version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at, erased)
    ON CONFLICT (order_id) DO UPDATE SET
` + eventstore.OrderDetailsUpdate

// nextSummariesSQL upserts rows into customer_orders_next. An order's
// customer never changes, so the key finds the row a catch-up replaces.
const nextSummariesSQL = `
INSERT INTO customer_orders_next AS c (
    customer_id, order_id, status, currency, total, item_count, version, created_at, updated_at)
SELECT u.customer_id, u.order_id, u.status, u.currency, u.total::numeric, u.item_count, u.version,
       u.created_at, u.updated_at
  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::integer[],
              $8::timestamptz[], $9::timestamptz[])
       AS u(customer_id, order_id, status, currency, total, item_count, version, created_at, updated_at)
    ON CONFLICT (customer_id, order_id) DO UPDATE SET
` + eventstore.CustomerOrdersUpdate

// rowWriter writes replayed states into the next tables of a rebuild, a
// batch per statement.
type rowWriter struct {
	store   *eventstore.Store
	conn    *pgx.Conn
	tables  []string
	pending []eventstore.DetailsRow
}

// add queues the rows of a replayed state, its personal data sealed again
// with the keys it was sealed with, writing the batch when it is full.
func (w *rowWriter) add(ctx context.Context, o *eventstore.Replay) error {
	r, err := eventstore.DetailsFromOrder(o.Order)
	if err == nil {
		err = w.store.SealDetails(ctx, &r, o)
	}
	if err != nil {
		return fmt.Errorf("order %s: %w", o.Order.ID, err)
	}
	w.pending = append(w.pending, r)
	if len(w.pending) >= rebuildBatch {
		return w.flush(ctx)
	}
	return nil
}

// flush writes the queued rows.
func (w *rowWriter) flush(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	n := len(w.pending)
	var (
		ids, customers                            = make([]uuid.UUID, n), make([]uuid.UUID, n)
		statuses, currencies, items, totals       = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		addresses, tracking, carriers, signatures = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		reasons, cancelledBy                      = make([]*string, n), make([]*string, n)
		erased                                    = make([]bool, n)
		counts, versions                          = make([]int64, n), make([]int64, n)
		created, updated                          = make([]time.Time, n), make([]time.Time, n)
		placed, shipped, delivered, cancelled     = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	)
	for i, r := range w.pending {
		ids[i], customers[i], statuses[i], currencies[i], items[i], totals[i] = r.OrderID, r.CustomerID, r.Status, r.Currency, r.Items, r.Total
		addresses[i], tracking[i], carriers[i], signatures[i], reasons[i], cancelledBy[i] = r.ShippingAddress, r.TrackingNumber, r.Carrier, r.Signature, r.CancelReason, r.CancelledBy
		counts[i], versions[i], created[i], updated[i] = r.ItemCount, int64(r.Version), r.CreatedAt, r.UpdatedAt
		placed[i], shipped[i], delivered[i], cancelled[i] = r.PlacedAt, r.ShippedAt, r.DeliveredAt, r.CancelledAt
		erased[i] = r.Erased
	}
	batch := &pgx.Batch{}
	for _, t := range w.tables {
		switch t {
		case app.ProjectionOrderDetails:
			batch.Queue(nextDetailsSQL, ids, customers, statuses, currencies, items, counts, totals,
				addresses, tracking, carriers, signatures, reasons, cancelledBy,
				versions, created, updated, placed, shipped, delivered, cancelled, erased)
		case app.ProjectionCustomerOrders:
			batch.Queue(nextSummariesSQL, customers, ids, statuses, currencies, totals, counts, versions, created, updated)
		}
	}
	if err := w.conn.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write %d rebuilt orders: %w", n, err)
	}
	w.pending = w.pending[:0]
	return nil
}
