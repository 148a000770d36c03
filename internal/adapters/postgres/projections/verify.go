package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// VerifyReport is what Verify found.
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

// Verify replays every stream through the store's fold and compares the
// state with its order_details and customer_orders rows, every column,
// and the figures of analytics_daily with a recount of the events up to
// the analytics checkpoint; it lists at most limit differences and counts
// the rest. It reads a range of orders per short read-only transaction, so
// the service keeps serving. See docs/design.md, "Projection verification".
func Verify(ctx context.Context, st *eventstore.Store, limit int) (VerifyReport, error) {
	return verifyIn(ctx, st, limit, verifyChunk, nil)
}

// verifyIn is Verify comparing about chunk orders per transaction, and
// calling after, if set, between two.
func verifyIn(ctx context.Context, st *eventstore.Store, limit, chunk int, after func()) (VerifyReport, error) {
	s := newStore(st)
	s.verifyChunk, s.afterVerifyRange = chunk, after
	return s.verify(ctx, limit)
}

func (s *store) verify(ctx context.Context, limit int) (_ VerifyReport, err error) {
	defer postgres.MarkUnavailable(&err)
	v := &verification{s: s, limit: limit, recount: analytics.Tally{}}
	var projected map[analytics.Key]analytics.Figures
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if v.rep.AnalyticsAt, err = analytics.Checkpoint(ctx, tx); err != nil {
			return err
		}
		projected, err = analytics.Projected(ctx, tx)
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
	for _, line := range analytics.Differences(v.recount, projected) {
		v.add(line)
	}
	return v.rep, nil
}

// verification is the state of a Verify run.
type verification struct {
	s       *store
	limit   int
	rep     VerifyReport
	recount analytics.Tally
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
		args = append(args, postgres.UUID(*after))
		conds = append(conds, fmt.Sprintf("%s > $%d", col, len(args)))
	}
	if last != nil {
		args = append(args, postgres.UUID(*last))
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
			fmt.Sprintf(` ORDER BY order_id OFFSET %d LIMIT 1`, v.s.verifyChunk-1), args...).Scan(postgres.ScanUUID(&end)); {
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
			pgx.RowToStructByPos[eventstore.SummaryRow], args...)
		if err != nil {
			return err
		}
		return v.compare(ctx, &streams{s: v.s, events: events}, details, summaries)
	})
	return last, err
}

// compare merges the streams and rows of three cursors by order id and
// compares each order's.
func (v *verification) compare(ctx context.Context, st *streams, details *rowCursor[eventstore.DetailsRow], summaries *rowCursor[eventstore.SummaryRow]) error {
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
				v.recount.Count(before, after, e, row.OccurredAt)
			}
		})
		v.rep.Events += int64(n)
		if n > 0 {
			v.rep.Orders++
		}
		var d *eventstore.DetailsRow
		if r, err := details.peek(ctx); err != nil {
			return err
		} else if r != nil && r.OrderID == id {
			d = new(*r)
			details.pop()
		}
		var sums []eventstore.SummaryRow
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
		// A row without a stream is reported as such, sealed or not.
		if d != nil && n > 0 {
			if err := v.s.OpenDetails(ctx, d); err != nil {
				v.add(fmt.Sprintf("order_details %s: %v", id, err))
				continue
			}
		}
		compareOrder(id, o.Order, d, sums, v.add)
	}
}

// nextID returns the smallest id that a stream or a projection row has
// next; false when all three are exhausted.
func nextID(ctx context.Context, st *streams, details *rowCursor[eventstore.DetailsRow], summaries *rowCursor[eventstore.SummaryRow]) (uuid.UUID, bool, error) {
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
func compareOrder(id uuid.UUID, o order.Order, d *eventstore.DetailsRow, sums []eventstore.SummaryRow, add func(string)) {
	if o.Version == 0 {
		if d != nil {
			add(fmt.Sprintf("order_details %s: row without a stream", id))
		}
		for _, c := range sums {
			add(fmt.Sprintf("customer_orders %s/%s: row without a stream", c.CustomerID, id))
		}
		return
	}
	want, err := eventstore.DetailsFromOrder(o)
	if err != nil {
		add(fmt.Sprintf("events %s: state has no projection row: %v", id, err))
		return
	}
	if d == nil {
		add(fmt.Sprintf("order_details %s: missing row (stream at version %d)", id, o.Version))
	} else {
		for _, diff := range columnDifferences(detailsColumns(*d), detailsColumns(want)) {
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
		for _, diff := range columnDifferences(summaryColumns(c), summaryColumns(want.Summary())) {
			add(fmt.Sprintf("customer_orders %s/%s: %s", c.CustomerID, id, diff))
		}
	}
	if !found {
		add(fmt.Sprintf("customer_orders %s/%s: missing row (stream at version %d)", want.CustomerID, id, o.Version))
	}
}
