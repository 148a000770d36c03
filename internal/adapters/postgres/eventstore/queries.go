package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Amounts are read as text (total::text) and parsed by decimal: exact,
// with the scale they were written with.
const orderDetailsSelect = `
SELECT order_id, customer_id, status, currency, items::text, item_count, total::text,
       shipping_address::text, tracking_number, carrier, signature, cancel_reason, cancelled_by,
       version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at, erased
  FROM order_details`

// maxOrdersPerRead bounds the orders one statement reads.
const maxOrdersPerRead = 64

// orderDetailsSQL reads one order by $1; orderDetailsSQLs[k] reads 2^k
// orders, by $1 to $2^k, for k from 1 to 6. A batch is read by the
// smallest that holds it, its last id repeated to fill it (PostgreSQL
// looks each id up once). One statement per size, rather than one
// "order_id = ANY($1)" taking an array: PostgreSQL plans that one anew at
// every execution, because its cached plan, which guesses ten ids,
// never looks as cheap as a plan made for the array at hand; planning
// cost the database more than the read. Each of these is planned once
// per connection.
var (
	orderDetailsSQL  = orderDetailsSelect + "\n WHERE order_id = $1"
	orderDetailsSQLs = orderDetailsOfSizes()
)

func orderDetailsOfSizes() []string {
	var sqls []string
	for n := 1; n <= maxOrdersPerRead; n *= 2 {
		params := make([]string, n)
		for i := range params {
			params[i] = "$" + strconv.Itoa(i+1)
		}
		sqls = append(sqls, orderDetailsSelect+"\n WHERE order_id IN ("+strings.Join(params, ", ")+")")
	}
	return sqls
}

// orderDetailsQuery is the statement that reads ids, and its arguments.
func orderDetailsQuery(ids []uuid.UUID) (string, []any) {
	if len(ids) == 1 {
		return orderDetailsSQL, []any{postgres.UUID(ids[0])}
	}
	k := bits.Len(uint(len(ids) - 1))
	args := make([]any, 1<<k)
	for i := range args {
		args[i] = postgres.UUID(ids[min(i, len(ids)-1)])
	}
	return orderDetailsSQLs[k], args
}

// GetOrder reads the order's state from the order_details projection.
// Reads that arrive while this store's others run are made together, in
// one statement, when those end (see coalesce).
func (s *Store) GetOrder(ctx context.Context, id uuid.UUID) (_ order.Order, err error) {
	defer postgres.MarkUnavailable(&err)
	o, err := s.orders.Get(ctx, id)
	if err != nil {
		return order.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	return o, nil
}

// readOrders reads the orders of ids, distinct and at most
// maxOrdersPerRead, from order_details in one statement: each found is answered with its state, each missing with
// order.ErrNotFound, each that fails to decode with its own error.
func (s *Store) readOrders(ctx context.Context, ids []uuid.UUID) ([]coalesce.Result[order.Order], error) {
	results := make([]coalesce.Result[order.Order], len(ids))
	for i := range results {
		results[i].Err = order.ErrNotFound
	}
	sql, args := orderDetailsQuery(ids)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var r DetailsRow
	targets := []any{
		postgres.ScanUUID(&r.OrderID), postgres.ScanUUID(&r.CustomerID), &r.Status, &r.Currency, &r.Items, &r.ItemCount, &r.Total,
		&r.ShippingAddress, &r.TrackingNumber, &r.Carrier, &r.Signature, &r.CancelReason, &r.CancelledBy,
		&r.Version, &r.CreatedAt, &r.UpdatedAt, &r.PlacedAt, &r.ShippedAt, &r.DeliveredAt, &r.CancelledAt, &r.Erased,
	}
	found := make([]DetailsRow, 0, len(ids))
	for rows.Next() {
		r = DetailsRow{}
		if err := rows.Scan(targets...); err != nil {
			return nil, err
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Opened once the rows are read: opening may ask the key store.
	for _, r := range found {
		i := slices.Index(ids, r.OrderID)
		if i < 0 {
			return nil, fmt.Errorf("order %s was not asked for", r.OrderID)
		}
		if results[i].Err = s.OpenDetails(ctx, &r); results[i].Err == nil {
			results[i].Value, results[i].Err = r.toOrder()
		}
	}
	return results, nil
}

// customerOrdersSelect and customerOrdersPage frame the list query;
// customerOrdersSQL fills in the conditions.
const (
	customerOrdersSelect = `
SELECT order_id, customer_id, status, currency, total::text, item_count, version, created_at, updated_at
  FROM customer_orders
 WHERE customer_id = @customer_id`
	customerOrdersPage = `
 ORDER BY created_at DESC, order_id DESC
 LIMIT @limit`
)

// customerOrdersSQL returns one statement text per filter combination,
// built from constants only, rather than one text with
// "(@status IS NULL OR status = @status)": each text is prepared and
// planned on its own, so even a cached generic plan range-scans
// customer_orders_newest_idx (or customer_orders_status_newest_idx when a
// status is given) in index order and stops after LIMIT rows. The row
// comparison on (created_at, order_id) is an index condition of both.
func customerOrdersSQL(byStatus, afterCursor bool) string {
	sql := customerOrdersSelect
	if byStatus {
		sql += ` AND status = @status`
	}
	if afterCursor {
		sql += ` AND (created_at, order_id) < (@after_created_at, @after_order_id)`
	}
	return sql + customerOrdersPage
}

// ListCustomerOrders returns one page of the customer's orders, newest
// first, and the cursor of the next page when there is one. A Limit below
// one is app.DefaultPageSize.
func (s *Store) ListCustomerOrders(ctx context.Context, q app.ListQuery) (_ app.OrderPage, err error) {
	defer postgres.MarkUnavailable(&err)
	limit := q.Limit
	if limit < 1 {
		limit = app.DefaultPageSize
	}
	// One row more than the page tells whether another page follows.
	named := pgx.StrictNamedArgs{"customer_id": postgres.UUID(q.CustomerID), "limit": limit + 1}
	if q.Status != "" {
		named["status"] = string(q.Status)
	}
	if q.After != nil {
		named["after_created_at"], named["after_order_id"] = q.After.CreatedAt, postgres.UUID(q.After.OrderID)
	}
	sql, args, err := postgres.Positional(customerOrdersSQL(q.Status != "", q.After != nil), named)
	if err != nil {
		return app.OrderPage{}, fmt.Errorf("list orders of customer %s: %w", q.CustomerID, err)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return app.OrderPage{}, fmt.Errorf("list orders of customer %s: %w", q.CustomerID, err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SummaryRow])
	if err != nil {
		return app.OrderPage{}, fmt.Errorf("list orders of customer %s: %w", q.CustomerID, err)
	}

	page := app.OrderPage{Orders: make([]app.OrderSummary, 0, min(len(found), limit))}
	for _, r := range found[:min(len(found), limit)] {
		sum, err := r.toSummary()
		if err != nil {
			return app.OrderPage{}, fmt.Errorf("list orders of customer %s: %w", q.CustomerID, err)
		}
		page.Orders = append(page.Orders, sum)
	}
	if len(found) > limit {
		last := page.Orders[len(page.Orders)-1]
		page.Next = &app.Cursor{CreatedAt: last.CreatedAt, OrderID: last.ID}
	}
	return page, nil
}

// customerOrderAtSQL finds an order of a customer's list by its keyset
// position, through the primary key.
const customerOrderAtSQL = `
SELECT EXISTS (SELECT 1 FROM customer_orders WHERE customer_id = $1 AND order_id = $2 AND created_at = $3)`

// CustomerOrderAt reports whether c names an order of the customer.
func (s *Store) CustomerOrderAt(ctx context.Context, customerID uuid.UUID, c app.Cursor) (_ bool, err error) {
	defer postgres.MarkUnavailable(&err)
	var ok bool
	if err := s.pool.QueryRow(ctx, customerOrderAtSQL, postgres.UUID(customerID), postgres.UUID(c.OrderID), c.CreatedAt).Scan(&ok); err != nil {
		return false, fmt.Errorf("order %s of customer %s: %w", c.OrderID, customerID, err)
	}
	return ok, nil
}

// orderEventsSQL reads part of a stream with its envelope. A NULL limit is
// no limit.
const orderEventsSQL = `
SELECT transaction_id, event_id, stream_id, stream_version, position, event_type, schema_version,
       data, metadata, occurred_at, recorded_at, personal_key
  FROM events
 WHERE stream_id = $1 AND stream_version > $2
 ORDER BY stream_version
 LIMIT $3`

// streamExistsSQL tells an unknown order from a page past a stream's end.
const streamExistsSQL = `SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1)`

// OrderEvents returns the order's events after q.AfterVersion, in version
// order, at most q.Limit of them (all when 0). Data is re-encoded by the
// codec, so it shows the current shape of its type even for events stored
// in an older schema version; SchemaVersion is that current version.
// An order without events is order.ErrNotFound; a page past the end of an
// existing stream is empty.
func (s *Store) OrderEvents(ctx context.Context, q app.EventQuery) (_ []app.RecordedEvent, err error) {
	defer postgres.MarkUnavailable(&err)
	if q.AfterVersion < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("events of order %s: after version %d and limit %d must not be negative", q.OrderID, q.AfterVersion, q.Limit)
	}
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit
	}
	rows, err := s.pool.Query(ctx, orderEventsSQL, q.OrderID, q.AfterVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, err)
	}
	events, err := s.recordedEvents(ctx, rows, false)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, err)
	}
	if len(events) > 0 {
		return events, nil
	}
	// Only an empty page costs this second query.
	var exists bool
	if err := s.pool.QueryRow(ctx, streamExistsSQL, q.OrderID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, err)
	}
	if !exists {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, order.ErrNotFound)
	}
	return []app.RecordedEvent{}, nil
}

// recordedEvents reads the rows of orderEventsSQL or feedSQL, bringing
// their data to the current shape through the codec; sealed keeps their
// personal data as stored (asStored).
func (s *Store) recordedEvents(ctx context.Context, rows pgx.Rows, sealed bool) ([]app.RecordedEvent, error) {
	stored, err := pgx.CollectRows(rows, scanStoredEvent)
	if err != nil {
		return nil, err
	}
	events := make([]app.RecordedEvent, len(stored))
	for i := range stored {
		if events[i], err = s.recorded(ctx, stored[i]); err != nil {
			return nil, err
		}
		if sealed {
			if events[i], err = asStored(events[i], &stored[i]); err != nil {
				return nil, err
			}
		}
	}
	return events, nil
}

// scanStoredEvent reads one row of orderEventsSQL or feedSQL.
func scanStoredEvent(row pgx.CollectableRow) (StoredEvent, error) {
	var st StoredEvent
	err := row.Scan(st.targets()...)
	return st, err
}

// targets are where a row of feedSQL or orderEventsSQL scans into.
func (st *StoredEvent) targets() []any {
	return []any{&st.TransactionID, &st.EventID, &st.OrderID, &st.Version, &st.Position, &st.Type, &st.SchemaVersion,
		&st.Data, &st.Metadata, envelopeTime{&st.OccurredAt}, envelopeTime{&st.RecordedAt}, &st.PersonalKey}
}

// Decode decodes the event for a reader that needs no personal data (the
// analytics consumer, the audit of stored events): its data by the codec
// with the personal members withheld (see codec.Withheld), its envelope's
// times held to the domain's bounds. It fails with an
// *app.UnreadableEventError naming the event.
func (st *StoredEvent) Decode(c *codec.Codec) (order.Event, error) {
	data, err := st.Data, error(nil)
	if st.PersonalKey.Valid {
		data, err = codec.Withheld(st.Type, st.SchemaVersion, data)
	}
	return decodeStored(st, data, err, c.Decode)
}

// open decodes the event for a reader that shows it: its personal
// members opened, or erased where its key was destroyed.
// A value that does not open makes the event unreadable; any other
// failure (the key store, the master key) is not the event's, and is
// returned as it is.
func (s *Store) open(ctx context.Context, st *StoredEvent) (order.Event, error) {
	data, erased, err := s.openEvent(ctx, st)
	if err != nil && !errors.Is(err, personaldata.ErrNotOpened) {
		return nil, fmt.Errorf("event %d of order %s: %w", st.Version, st.OrderID, err)
	}
	e, err := decodeStored(st, data, err, s.codec.Decode)
	if err == nil && erased {
		e = order.WithPersonalDataErased(e)
	}
	return e, err
}

// StoredEvent is an events row as read, before decoding.
type StoredEvent struct {
	TransactionID          uint64
	EventID, OrderID       uuid.UUID
	Version                int
	Position               int64
	Type                   string
	SchemaVersion          int
	Data, Metadata         []byte
	OccurredAt, RecordedAt time.Time
	// PersonalKey is the data key that sealed the data's personal
	// members; not Valid when none are sealed.
	PersonalKey pgtype.UUID
}

// recorded decodes a stored event and re-encodes its data in the current
// shape of its type, so readers see one shape whatever version was stored.
// An event this build cannot decode keeps its stored type, version and
// data, marked Unreadable: the feed and the history go on past it, and it
// is counted (UnreadableEvents).
func (s *Store) recorded(ctx context.Context, st StoredEvent) (app.RecordedEvent, error) {
	meta, err := s.codec.DecodeMetadata(st.Metadata)
	if err != nil {
		return app.RecordedEvent{}, fmt.Errorf("event %d of order %s: %w", st.Version, st.OrderID, err)
	}
	r := app.RecordedEvent{
		EventID:       st.EventID,
		OrderID:       st.OrderID,
		Version:       st.Version,
		Position:      st.Position,
		TransactionID: st.TransactionID,
		Type:          st.Type,
		SchemaVersion: st.SchemaVersion,
		Data:          st.Data,
		Metadata:      meta,
		OccurredAt:    st.OccurredAt.UTC(),
		RecordedAt:    st.RecordedAt.UTC(),
	}
	if s.codec.IsCustomerEvent(st.Type) {
		return s.customerRecorded(r, st), nil
	}
	e, err := s.open(ctx, &st)
	if err == nil {
		// Type, like Data and SchemaVersion, is what the codec writes today.
		r.Type, r.Erased = e.EventType(), order.IsErased(e)
		r.SchemaVersion, r.Data, err = s.codec.Encode(e)
	}
	if _, unreadable := errors.AsType[*app.UnreadableEventError](err); err != nil && !unreadable {
		return app.RecordedEvent{}, err
	}
	if err != nil {
		s.unreadable.Add(1)
		r.Type, r.SchemaVersion, r.Data, r.Unreadable = st.Type, st.SchemaVersion, st.Data, true
		r.OccurredAt, r.RecordedAt = order.ClampTime(r.OccurredAt), order.ClampTime(r.RecordedAt)
	}
	return r, nil
}

// UnreadableEvents counts the stored events this process's readers met
// and could not decode, since it started.
func (s *Store) UnreadableEvents() int64 { return s.unreadable.Load() }
