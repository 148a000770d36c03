package httpapi

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app/apptest"
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
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		writeOrder(w, 200, o)
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
	o := apptest.WideOrder(40)
	r := httptest.NewRequest("POST", "/v1/orders/x/items", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		writeJSON(w, r, 200, toOrderJSON(o))
	}
}
