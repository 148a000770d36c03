package analytics

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// The analytics fold is pure: an event and what the projection remembers
// of its order in, the remembered state and the change to one day's
// figures out. No I/O, so every rule is unit-tested without a database;
// batch.go reads the state and writes the results.

// analyticsOrder is what the analytics projection remembers of one order
// (a row of analytics_orders): enough to count every later event of the
// order from that event alone.
type analyticsOrder struct {
	currency order.Currency
	// items maps each product line to its quantity.
	items map[uuid.UUID]int64
	// placedTotal is the total recorded by OrderPlaced; nil until then.
	placedTotal *decimal.Decimal
}

// dayKey names one row of analytics_daily.
type dayKey struct {
	// date is the UTC day, as YYYY-MM-DD.
	date     string
	currency order.Currency
}

// dayFigures are the figures of one row of analytics_daily, or a change to
// them.
type dayFigures struct {
	created, placed, shipped, delivered, cancelled int64
	revenuePlaced, revenueCancelled                decimal.Decimal
	itemsSold                                      int64
}

// counts reports whether the figures count anything. Every change to an
// amount comes with a count, so amounts need no look.
func (f dayFigures) counts() bool {
	return f.created != 0 || f.placed != 0 || f.shipped != 0 || f.delivered != 0 || f.cancelled != 0 || f.itemsSold != 0
}

func (f *dayFigures) add(d dayFigures) {
	f.created += d.created
	f.placed += d.placed
	f.shipped += d.shipped
	f.delivered += d.delivered
	f.cancelled += d.cancelled
	f.revenuePlaced = f.revenuePlaced.Add(d.revenuePlaced)
	f.revenueCancelled = f.revenueCancelled.Add(d.revenueCancelled)
	f.itemsSold += d.itemsSold
}

// dayOf is the UTC day an instant falls on.
func dayOf(t time.Time) string {
	return t.UTC().Format(time.DateOnly)
}

// errNoOrderState: an event of an order whose OrderCreated the projection
// never saw. The feed gives an order's events in version order from the
// start, so this is a bug or a tampered table, never a race.
var errNoOrderState = errors.New("no analytics state for the order: its OrderCreated was not processed")

// foldAnalytics applies one event to its order's state (nil before
// OrderCreated) and returns the state after it and the change to the
// figures of the event's day in the order's currency. It may change *st.
//
// OrderItemAdded and OrderItemRemoved only change the state: the units
// count when the order is placed. A cancellation adds revenue only for a
// placed order: a draft had none.
func foldAnalytics(st *analyticsOrder, e order.Event) (*analyticsOrder, dayFigures, error) {
	if _, created := e.(order.Created); created != (st == nil) {
		if created {
			return nil, dayFigures{}, errors.New("OrderCreated for an order the projection already has")
		}
		return nil, dayFigures{}, errNoOrderState
	}
	var d dayFigures
	switch e := e.(type) {
	case order.Created:
		st = &analyticsOrder{currency: e.Currency, items: map[uuid.UUID]int64{}}
		d.created = 1
	case order.ItemAdded:
		st.items[e.ProductID] = e.Quantity
	case order.ItemRemoved:
		delete(st.items, e.ProductID)
	case order.Placed:
		total := e.TotalAmount
		st.placedTotal = &total
		d.placed = 1
		d.revenuePlaced = total
		for _, q := range st.items {
			d.itemsSold += q
		}
	case order.Shipped:
		d.shipped = 1
	case order.Delivered:
		d.delivered = 1
	case order.Cancelled:
		d.cancelled = 1
		if st.placedTotal != nil {
			d.revenueCancelled = *st.placedTotal
		}
	default:
		return nil, dayFigures{}, fmt.Errorf("no analytics rule for event %T", e)
	}
	return st, d, nil
}

// analyticsBatch folds a batch of events over the states of their orders
// and sums the changes per day and currency, so that the batch is written
// with one row per touched order and per touched day.
type analyticsBatch struct {
	orders  map[uuid.UUID]*analyticsOrder
	changed map[uuid.UUID]bool
	days    map[dayKey]*dayFigures
}

// newAnalyticsBatch starts a batch from the stored states of the orders
// it touches (orders created in the batch have none).
func newAnalyticsBatch(stored map[uuid.UUID]*analyticsOrder) *analyticsBatch {
	return &analyticsBatch{orders: stored, changed: map[uuid.UUID]bool{}, days: map[dayKey]*dayFigures{}}
}

// fold applies one event of the order, which occurred at the instant.
func (b *analyticsBatch) fold(orderID uuid.UUID, e order.Event, occurredAt time.Time) error {
	st, d, err := foldAnalytics(b.orders[orderID], e)
	if err != nil {
		return fmt.Errorf("order %s, %s: %w", orderID, e.EventType(), err)
	}
	b.orders[orderID] = st
	b.changed[orderID] = true
	if !d.counts() {
		return nil
	}
	key := dayKey{date: dayOf(occurredAt), currency: st.currency}
	f, ok := b.days[key]
	if !ok {
		f = &dayFigures{}
		b.days[key] = f
	}
	f.add(d)
	return nil
}

// changedOrders returns the ids of the orders the batch changed, sorted so
// that writes lock rows in a stable order.
func (b *analyticsBatch) changedOrders() []uuid.UUID {
	ids := slices.Collect(maps.Keys(b.changed))
	slices.SortFunc(ids, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
	return ids
}

// dayKeys returns the touched days, sorted by date, then currency.
func (b *analyticsBatch) dayKeys() []dayKey {
	keys := slices.Collect(maps.Keys(b.days))
	slices.SortFunc(keys, func(x, y dayKey) int {
		return cmp.Or(cmp.Compare(x.date, y.date), cmp.Compare(x.currency, y.currency))
	})
	return keys
}
