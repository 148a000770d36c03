package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// VerifyReport is what VerifyProjections found.
type VerifyReport struct {
	// Orders and Events count the streams and events replayed.
	Orders, Events int64
	// AnalyticsAt is the analytics checkpoint: its figures were compared
	// with a recount of the events up to it.
	AnalyticsAt app.FeedCursor
	// Differences lists the first differences found, one line each.
	Differences []string
	// Total counts every difference, listed or not.
	Total int
}

// VerifyProjections replays every stream through the store's fold and
// compares the state with its order_details and customer_orders rows,
// every column, and the figures of analytics_daily with a recount of the
// events; it lists at most limit differences and counts the rest.
//
// It reads one snapshot (a read-only REPEATABLE READ transaction), so the
// service may keep writing: the inline projections commit with their
// events, hence agree with them in any snapshot. The analytics projection
// is asynchronous; it is compared up to its checkpoint in that snapshot,
// the events after it being legitimately not counted yet, rather than
// waiting for a consumer that may not run. A read-only transaction takes
// no transaction id, so it does not hold the feed back.
//
// Streams and rows are merged in id order from three cursors, a batch at a
// time, so memory does not grow with the store.
func (s *Store) VerifyProjections(ctx context.Context, limit int) (_ VerifyReport, err error) {
	defer markUnavailable(&err)
	var rep VerifyReport
	add := func(line string) {
		rep.Total++
		if len(rep.Differences) < limit {
			rep.Differences = append(rep.Differences, line)
		}
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, analyticsCheckpointSQL, analyticsName).Scan(&rep.AnalyticsAt.TransactionID, &rep.AnalyticsAt.Position); err != nil {
			return fmt.Errorf("read the analytics checkpoint: %w", err)
		}
		events, err := openCursor(ctx, tx, "verify_events", eventsInStreamOrder, pgx.RowToStructByPos[eventRow])
		if err != nil {
			return err
		}
		details, err := openCursor(ctx, tx, "verify_details",
			`SELECT `+detailsColumnsSQL+` FROM order_details ORDER BY order_id`, scanDetailsRow)
		if err != nil {
			return err
		}
		// customer_orders has no index on order_id: this cursor sorts it once.
		summaries, err := openCursor(ctx, tx, "verify_summaries",
			`SELECT `+summaryColumnsSQL+` FROM customer_orders ORDER BY order_id, customer_id`, pgx.RowToStructByPos[summaryRow])
		if err != nil {
			return err
		}
		recount := analyticsRecount{}
		st := &streams{s: s, events: events}
		for {
			id, ok, err := nextID(ctx, st, details, summaries)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			o, n, ferr := st.fold(ctx, id, func(before, after order.Order, e order.Event, row *eventRow) {
				if !isAfter(app.FeedCursor{TransactionID: row.TransactionID, Position: row.Position}, rep.AnalyticsAt) {
					recount.count(before, after, e, row.OccurredAt)
				}
			})
			rep.Events += int64(n)
			if n > 0 {
				rep.Orders++
			}
			var d *detailsRow
			if r, err := details.peek(ctx); err != nil {
				return err
			} else if r != nil && r.OrderID == id {
				d = new(*r)
				details.pop()
			}
			var sums []summaryRow
			for {
				r, err := summaries.peek(ctx)
				if err != nil {
					return err
				}
				if r == nil || r.OrderID != id {
					break
				}
				sums = append(sums, *r)
				summaries.pop()
			}
			if ferr != nil {
				add(fmt.Sprintf("events %s: %v", id, ferr))
				continue
			}
			compareOrder(id, o, d, sums, add)
		}
		projected, err := ProjectedAnalytics(ctx, tx)
		if err != nil {
			return err
		}
		for _, line := range analyticsDifferences(recount, projected) {
			add(line)
		}
		return nil
	})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify projections: %w", err)
	}
	return rep, nil
}

// nextID returns the smallest id that a stream or a projection row has
// next; false when all three are exhausted.
func nextID(ctx context.Context, st *streams, details *rowCursor[detailsRow], summaries *rowCursor[summaryRow]) (uuid.UUID, bool, error) {
	id, ok, err := st.peekID(ctx)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	d, err := details.peek(ctx)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	if d != nil && (!ok || compareIDs(d.OrderID, id) < 0) {
		id, ok = d.OrderID, true
	}
	c, err := summaries.peek(ctx)
	if err != nil {
		return uuid.UUID{}, false, err
	}
	if c != nil && (!ok || compareIDs(c.OrderID, id) < 0) {
		id, ok = c.OrderID, true
	}
	return id, ok, nil
}

// compareOrder reports how the projection rows of order id differ from
// its replayed state o (the zero state when it has no stream).
func compareOrder(id uuid.UUID, o order.Order, d *detailsRow, sums []summaryRow, add func(string)) {
	if o.Version == 0 {
		if d != nil {
			add(fmt.Sprintf("order_details %s: row without a stream", id))
		}
		for _, c := range sums {
			add(fmt.Sprintf("customer_orders %s/%s: row without a stream", c.CustomerID, id))
		}
		return
	}
	want, err := detailsFromOrder(o)
	if err != nil {
		add(fmt.Sprintf("events %s: state has no projection row: %v", id, err))
		return
	}
	if d == nil {
		add(fmt.Sprintf("order_details %s: missing row (stream at version %d)", id, o.Version))
	} else {
		for _, diff := range columnDifferences(d.columns(), want.columns()) {
			add(fmt.Sprintf("order_details %s: %s", id, diff))
		}
	}
	found := false
	for _, c := range sums {
		if c.CustomerID != want.CustomerID {
			add(fmt.Sprintf("customer_orders %s/%s: row for another customer than the order's %s", c.CustomerID, id, want.CustomerID))
			continue
		}
		found = true
		for _, diff := range columnDifferences(c.columns(), want.summary().columns()) {
			add(fmt.Sprintf("customer_orders %s/%s: %s", c.CustomerID, id, diff))
		}
	}
	if !found {
		add(fmt.Sprintf("customer_orders %s/%s: missing row (stream at version %d)", want.CustomerID, id, o.Version))
	}
}
