package eventstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/snapshot"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// FuzzWhatTheDomainAcceptsRoundTrips drives an order's whole life through
// the domain's commands with fuzzed values and checks that every event
// they accept, and every state they lead to, comes back unchanged from
// each encoding the store keeps: the event codec, the snapshot and the
// order_details row. A value the domain accepts but an encoding cannot
// carry (a time beyond four-digit years, say) would be written once and
// unreadable forever; this finds it before any store does.
func FuzzWhatTheDomainAcceptsRoundTrips(f *testing.F) {
	for _, seed := range []struct {
		currency, name string
		quantity       int64
		price, text    string
		country        string
		at             string
		cancel         bool
	}{
		{"USD", "Mug", 3, "19.99", "Ada Lovelace", "GB", "2026-11-25T13:00:00Z", false},
		{"JPY", "Tasse à thé 🍵", 1_000_000, "0.0001", "Zoë\u200dÅ", "CH", "2026-11-25T13:00:00.123456789+05:30", false},
		{"BHD", "e\u0301\u2028", 1, "9999999.9999", "שלום \u202e", "IL", "9998-12-31T23:59:59-23:59", false},
		{"CLF", "x", 1, "00001.10", "\U0010FFFF\uFFFD", "US", "1970-01-01T00:00:00+23:59", true},
		{"USD", "far", 1, "1", "A", "GB", "9999-12-31T23:59:59-23:59", false},
		{"USD", "early", 1, "1", "A", "GB", "0000-01-01T00:00:00+24:00", false},
	} {
		f.Add(seed.currency, seed.name, seed.quantity, seed.price, seed.text, seed.country, seed.at, seed.cancel)
	}
	c := codec.New(codec.Config{})
	f.Fuzz(func(t *testing.T, currency, name string, quantity int64, price, text, country, at string, cancel bool) {
		id, customer, product := uuid.New(), uuid.New(), uuid.New()
		start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		var o order.Order
		step := func(events []order.Event, err error) bool {
			if err != nil {
				return false
			}
			for _, e := range events {
				roundTripEvent(t, c, e)
				o.Apply(e, start.Add(time.Duration(o.Version)*time.Second))
			}
			roundTripState(t, o)
			return true
		}
		if !step(order.Create(id, customer, order.Currency(currency))) {
			return
		}
		if amount, err := order.ParseAmount("unit_price", price); err == nil {
			step(o.AddItem(order.NewItem{ProductID: product, ProductName: name, Quantity: quantity, UnitPrice: amount}))
		}
		if cancel {
			step(o.Cancel(text, name))
			return
		}
		addr := order.Address{Name: text, Line1: name, Line2: text, City: text, Region: name, PostalCode: name, Country: country}
		if !step(o.Place(addr)) || !step(o.Ship(name, text)) {
			return
		}
		if deliveredAt, err := time.Parse(time.RFC3339Nano, at); err == nil {
			// The delivery is taken as now: the codec, not the clock, is
			// under test, so only the domain's bounds stand in the way.
			deliveredAt = deliveredAt.Truncate(time.Microsecond)
			step(o.Deliver(deliveredAt, deliveredAt, text))
		}
	})
}

func roundTripEvent(t *testing.T, c *codec.Codec, e order.Event) {
	t.Helper()
	version, data, err := c.Encode(e)
	if err != nil {
		t.Fatalf("encode %#v: %v", e, err)
	}
	back, err := c.Decode(e.EventType(), version, data)
	if err != nil || !reflect.DeepEqual(back, normal(e)) {
		t.Fatalf("event %#v stored as %s reads back as %#v, %v", e, data, back, err)
	}
}

func roundTripState(t *testing.T, o order.Order) {
	t.Helper()
	data, err := snapshot.Encode(o)
	if err != nil {
		t.Fatalf("encode snapshot: %v", err)
	}
	if back, err := snapshot.Decode(o.ID, o.Version, data); err != nil || !reflect.DeepEqual(back, normalState(o)) {
		t.Fatalf("state %#v snapshot %s reads back as %#v, %v", o, data, back, err)
	}
	row, err := DetailsFromOrder(o)
	if err != nil {
		t.Fatalf("order_details row: %v", err)
	}
	if back, err := row.toOrder(); err != nil || !sameRow(back, o) {
		t.Fatalf("state %#v as an order_details row reads back as %#v, %v", o, back, err)
	}
}

// normal is an event as the store hands it back: times in UTC.
func normal(e order.Event) order.Event {
	if d, ok := e.(order.Delivered); ok {
		d.DeliveredAt = d.DeliveredAt.UTC()
		return d
	}
	return e
}

// normalState is a state as the store hands it back: times in UTC.
func normalState(o order.Order) order.Order {
	o = o.Clone()
	for _, at := range []*time.Time{&o.CreatedAt, &o.UpdatedAt, &o.PlacedAt, &o.ShippedAt, &o.DeliveredAt, &o.CancelledAt} {
		if !at.IsZero() {
			*at = at.UTC()
		}
	}
	return o
}

// sameRow compares a state read from its order_details row, which holds
// times as timestamptz (an instant, compared with Equal).
func sameRow(got, want order.Order) bool {
	gt := []time.Time{got.CreatedAt, got.UpdatedAt, got.PlacedAt, got.ShippedAt, got.DeliveredAt, got.CancelledAt}
	wt := []time.Time{want.CreatedAt, want.UpdatedAt, want.PlacedAt, want.ShippedAt, want.DeliveredAt, want.CancelledAt}
	for i := range gt {
		if !gt[i].Equal(wt[i]) {
			return false
		}
	}
	got, want = normalState(got), normalState(want)
	got.CreatedAt, got.UpdatedAt, got.PlacedAt, got.ShippedAt, got.DeliveredAt, got.CancelledAt = want.CreatedAt, want.UpdatedAt, want.PlacedAt, want.ShippedAt, want.DeliveredAt, want.CancelledAt
	return reflect.DeepEqual(got, want)
}
