package analytics

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// analyticsOrderRow is a row of analytics_orders as read and written:
// items as jsonb text ({"<product id>": quantity}), the placed total as
// numeric text, NULL (nil) until the order is placed.
type analyticsOrderRow struct {
	OrderID     uuid.UUID
	Currency    string
	Items       string
	PlacedTotal *string
}

// toState converts a stored row into the fold's state.
func (r analyticsOrderRow) toState() (*analyticsOrder, error) {
	var raw map[string]int64
	if err := json.Unmarshal([]byte(r.Items), &raw); err != nil {
		return nil, fmt.Errorf("analytics state of order %s: items: %w", r.OrderID, err)
	}
	st := &analyticsOrder{currency: order.Currency(r.Currency), items: make(map[uuid.UUID]int64, len(raw))}
	for k, q := range raw {
		id, err := uuid.Parse(k)
		if err != nil || q < 1 {
			return nil, fmt.Errorf("analytics state of order %s: item %q: %d", r.OrderID, k, q)
		}
		st.items[id] = q
	}
	if r.PlacedTotal != nil {
		total, err := codec.ParseAmount(*r.PlacedTotal)
		if err != nil {
			return nil, fmt.Errorf("analytics state of order %s: placed_total: %w", r.OrderID, err)
		}
		st.placedTotal = &total
	}
	return st, nil
}

// analyticsOrderRowOf converts the fold's state of an order into its row.
func analyticsOrderRowOf(id uuid.UUID, st *analyticsOrder) (analyticsOrderRow, error) {
	r := analyticsOrderRow{OrderID: id, Currency: string(st.currency), Items: string(appendItemsJSON(nil, st.items))}
	if st.placedTotal != nil {
		total := codec.FormatAmount(*st.placedTotal)
		r.PlacedTotal = &total
	}
	return r, nil
}

// appendItemsJSON appends product lines as the JSON object of
// analytics_orders.items, {"<product id>": quantity}; a quantity of 0 (a
// line removed) as null, which the write of a change strips. Built by
// hand: it runs for every changed order of every batch, and ids and
// integers need no escaping.
func appendItemsJSON(buf []byte, items map[uuid.UUID]int64) []byte {
	buf = append(buf, '{')
	first := true
	for p, q := range items {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, '"')
		buf = postgres.AppendUUID(buf, p)
		buf = append(buf, '"', ':')
		if q == 0 {
			buf = append(buf, "null"...)
		} else {
			buf = strconv.AppendInt(buf, q, 10)
		}
	}
	return append(buf, '}')
}

// dailyRow is a row of analytics_daily as read, amounts as numeric text.
type dailyRow struct {
	Date                                                                         time.Time
	Currency                                                                     string
	OrdersCreated, OrdersPlaced, OrdersShipped, OrdersDelivered, OrdersCancelled int64
	RevenuePlaced, RevenueCancelled                                              string
	ItemsSold                                                                    int64
}

// toFigures converts a row into the app's figures.
func (r dailyRow) toFigures() (app.DailyFigures, error) {
	placed, err := codec.ParseAmount(r.RevenuePlaced)
	if err != nil {
		return app.DailyFigures{}, fmt.Errorf("analytics of %s %s: revenue_placed: %w", r.Date.Format(time.DateOnly), r.Currency, err)
	}
	cancelled, err := codec.ParseAmount(r.RevenueCancelled)
	if err != nil {
		return app.DailyFigures{}, fmt.Errorf("analytics of %s %s: revenue_cancelled: %w", r.Date.Format(time.DateOnly), r.Currency, err)
	}
	y, m, d := r.Date.Date()
	return app.DailyFigures{
		Date:             time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		Currency:         order.Currency(r.Currency),
		OrdersCreated:    r.OrdersCreated,
		OrdersPlaced:     r.OrdersPlaced,
		OrdersShipped:    r.OrdersShipped,
		OrdersDelivered:  r.OrdersDelivered,
		OrdersCancelled:  r.OrdersCancelled,
		RevenuePlaced:    placed,
		RevenueCancelled: cancelled,
		ItemsSold:        r.ItemsSold,
	}, nil
}
