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
// with one row per changed order and per touched day.
type analyticsBatch struct {
	orders  map[uuid.UUID]*analyticsOrder
	changes map[uuid.UUID]*orderChange
	days    map[dayKey]*dayFigures
}

// orderChange is what a batch changed of one order's stored state, so
// that only that is written.
type orderChange struct {
	// created: the batch began the order, whose row is written whole.
	created bool
	// items are the product lines the batch set (to their quantity) or
	// removed (0), written over the stored ones of an order it did not
	// create.
	items map[uuid.UUID]int64
	// placed: the batch recorded the placed total.
	placed bool
	// ended: the order was delivered or cancelled, after which it takes no
	// event, so the consumer need not remember it.
	ended bool
}

// writes reports whether the order's row changes.
func (c *orderChange) writes() bool { return c.created || len(c.items) > 0 || c.placed }

// newAnalyticsBatch starts a batch from the stored states of the orders
// it touches (orders created in the batch have none).
func newAnalyticsBatch(stored map[uuid.UUID]*analyticsOrder) *analyticsBatch {
	return &analyticsBatch{orders: stored, changes: map[uuid.UUID]*orderChange{}, days: map[dayKey]*dayFigures{}}
}

// fold applies one event of the order, which occurred at the instant.
func (b *analyticsBatch) fold(orderID uuid.UUID, e order.Event, occurredAt time.Time) error {
	st, d, err := foldAnalytics(b.orders[orderID], e)
	if err != nil {
		return fmt.Errorf("order %s, %s: %w", orderID, e.EventType(), err)
	}
	b.orders[orderID] = st
	b.noteChange(orderID, e)
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

// noteChange records what a folded event changed of its order's row.
func (b *analyticsBatch) noteChange(orderID uuid.UUID, e order.Event) {
	c, ok := b.changes[orderID]
	if !ok {
		c = &orderChange{}
		b.changes[orderID] = c
	}
	switch e := e.(type) {
	case order.Created:
		c.created = true
	case order.ItemAdded:
		c.setItem(e.ProductID, e.Quantity)
	case order.ItemRemoved:
		c.setItem(e.ProductID, 0)
	case order.Placed:
		c.placed = true
	case order.Delivered, order.Cancelled:
		c.ended = true
	}
}

// setItem records a product line's new quantity, 0 when removed; a
// created order's row is written whole instead.
func (c *orderChange) setItem(product uuid.UUID, quantity int64) {
	if c.created {
		return
	}
	if c.items == nil {
		c.items = map[uuid.UUID]int64{}
	}
	c.items[product] = quantity
}

// changedOrders returns the ids of the orders whose rows the batch
// changed, sorted so that writes lock rows in a stable order.
func (b *analyticsBatch) changedOrders() []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(b.changes))
	for id, c := range b.changes {
		if c.writes() {
			ids = append(ids, id)
		}
	}
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
