package analytics

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// The recount is the analytics projection computed another way, to hold
// the projection to: it shares nothing with the consumer's fold but the
// event codec. It replays each order's stream with the domain's own Apply
// (through the store's fold) and counts each event on the UTC day it
// occurred; the amounts come from the replayed order (Order.Total), not
// from the total an OrderPlaced event records, so a wrong total in either
// place shows. `orderapi projections verify` and the tests use it.

// Key names a row of analytics_daily: a day (YYYY-MM-DD, UTC) and
// a currency.
type Key struct {
	Date     string
	Currency string
}

// Figures are one day's figures in one currency.
type Figures struct {
	Created, Placed, Shipped, Delivered, Cancelled int64
	RevenuePlaced, RevenueCancelled                decimal.Decimal
	ItemsSold                                      int64
}

// Equal reports whether the figures are the same, amounts by value.
func (f Figures) Equal(g Figures) bool {
	return f.Created == g.Created && f.Placed == g.Placed && f.Shipped == g.Shipped && f.Delivered == g.Delivered &&
		f.Cancelled == g.Cancelled && f.ItemsSold == g.ItemsSold &&
		f.RevenuePlaced.Equal(g.RevenuePlaced) && f.RevenueCancelled.Equal(g.RevenueCancelled)
}

func (f Figures) String() string {
	return fmt.Sprintf("created %d placed %d shipped %d delivered %d cancelled %d revenue placed %s cancelled %s items %d",
		f.Created, f.Placed, f.Shipped, f.Delivered, f.Cancelled, f.RevenuePlaced, f.RevenueCancelled, f.ItemsSold)
}

// fields lists the figures by analytics_daily column, for differences.
func (f Figures) fields() [][2]string {
	n := func(v int64) string { return fmt.Sprint(v) }
	return [][2]string{
		{"orders_created", n(f.Created)}, {"orders_placed", n(f.Placed)}, {"orders_shipped", n(f.Shipped)},
		{"orders_delivered", n(f.Delivered)}, {"orders_cancelled", n(f.Cancelled)},
		{"revenue_placed", f.RevenuePlaced.String()}, {"revenue_cancelled", f.RevenueCancelled.String()},
		{"items_sold", n(f.ItemsSold)},
	}
}

// Tally accumulates the figures of the events counted.
type Tally map[Key]Figures

// Count counts one event, given its order's state before and after it.
func (r Tally) Count(before, after order.Order, e order.Event, occurredAt time.Time) {
	k := Key{Date: dayOf(occurredAt), Currency: string(after.Currency)}
	f := r[k]
	switch e.(type) {
	case order.Created:
		f.Created++
	case order.Placed:
		f.Placed++
		f.RevenuePlaced = f.RevenuePlaced.Add(after.Total())
		f.ItemsSold += after.ItemCount()
	case order.Shipped:
		f.Shipped++
	case order.Delivered:
		f.Delivered++
	case order.Cancelled:
		f.Cancelled++
		if before.Status == order.StatusPlaced {
			f.RevenueCancelled = f.RevenueCancelled.Add(before.Total())
		}
	default:
		return // items count when the order is placed
	}
	r[k] = f
}

// Recount replays every committed stream and counts every event,
// as the analytics projection does once it has caught up. It reads the
// whole store in one query: for tests; verification streams instead.
func Recount(ctx context.Context, db postgres.Querier) (map[Key]Figures, error) {
	s := eventstore.New(nil, eventstore.Config{})
	rows, err := db.Query(ctx, `
SELECT stream_id, stream_version, event_type, schema_version, data, occurred_at, personal_key
  FROM events ORDER BY stream_id, stream_version`)
	if err != nil {
		return nil, fmt.Errorf("recount analytics: %w", err)
	}
	recount := Tally{}
	var (
		current uuid.UUID
		o       order.Order
		st      eventstore.StoredEvent
	)
	_, err = pgx.ForEachRow(rows, []any{&st.OrderID, &st.Version, &st.Type, &st.SchemaVersion, &st.Data, &st.OccurredAt, &st.PersonalKey}, func() error {
		if !order.IsOrderID(st.OrderID) {
			return nil // a customer's stream: nothing to count
		}
		if st.OrderID != current {
			current, o = st.OrderID, order.Order{}
		}
		before := o
		// Analytics reads no personal data: nothing is opened.
		e, err := s.ApplyWithheld(&o, &st)
		if err != nil {
			return fmt.Errorf("order %s: %w", st.OrderID, err)
		}
		recount.Count(before, o, e, st.OccurredAt)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recount analytics: %w", err)
	}
	return recount, nil
}

// analyticsDailyAllSQL reads every row of analytics_daily.
const analyticsDailyAllSQL = `
SELECT to_char(date, 'YYYY-MM-DD'), currency, orders_created, orders_placed, orders_shipped, orders_delivered, orders_cancelled,
       revenue_placed::text, revenue_cancelled::text, items_sold
  FROM analytics_daily`

// Projected reads the projection's figures, every row of
// analytics_daily.
func Projected(ctx context.Context, db postgres.Querier) (map[Key]Figures, error) {
	rows, err := db.Query(ctx, analyticsDailyAllSQL)
	if err != nil {
		return nil, fmt.Errorf("read analytics_daily: %w", err)
	}
	figures := map[Key]Figures{}
	var (
		k                 Key
		f                 Figures
		placed, cancelled string
	)
	_, err = pgx.ForEachRow(rows, []any{&k.Date, &k.Currency, &f.Created, &f.Placed, &f.Shipped, &f.Delivered, &f.Cancelled,
		&placed, &cancelled, &f.ItemsSold}, func() error {
		var err error
		if f.RevenuePlaced, err = decimal.NewFromString(placed); err != nil {
			return err
		}
		if f.RevenueCancelled, err = decimal.NewFromString(cancelled); err != nil {
			return err
		}
		figures[k] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read analytics_daily: %w", err)
	}
	return figures, nil
}

// Differences lists, one line per figure, how the projected
// figures differ from the recounted ones, by day then currency.
func Differences(want, got map[Key]Figures) []string {
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Currency, b.Currency))
	})
	var diffs []string
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		name := "analytics_daily " + k.Date + " " + k.Currency
		switch {
		case !inGot:
			diffs = append(diffs, fmt.Sprintf("%s: missing row, want %s", name, w))
		case !inWant:
			if g.Equal(Figures{}) {
				continue // an empty row counts nothing
			}
			diffs = append(diffs, fmt.Sprintf("%s: row for a day without counted events (%s)", name, g))
		default:
			wf, gf := w.fields(), g.fields()
			for i := range wf {
				if wf[i][1] != gf[i][1] && !sameAmount(wf[i][1], gf[i][1]) {
					diffs = append(diffs, fmt.Sprintf("%s: %s %s, want %s", name, wf[i][0], gf[i][1], wf[i][1]))
				}
			}
		}
	}
	return diffs
}

// sameAmount reports whether two decimal texts are the same number
// ("5.0" and "5.00" are).
func sameAmount(a, b string) bool {
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && x.Equal(y)
}
