package httpapi

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

func TestToOrderJSON(t *testing.T) {
	t.Parallel()
	id, customer, product := uuid.New(), uuid.New(), uuid.New()
	created := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.FixedZone("CET", 3600))
	placed := created.Add(time.Hour)
	item := order.Item{ProductID: product, ProductName: "Beans", Quantity: 3, UnitPrice: order.MustParseAmount("19.99")}

	tests := []struct {
		name  string
		order order.Order
		check func(t *testing.T, j orderJSON)
	}{
		{"fresh draft", order.Order{ID: id, CustomerID: customer, Currency: "USD", Status: order.StatusDraft, Version: 1, CreatedAt: created, UpdatedAt: created},
			func(t *testing.T, j orderJSON) {
				if j.ID != id.String() || j.CustomerID != customer.String() || j.Total != "0.00" || j.ItemCount != 0 ||
					j.Items == nil || j.ShippingAddress != nil || j.TrackingNumber != nil || j.PlacedAt != nil ||
					j.CreatedAt != "2025-01-02T02:04:05.000006Z" ||
					!slices.Equal(j.AllowedActions, []string{"add_item", "remove_item", "place", "cancel"}) {
					t.Errorf("%+v", j)
				}
			}},
		{"placed, with address lines", order.Order{ID: id, Currency: "USD", Status: order.StatusPlaced, Items: []order.Item{item},
			ShippingAddress: &order.Address{Name: "N", Line1: "L1", Line2: "L2", City: "C", PostalCode: "P", Country: "GB"},
			CreatedAt:       created, UpdatedAt: placed, PlacedAt: placed},
			func(t *testing.T, j orderJSON) {
				a := j.ShippingAddress
				if a == nil || *a.Line2 != "L2" || a.Region != nil || a.Country != "GB" || *j.PlacedAt != "2025-01-02T03:04:05.000006Z" ||
					j.Total != "59.97" || j.Items[0].LineTotal != "59.97" || j.ItemCount != 3 ||
					!slices.Equal(j.AllowedActions, []string{"ship", "cancel"}) {
					t.Errorf("%+v", j)
				}
			}},
		{"yen have no minor units", order.Order{Currency: "JPY", Items: []order.Item{{ProductID: product, Quantity: 2, UnitPrice: order.MustParseAmount("1500")}}},
			func(t *testing.T, j orderJSON) {
				if j.Total != "3000" || j.Items[0].UnitPrice != "1500" {
					t.Errorf("%+v", j)
				}
			}},
		{"sub-cent prices keep their places", order.Order{Currency: "USD", Items: []order.Item{{ProductID: product, Quantity: 3, UnitPrice: order.MustParseAmount("0.0125")}}},
			func(t *testing.T, j orderJSON) {
				if j.Total != "0.0375" || j.Items[0].UnitPrice != "0.0125" {
					t.Errorf("%+v", j)
				}
			}},
		{"figures beyond int64 are written exactly all the same", order.Order{Currency: "USD", Items: []order.Item{
			{ProductID: product, Quantity: order.MaxQuantity, UnitPrice: order.MustParseAmount("9999999999999.9999")},
			{ProductID: uuid.New(), Quantity: order.MaxQuantity, UnitPrice: order.MustParseAmount("0.5")}}},
			func(t *testing.T, j orderJSON) {
				if j.Total != "10000000000000499900.00" || j.Items[0].LineTotal != "9999999999999999900.00" || j.Items[1].LineTotal != "500000.00" {
					t.Errorf("%+v", j)
				}
			}},
		{"delivered, unsigned", order.Order{Currency: "USD", Status: order.StatusDelivered, TrackingNumber: "T", Carrier: "C", DeliveredAt: placed},
			func(t *testing.T, j orderJSON) {
				if *j.TrackingNumber != "T" || *j.Carrier != "C" || j.Signature != nil || j.DeliveredAt == nil || len(j.AllowedActions) != 0 || j.AllowedActions == nil {
					t.Errorf("%+v", j)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, toOrderJSON(tt.order))
		})
	}
}

// TestOrderJSONNullsAndEmpties pins what clients see for "not yet": null,
// and for "none": an empty array, never null.
func TestOrderJSONNullsAndEmpties(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(toOrderJSON(order.Order{Currency: "USD", Status: order.StatusDelivered}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"shipping_address", "tracking_number", "carrier", "signature", "cancel_reason", "cancelled_by", "placed_at", "shipped_at", "delivered_at", "cancelled_at"} {
		if string(m[k]) != "null" {
			t.Errorf("%s = %s, want null", k, m[k])
		}
	}
	for _, k := range []string{"items", "allowed_actions"} {
		if string(m[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, m[k])
		}
	}
}

func TestToOrderPageJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	next := app.Cursor{CreatedAt: at, OrderID: uuid.New()}
	s := app.OrderSummary{ID: uuid.New(), Status: order.StatusPlaced, Currency: "EUR", Total: decimal.RequireFromString("12.5"), ItemCount: 4, Version: 3, CreatedAt: at, UpdatedAt: at}

	list := app.ListQuery{CustomerID: uuid.New()}
	page := toOrderPageJSON(app.OrderPage{Orders: []app.OrderSummary{s}, Next: &next}, list, testCursors)
	got := page.Orders[0]
	if got.ID != s.ID.String() || got.Status != "placed" || got.Currency != "EUR" || got.Total != "12.50" || got.ItemCount != 4 ||
		got.Version != 3 || got.CreatedAt != "2025-01-02T03:04:05.000000Z" {
		t.Errorf("summary = %+v", got)
	}
	if c, legacy, ok := decodeCursor(testCursors, list, *page.NextCursor); !ok || legacy || c.OrderID != next.OrderID || !c.CreatedAt.Equal(at) {
		t.Errorf("next_cursor %q decodes to %+v", *page.NextCursor, c)
	}
	if last := toOrderPageJSON(app.OrderPage{}, list, testCursors); last.NextCursor != nil || last.Orders == nil {
		t.Errorf("last page = %+v", last)
	}
}

func TestToEventsJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 7000, time.UTC)
	e := app.RecordedEvent{EventID: uuid.New(), Version: 2, Position: 99, Type: order.TypeItemAdded, SchemaVersion: 1,
		Data: json.RawMessage(`{"quantity":3}`), Metadata: app.Metadata{RequestID: "r", CorrelationID: "c", CausationID: "r"},
		OccurredAt: at, RecordedAt: at.Add(time.Millisecond)}
	got := toEventsJSON([]app.RecordedEvent{e}).Events[0]
	m := got.Metadata
	if got.EventID != e.EventID.String() || got.Version != 2 || got.Position != 99 || got.Type != "OrderItemAdded" ||
		string(got.Data) != `{"quantity":3}` || got.OccurredAt != "2025-01-02T03:04:05.000007Z" || got.RecordedAt != "2025-01-02T03:04:05.001007Z" ||
		*m.RequestID != "r" || *m.CorrelationID != "c" || *m.CausationID != "r" || m.Actor != nil {
		t.Errorf("event = %+v", got)
	}
	if empty := toEventsJSON(nil); empty.Events == nil {
		t.Error("no events must be [], not null")
	}
}
