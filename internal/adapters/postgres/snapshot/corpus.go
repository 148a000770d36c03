package snapshot

import (
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// corpusEvent is one stored event of the snapshot corpus: a domain event,
// stored in its current schema version, or the raw data of an older one.
type corpusEvent struct {
	event  order.Event
	schema codec.Schema // of raw
	raw    string
	at     time.Time
}

// snapshotCorpus is the fixed set of streams whose folded states go into
// the snapshot fingerprint. Together they take every event type, every
// stored schema version, every branch of Apply and every field of the
// state (the fingerprint's tests check that), so that a change to any of
// them changes some state. Never edit it in place to follow a change of
// the fold: that is the change it exists to detect. Add to it.
func snapshotCorpus() [][]corpusEvent {
	var (
		customer = uuid.MustParse("0193a000-0000-7000-8000-00000000c001")
		full     = uuid.MustParse("0193a000-0000-7000-8000-00000000a001")
		draft    = uuid.MustParse("0193a000-0000-7000-8000-00000000a002")
		placed   = uuid.MustParse("0193a000-0000-7000-8000-00000000a003")
		unsigned = uuid.MustParse("0193a000-0000-7000-8000-00000000a004")
		erased   = uuid.MustParse("0193a000-0000-7000-8000-00000000a005")
		widget   = uuid.MustParse("0193a000-0000-7000-8000-00000000b001")
		gadget   = uuid.MustParse("0193a000-0000-7000-8000-00000000b002")
		absent   = uuid.MustParse("0193a000-0000-7000-8000-00000000b003")
		fullAddr = order.Address{Name: "Ada Lovelace", Line1: "1 Analytical Way", Line2: "Flat 2", City: "London", Region: "Greater London", PostalCode: "N1 9GU", Country: "GB"}
		bareAddr = order.Address{Name: "Grace Hopper", Line1: "2 Compiler Road", City: "Arlington", PostalCode: "22201", Country: "US"}
	)
	// Every event occurs at its own time, with sub-microsecond digits, so
	// that each time field shows which event set it.
	clock := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	at := func() time.Time {
		clock = clock.Add(time.Minute + time.Nanosecond)
		return clock
	}
	ev := func(e order.Event) corpusEvent { return corpusEvent{event: e, at: at()} }
	raw := func(eventType string, version int, data string) corpusEvent {
		return corpusEvent{schema: codec.Schema{EventType: eventType, Version: version}, raw: data, at: at()}
	}
	price := decimal.RequireFromString
	unit := func(s string) order.Amount {
		a, ok := order.AmountFromDecimal(price(s))
		if !ok {
			panic("corpus price does not fit an amount: " + s)
		}
		return a
	}
	return [][]corpusEvent{
		// A whole life: lines added and removed (a product twice, one not
		// in the order, down to no lines), placed, shipped, delivered.
		{
			ev(order.Created{OrderID: full, CustomerID: customer, Currency: "EUR"}),
			ev(order.ItemAdded{OrderID: full, ProductID: widget, ProductName: "Widget", Quantity: 2, UnitPrice: unit("4.50")}),
			ev(order.ItemAdded{OrderID: full, ProductID: gadget, ProductName: "Gadget", Quantity: 1, UnitPrice: unit("0.0125")}),
			ev(order.ItemAdded{OrderID: full, ProductID: widget, ProductName: "Widget again", Quantity: 3, UnitPrice: unit("4.5")}),
			ev(order.ItemRemoved{OrderID: full, ProductID: widget}),
			ev(order.ItemRemoved{OrderID: full, ProductID: absent}),
			ev(order.ItemRemoved{OrderID: full, ProductID: gadget}),
			ev(order.ItemRemoved{OrderID: full, ProductID: widget}),
			ev(order.ItemAdded{OrderID: full, ProductID: gadget, ProductName: "Gadget", Quantity: 1_000_000, UnitPrice: unit("9999.9999")}),
			ev(order.ItemAdded{OrderID: full, ProductID: widget, ProductName: "Free widget", Quantity: 1, UnitPrice: unit("0")}),
			ev(order.Placed{OrderID: full, ShippingAddress: fullAddr, TotalAmount: price("9999999900.0000")}),
			ev(order.Shipped{OrderID: full, TrackingNumber: "1Z999AA10123456784", Carrier: "UPS"}),
			ev(order.Delivered{OrderID: full, DeliveredAt: time.Date(2026, 1, 9, 10, 11, 12, 987654321, time.UTC), Signature: "A. Lovelace"}),
		},
		// Created as first stored, without a currency (the configured
		// default), and cancelled as a draft, by a declared name (v1).
		{
			raw(order.TypeCreated, 1, `{"order_id":"`+draft.String()+`","customer_id":"`+customer.String()+`"}`),
			raw(order.TypeCancelled, 1, `{"order_id":"`+draft.String()+`","reason":"changed my mind","cancelled_by":"customer"}`),
		},
		// Created at version 1 with a currency, cancelled once placed.
		{
			raw(order.TypeCreated, 1, `{"order_id":"`+placed.String()+`","customer_id":"`+customer.String()+`","currency":"JPY"}`),
			ev(order.ItemAdded{OrderID: placed, ProductID: widget, ProductName: "Widget", Quantity: 1, UnitPrice: unit("1000")}),
			ev(order.Placed{OrderID: placed, ShippingAddress: bareAddr, TotalAmount: price("1000")}),
			ev(order.Cancelled{OrderID: placed, Reason: "out of stock", CancelledBy: "staff:lin", Verified: true}),
		},
		// Delivered without a signature.
		{
			ev(order.Created{OrderID: unsigned, CustomerID: customer, Currency: "KWD"}),
			ev(order.ItemAdded{OrderID: unsigned, ProductID: gadget, ProductName: "Gadget", Quantity: 7, UnitPrice: unit("1.234")}),
			ev(order.Placed{OrderID: unsigned, ShippingAddress: bareAddr, TotalAmount: price("8.638")}),
			ev(order.Shipped{OrderID: unsigned, TrackingNumber: "JD014600006281234567", Carrier: "DHL"}),
			ev(order.Delivered{OrderID: unsigned, DeliveredAt: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}),
		},
		// Placed, and read after its customer's personal data was erased;
		// then cancelled with a reason recorded afterwards.
		{
			ev(order.Created{OrderID: erased, CustomerID: customer, Currency: "EUR"}),
			ev(order.ItemAdded{OrderID: erased, ProductID: widget, ProductName: "Widget", Quantity: 3, UnitPrice: unit("2.50")}),
			ev(order.WithPersonalDataErased(order.Placed{OrderID: erased, ShippingAddress: fullAddr, TotalAmount: price("7.50")})),
			ev(order.Cancelled{OrderID: erased, Reason: "asked to", CancelledBy: "staff:lin", Verified: true}),
		},
	}
}
