package eventstore_test

import (
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app/apptest"
)

// BenchmarkDetailsFromOrder is the projection row an add item writes for
// an order of 40 items, as orderbench's orders grow to.
func BenchmarkDetailsFromOrder(b *testing.B) {
	o := apptest.WideOrder(40)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.DetailsFromOrder(o); err != nil {
			b.Fatal(err)
		}
	}
}
