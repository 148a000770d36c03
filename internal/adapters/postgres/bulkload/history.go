package bulkload

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// step is one command of an order's life.
type step uint8

const (
	stepCreate step = iota
	stepItem        // add or remove an item
	stepPlace
	stepShip
	stepDeliver
	stepCancel
)

// ending is how an order's life ends (or where it stands at the end of
// the load), after its item changes: the steps it takes, how many items
// it must hold to take them, and how often orders end so, in percent.
type ending struct {
	steps    []step
	minItems int
	weight   int
}

var endings = []ending{
	{nil, 0, 10},                                      // a cart left as a draft
	{[]step{stepCancel}, 0, 6},                        // a draft cancelled
	{[]step{stepPlace}, 1, 3},                         // placed, not yet shipped
	{[]step{stepPlace, stepCancel}, 1, 5},             // placed, then cancelled
	{[]step{stepPlace, stepShip}, 1, 4},               // on its way
	{[]step{stepPlace, stepShip, stepDeliver}, 1, 72}, // delivered
}

// gap is how long before a step of its kind an order's previous step
// happened, drawn from a range a shop would see.
func gap(rng *rand.Rand, s, previous step) time.Duration {
	between := func(lo, hi time.Duration) time.Duration { return lo + rng.N(hi-lo) }
	switch s {
	case stepItem:
		return between(10*time.Second, 3*time.Minute)
	case stepPlace:
		return between(time.Minute, 20*time.Minute)
	case stepShip:
		return between(2*time.Hour, 48*time.Hour)
	case stepDeliver:
		return between(12*time.Hour, 96*time.Hour)
	case stepCancel:
		if previous == stepPlace {
			return between(10*time.Minute, 24*time.Hour)
		}
		return between(5*time.Minute, 3*time.Hour)
	}
	return 0
}

// built is one order's history as the store keeps it: its events' rows,
// in version order, and its final state.
type built struct {
	events []eventRow
	state  order.Order
}

// eventRow is one events row; recorded is set when the row is placed in
// the timeline.
type eventRow struct {
	id, stream     uuid.UUID
	version        int32
	eventType      string
	schemaVersion  int16
	data, metadata []byte
	occurred       time.Time
	recorded       time.Time
}

// historian decides orders' lives with the order aggregate and encodes
// them with the store's codec.
type historian struct {
	shop      *shop
	codec     *codec.Codec
	principal app.Principal
}

// build decides the life of an order created at created that takes
// length events, all by until (squeezed in when its usual pace would
// take it past until).
func (h *historian) build(rng *rand.Rand, length int, created, until time.Time) (built, error) {
	c := &h.shop.customers[rng.IntN(len(h.shop.customers))]
	end := pickEnding(rng, length)
	steps := make([]step, 0, length)
	steps = append(steps, stepCreate)
	items := length - 1 - len(end.steps)
	for range items {
		steps = append(steps, stepItem)
	}
	steps = append(steps, end.steps...)
	times := schedule(rng, steps, created, until)

	b := built{events: make([]eventRow, 0, length)}
	o := &b.state
	id := v7(created, rng)
	itemsLeft := items
	for i, s := range steps {
		at := times[i]
		var (
			events []order.Event
			err    error
		)
		switch s {
		case stepCreate:
			events, err = order.Create(id, c.id, c.currency)
		case stepItem:
			events, err = h.changeItems(rng, o, itemsLeft, end.minItems)
			itemsLeft--
		case stepPlace:
			events, err = o.Place(c.address)
		case stepShip:
			cr := pick(rng, carriers)
			digits := fmt.Sprintf("%0*d", cr.digits, rng.Int64N(1_000_000_000_000))
			events, err = o.Ship(cr.prefix+digits, cr.name)
		case stepDeliver:
			// The courier's scan comes a little before the event.
			deliveredAt := at.Add(-rng.N(30 * time.Minute)).Truncate(time.Microsecond)
			if !deliveredAt.After(o.ShippedAt) {
				deliveredAt = o.ShippedAt.Add(at.Sub(o.ShippedAt) / 2).Truncate(time.Microsecond)
			}
			signature := ""
			if rng.IntN(10) < 6 {
				signature = o.ShippingAddress.Name
			}
			events, err = o.Deliver(deliveredAt, at, signature)
		case stepCancel:
			events, err = o.Cancel(pick(rng, cancelReasons), h.principal.Subject)
		}
		if err != nil {
			return built{}, fmt.Errorf("order %s, event %d: the aggregate refused the load's command: %w", id, o.Version+1, err)
		}
		if err := h.record(rng, &b, events, at); err != nil {
			return built{}, fmt.Errorf("order %s: %w", id, err)
		}
	}
	return b, nil
}

// record applies a command's events to the order and encodes them as
// rows, with the metadata of a request of their own, as the service
// would have recorded them.
func (h *historian) record(rng *rand.Rand, b *built, events []order.Event, at time.Time) error {
	request := v7(at, rng).String()
	meta, err := h.codec.EncodeMetadata(app.Metadata{RequestID: request, CorrelationID: request, CausationID: request, Principal: h.principal})
	if err != nil {
		return err
	}
	for _, e := range events {
		v, data, err := h.codec.Encode(e)
		if err != nil {
			return err
		}
		b.state.Apply(e, at)
		b.events = append(b.events, eventRow{
			id: v7(at, rng), stream: b.state.ID, version: int32(b.state.Version), eventType: e.EventType(),
			schemaVersion: int16(v), data: data, metadata: meta, occurred: at,
		})
	}
	return nil
}

// changeItems adds a product of the catalogue, or now and then removes
// one, keeping enough steps to end with minItems; left counts the item
// changes still to come, this one included.
func (h *historian) changeItems(rng *rand.Rand, o *order.Order, left, minItems int) ([]order.Event, error) {
	n := len(o.Items)
	if n > 0 && n-1+left-1 >= minItems && (n >= order.MaxItemsPerOrder || rng.IntN(100) < 12) {
		return o.RemoveItem(o.Items[rng.IntN(n)].ProductID)
	}
	p := &h.shop.products[rng.IntN(len(h.shop.products))]
	for slices.ContainsFunc(o.Items, func(it order.Item) bool { return it.ProductID == p.id }) {
		p = &h.shop.products[rng.IntN(len(h.shop.products))]
	}
	quantity := int64(1)
	switch r := rng.IntN(10); {
	case r >= 9:
		quantity = 3 + rng.Int64N(3)
	case r >= 7:
		quantity = 2
	}
	return o.AddItem(order.NewItem{ProductID: p.id, ProductName: p.name, Quantity: quantity, UnitPrice: p.price})
}

// pickEnding draws how an order of length events ends, among the
// endings that leave room for the items they need.
func pickEnding(rng *rand.Rand, length int) ending {
	total := 0
	for _, e := range endings {
		if fits(e, length) {
			total += e.weight
		}
	}
	r := rng.IntN(total)
	for _, e := range endings {
		if !fits(e, length) {
			continue
		}
		if r < e.weight {
			return e
		}
		r -= e.weight
	}
	panic("unreachable: the draft ending fits every length")
}

func fits(e ending, length int) bool { return length-1-len(e.steps) >= e.minItems }

// schedule gives each step its time, at the pace of gap, squeezed to end
// by until when it would not: strictly increasing, in the microseconds
// PostgreSQL keeps.
func schedule(rng *rand.Rand, steps []step, created, until time.Time) []time.Time {
	offsets := make([]time.Duration, len(steps))
	for i := 1; i < len(steps); i++ {
		offsets[i] = offsets[i-1] + gap(rng, steps[i], steps[i-1])
	}
	last := offsets[len(offsets)-1]
	room := until.Sub(created)
	times := make([]time.Time, len(steps))
	for i, d := range offsets {
		if last > room {
			d = time.Duration(float64(d) * float64(room) / float64(last))
		}
		times[i] = created.Add(d).Truncate(time.Microsecond)
		if i > 0 && !times[i].After(times[i-1]) {
			times[i] = times[i-1].Add(time.Microsecond)
		}
	}
	return times
}
