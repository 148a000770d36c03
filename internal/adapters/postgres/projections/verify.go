package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

// verifyChunk is about how many orders each of verify's transactions
// compares.
const verifyChunk = 1000

// VerifyProjections replays every stream through the store's fold and
// compares the state with its order_details and customer_orders rows,
// every column, and the figures of analytics_daily with a recount of the
// events; it lists at most limit differences and counts the rest.
//
// It compares a range of order ids at a time (about verifyChunk orders),
// each in a read-only REPEATABLE READ transaction of its own: the inline
// projections commit with their events, so they agree with them in any
// snapshot, and the service may keep writing. No lock on the live tables,
// nor any snapshot, is held for longer than a range: a rebuild's swap or
// a migration that needs a table to itself would wait for it, and the
// service's reads and writes would queue behind them. A read-only
// transaction takes no transaction id, so none holds the feed back.
//
// The analytics projection is asynchronous: its checkpoint and its
// figures are read first, in one snapshot, and compared with a recount of
// the events up to that checkpoint, the events after it being legitimately
// not counted yet, rather than waiting for a consumer that may not run.
// The events up to the checkpoint are committed and immutable, so every
// later range's snapshot sees them all.
//
// Within a range, streams and rows are merged in id order from three
// cursors, a batch at a time, so memory does not grow with the store.
func (s *Store) VerifyProjections(ctx context.Context, limit int) (_ VerifyReport, err error) {
	defer markUnavailable(&err)
	v := &verification{s: s, limit: limit, recount: analyticsRecount{}}
	var projected map[AnalyticsKey]AnalyticsFigures
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, analyticsCheckpointSQL, analyticsName).Scan(&v.rep.AnalyticsAt.TransactionID, &v.rep.AnalyticsAt.Position); err != nil {
			return fmt.Errorf("read the analytics checkpoint: %w", err)
		}
		projected, err = ProjectedAnalytics(ctx, tx)
		return err
	})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify projections: %w", err)
	}
	var after *uuid.UUID
	for {
		next, err := v.verifyRange(ctx, after)
		if err != nil {
			return VerifyReport{}, fmt.Errorf("verify projections after order %v: %w", after, err)
		}
		if next == nil {
			break
		}
		after = next
		if s.afterVerifyRange != nil {
			s.afterVerifyRange()
		}
	}
	for _, line := range analyticsDifferences(v.recount, projected) {
		v.add(line)
	}
	return v.rep, nil
}

// verification is the state of a VerifyProjections run.
type verification struct {
	s       *Store
	limit   int
	rep     VerifyReport
	recount analyticsRecount
}

// add records a difference.
func (v *verification) add(line string) {
	v.rep.Total++
	if len(v.rep.Differences) < v.limit {
		v.rep.Differences = append(v.rep.Differences, line)
	}
}

// idRange is the condition that column col is after after (nil: from
// the first) and up to last (nil: to the end), and its arguments. Each
// case has a text of its own, so that every range is planned as an index
// range scan.
func idRange(col string, after, last *uuid.UUID) (string, []any) {
	var (
		conds = []string{"true"}
		args  []any
	)
	if after != nil {
		args = append(args, pgUUID(*after))
		conds = append(conds, fmt.Sprintf("%s > $%d", col, len(args)))
	}
	if last != nil {
		args = append(args, pgUUID(*last))
		conds = append(conds, fmt.Sprintf("%s <= $%d", col, len(args)))
	}
	return strings.Join(conds, " AND "), args
}

// verifyRange compares the orders after the id after (nil: from the
// first), about verifyChunk of them, in one snapshot; it returns the last
// id of the range, nil when it went to the end.
func (v *verification) verifyRange(ctx context.Context, after *uuid.UUID) (last *uuid.UUID, err error) {
	err = pgx.BeginTxFunc(ctx, v.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		from, args := idRange("order_id", after, nil)
		var end uuid.UUID
		switch err := tx.QueryRow(ctx, `SELECT order_id FROM order_details WHERE `+from+
			fmt.Sprintf(` ORDER BY order_id OFFSET %d LIMIT 1`, v.s.verifyChunk-1), args...).Scan(scanUUID(&end)); {
		case errors.Is(err, pgx.ErrNoRows):
			last = nil // the rest, whatever streams or rows it holds
		case err != nil:
			return fmt.Errorf("range end: %w", err)
		default:
			last = &end
		}
		cond, args := idRange("stream_id", after, last)
		events, err := openCursor(ctx, tx, "verify_events", fmt.Sprintf(eventsInStreamOrderWhere, cond), pgx.RowToStructByPos[eventRow], args...)
		if err != nil {
			return err
		}
		cond, args = idRange("order_id", after, last)
		details, err := openCursor(ctx, tx, "verify_details",
			`SELECT `+detailsColumnsSQL+` FROM order_details WHERE `+cond+` ORDER BY order_id`, scanDetailsRow, args...)
		if err != nil {
			return err
		}
		summaries, err := openCursor(ctx, tx, "verify_summaries",
			`SELECT `+summaryColumnsSQL+` FROM customer_orders WHERE `+cond+` ORDER BY order_id, customer_id`,
			pgx.RowToStructByPos[summaryRow], args...)
		if err != nil {
			return err
		}
		return v.compare(ctx, &streams{s: v.s, events: events}, details, summaries)
	})
	return last, err
}

// compare merges the streams and rows of three cursors by order id and
// compares each order's.
func (v *verification) compare(ctx context.Context, st *streams, details *rowCursor[detailsRow], summaries *rowCursor[summaryRow]) error {
	for {
		id, ok, err := nextID(ctx, st, details, summaries)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		o, n, ferr := st.fold(ctx, id, func(before, after order.Order, e order.Event, row *eventRow) {
			if !isAfter(app.FeedCursor{TransactionID: row.TransactionID, Position: row.Position}, v.rep.AnalyticsAt) {
				v.recount.count(before, after, e, row.OccurredAt)
			}
		})
		v.rep.Events += int64(n)
		if n > 0 {
			v.rep.Orders++
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
			v.add(fmt.Sprintf("events %s: %v", id, ferr))
			continue
		}
		compareOrder(id, o, d, sums, v.add)
	}
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
