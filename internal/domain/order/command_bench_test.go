package order_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// BenchmarkAddItem is the domain's share of one add item on an order of
// 39 items, as orderbench's orders grow: the decision, with its check of
// the total, and the new state.
func BenchmarkAddItem(b *testing.B) {
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	id := uuid.New()
	var o order.Order
	o.Apply(order.Created{OrderID: id, CustomerID: uuid.New(), Currency: "EUR"}, at)
	for i := range 39 {
		price, err := order.ParseAmount("unit_price", strconv.Itoa(10+i)+".90")
		if err != nil {
			b.Fatal(err)
		}
		o.Apply(order.ItemAdded{OrderID: id, ProductID: uuid.New(), ProductName: "Thing", Quantity: 2, UnitPrice: price}, at)
	}
	price, err := order.ParseAmount("unit_price", "59.90")
	if err != nil {
		b.Fatal(err)
	}
	item := order.NewItem{ProductID: uuid.New(), ProductName: "Merino crew-neck sweater", Quantity: 2, UnitPrice: price}
	b.ReportAllocs()
	for b.Loop() {
		events, err := o.AddItem(item)
		if err != nil {
			b.Fatal(err)
		}
		next := o
		next.Apply(events[0], at)
	}
}
