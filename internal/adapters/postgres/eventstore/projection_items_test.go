package eventstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestItemsJSONHoldsWhatEncodingJSONWrites(t *testing.T) {
	t.Parallel()
	names := []string{"Mug", "", `Say "cheese" \ please`, "<b>&amp;</b>", "Tasse à thé 🍵 «日本»", "line\u2028sep\u2029", "tab\there\x01\x1f", "bad \xff utf-8", strings.Repeat("é", 200)}
	prices := []string{"0", "4.50", "0.0125", "9999999999999.9999", "1000"}
	for n := range len(names) + 1 {
		// Given the items of an order, none at first
		var items []order.Item
		for i := range n {
			items = append(items, order.Item{ProductID: uuid.New(), ProductName: names[i], Quantity: int64(i*i*997 + 1), UnitPrice: order.MustParseAmount(prices[i%len(prices)])})
		}

		// When they are written by hand and by encoding/json
		got := appendItemsJSON(nil, items)
		list := make([]itemJSON, len(items))
		for i, it := range items {
			list[i] = itemJSON{ProductID: it.ProductID, ProductName: it.ProductName, Quantity: it.Quantity, UnitPrice: it.UnitPrice.String()}
		}
		want, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}

		// Then both are valid JSON holding the same values, which is what
		// jsonb keeps
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%d items: %v\n%s", n, err, got)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%d items:\n got %s\nwant %s", n, got, want)
		}
	}
}
