package codec

import (
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func BenchmarkDecodeItemAdded(b *testing.B) {
	c := New(Config{})
	_, data, err := c.Encode(order.ItemAdded{OrderID: uuid.New(), ProductID: uuid.New(), ProductName: "Merino crew-neck sweater, blue, size L", Quantity: 2, UnitPrice: order.MustParseAmount("59.90")})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode("OrderItemAdded", 1, data); err != nil {
			b.Fatal(err)
		}
	}
}
