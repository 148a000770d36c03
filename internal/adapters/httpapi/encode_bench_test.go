package httpapi

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// BenchmarkWriteOrder is the encoding of GET /v1/orders/{id}'s answer for
// an order of two items.
func BenchmarkWriteOrder(b *testing.B) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 123456000, time.UTC)
	o := order.Order{ID: uuid.New(), CustomerID: uuid.New(), Currency: "EUR", Status: order.StatusDraft, Version: 3, CreatedAt: at, UpdatedAt: at}
	for _, name := range []string{"Merino crew-neck sweater, blue, size L", "Espresso cup"} {
		o.Items = append(o.Items, order.Item{ProductID: uuid.New(), ProductName: name, Quantity: 2, UnitPrice: order.MustParseAmount("59.90")})
	}
	r := httptest.NewRequest("GET", "/v1/orders/x", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		writeJSON(w, r, 200, toOrderJSON(o))
	}
}

func BenchmarkToOrderJSON(b *testing.B) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 123456000, time.UTC)
	o := order.Order{ID: uuid.New(), CustomerID: uuid.New(), Currency: "EUR", Status: order.StatusDraft, Version: 3, CreatedAt: at, UpdatedAt: at}
	for _, name := range []string{"Merino crew-neck sweater, blue, size L", "Espresso cup"} {
		o.Items = append(o.Items, order.Item{ProductID: uuid.New(), ProductName: name, Quantity: 2, UnitPrice: order.MustParseAmount("59.90")})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = toOrderJSON(o)
	}
}

// BenchmarkWriteOrder40 is the answer to an add item on an order of 40
// items, as orderbench's orders grow to.
func BenchmarkWriteOrder40(b *testing.B) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 123456000, time.UTC)
	o := order.Order{ID: uuid.New(), CustomerID: uuid.New(), Currency: "EUR", Status: order.StatusDraft, Version: 41, CreatedAt: at, UpdatedAt: at}
	for i := range 40 {
		price, err := order.ParseAmount("unit_price", strconv.Itoa(10+i)+".90")
		if err != nil {
			b.Fatal(err)
		}
		o.Items = append(o.Items, order.Item{ProductID: uuid.New(), ProductName: "Merino crew-neck sweater, blue, size L", Quantity: 2, UnitPrice: price})
	}
	r := httptest.NewRequest("POST", "/v1/orders/x/items", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		writeJSON(w, r, 200, toOrderJSON(o))
	}
}
