// Package analyticstest recomputes the analytics projection's figures from
// the event store alone, so that tests can hold the projection to them.
//
// The recomputation shares nothing with the projection but the event
// codec: it replays each order's stream with the domain's own Apply, in
// version order, and counts each event on the UTC day it occurred. The
// amounts come from the replayed order (Order.Total), not from the total
// an OrderPlaced event records, so a wrong total in either place shows.
package analyticstest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// Key names a day (YYYY-MM-DD, UTC) and a currency.
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

func (f Figures) equal(g Figures) bool {
	return f.Created == g.Created && f.Placed == g.Placed && f.Shipped == g.Shipped && f.Delivered == g.Delivered &&
		f.Cancelled == g.Cancelled && f.ItemsSold == g.ItemsSold &&
		f.RevenuePlaced.Equal(g.RevenuePlaced) && f.RevenueCancelled.Equal(g.RevenueCancelled)
}

func (f Figures) String() string {
	return fmt.Sprintf("created %d placed %d shipped %d delivered %d cancelled %d revenue placed %s cancelled %s items %d",
		f.Created, f.Placed, f.Shipped, f.Delivered, f.Cancelled, f.RevenuePlaced, f.RevenueCancelled, f.ItemsSold)
}

// Querier is a pool or a connection.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Recompute replays every committed stream and counts its events.
func Recompute(ctx context.Context, db Querier) (map[Key]Figures, error) {
	rows, err := db.Query(ctx, `
SELECT stream_id, event_type, schema_version, data, occurred_at
  FROM events ORDER BY stream_id, stream_version`)
	if err != nil {
		return nil, err
	}
	codec := postgres.NewCodec()
	figures := map[Key]Figures{}
	var (
		current uuid.UUID
		o       order.Order
		id      uuid.UUID
		typ     string
		version int
		data    []byte
		at      time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &typ, &version, &data, &at}, func() error {
		if id != current {
			current, o = id, order.Order{}
		}
		e, err := codec.Decode(typ, version, data)
		if err != nil {
			return err
		}
		before := o
		o.Apply(e, at.UTC())
		k := Key{Date: at.UTC().Format(time.DateOnly), Currency: string(o.Currency)}
		f := figures[k]
		switch e.(type) {
		case order.Created:
			f.Created++
		case order.Placed:
			f.Placed++
			f.RevenuePlaced = f.RevenuePlaced.Add(o.Total())
			f.ItemsSold += o.ItemCount()
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
			return nil // items count when the order is placed
		}
		figures[k] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recompute analytics: %w", err)
	}
	return figures, nil
}

// Projected reads the projection's figures from analytics_daily.
func Projected(ctx context.Context, db Querier) (map[Key]Figures, error) {
	rows, err := db.Query(ctx, `
SELECT date::text, currency, orders_created, orders_placed, orders_shipped, orders_delivered, orders_cancelled,
       revenue_placed::text, revenue_cancelled::text, items_sold
  FROM analytics_daily`)
	if err != nil {
		return nil, err
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

// Diff lists the days whose figures differ, or "" when none does.
func Diff(want, got map[Key]Figures) string {
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Currency, b.Currency))
	})
	var b strings.Builder
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%s %s: missing, want %s\n", k.Date, k.Currency, w)
		case !inWant:
			fmt.Fprintf(&b, "%s %s: %s, want no row\n", k.Date, k.Currency, g)
		case !w.equal(g):
			fmt.Fprintf(&b, "%s %s:\n  got  %s\n  want %s\n", k.Date, k.Currency, g, w)
		}
	}
	return b.String()
}
