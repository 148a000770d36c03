package eventstore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// BenchmarkDetailsFromOrder is the projection row an add item writes for
// an order of 40 items, as orderbench's orders grow to.
func BenchmarkDetailsFromOrder(b *testing.B) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 123456000, time.UTC)
	o := order.Order{ID: uuid.New(), CustomerID: uuid.New(), Currency: "EUR", Status: order.StatusDraft, Version: 41, CreatedAt: at, UpdatedAt: at}
	for i := range 40 {
		price, err := order.ParseAmount("unit_price", strconv.Itoa(10+i)+".90")
		if err != nil {
			b.Fatal(err)
		}
		o.Items = append(o.Items, order.Item{ProductID: uuid.New(), ProductName: "Merino crew-neck sweater, blue, size L", Quantity: 2, UnitPrice: price})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.DetailsFromOrder(o); err != nil {
			b.Fatal(err)
		}
	}
}
