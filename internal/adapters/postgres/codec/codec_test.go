package codec_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("0193a000-0000-7000-8000-000000000001")
	product := uuid.MustParse("0193a000-0000-7000-8000-0000000000a1")
	tests := []struct {
		name    string
		event   order.Event
		want    string // the stored JSON, exactly
		version int    // the schema version written; 1 if zero
	}{
		{
			name:    "created",
			event:   order.Created{OrderID: id, CustomerID: product, Currency: "EUR"},
			want:    `{"order_id":"0193a000-0000-7000-8000-000000000001","customer_id":"0193a000-0000-7000-8000-0000000000a1","currency":"EUR"}`,
			version: 2,
		},
		{
			name:  "item added with a common price",
			event: order.ItemAdded{OrderID: id, ProductID: product, ProductName: "Mug", Quantity: 3, UnitPrice: order.MustParseAmount("19.99")},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","product_id":"0193a000-0000-7000-8000-0000000000a1","product_name":"Mug","quantity":3,"unit_price":"19.99"}`,
		},
		{
			name:  "item added with the smallest price and unicode text",
			event: order.ItemAdded{OrderID: id, ProductID: product, ProductName: "Tasse à thé 🍵 «日本»", Quantity: 1_000_000, UnitPrice: order.MustParseAmount("0.0001")},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","product_id":"0193a000-0000-7000-8000-0000000000a1","product_name":"Tasse à thé 🍵 «日本»","quantity":1000000,"unit_price":"0.0001"}`,
		},
		{
			name:  "item added keeps trailing zeros",
			event: order.ItemAdded{OrderID: id, ProductID: product, ProductName: "Tea", Quantity: 1, UnitPrice: order.MustParseAmount("4.50")},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","product_id":"0193a000-0000-7000-8000-0000000000a1","product_name":"Tea","quantity":1,"unit_price":"4.50"}`,
		},
		{
			name:  "item removed",
			event: order.ItemRemoved{OrderID: id, ProductID: product},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","product_id":"0193a000-0000-7000-8000-0000000000a1"}`,
		},
		{
			name: "placed with the largest total and a full address",
			event: order.Placed{OrderID: id, TotalAmount: dec("9999999999999.9999"), ShippingAddress: order.Address{
				Name: "Zoë Ångström", Line1: "1 Rue de l'Église", Line2: "Bâtiment B", City: "Zürich", Region: "ZH", PostalCode: "8001", Country: "CH",
			}},
			want: `{"order_id":"0193a000-0000-7000-8000-000000000001","shipping_address":{"name":"Zoë Ångström","line1":"1 Rue de l'Église","line2":"Bâtiment B","city":"Zürich","region":"ZH","postal_code":"8001","country":"CH"},"total_amount":"9999999999999.9999"}`,
		},
		{
			name: "placed without optional address lines",
			event: order.Placed{OrderID: id, TotalAmount: dec("0"), ShippingAddress: order.Address{
				Name: "Ada", Line1: "1 Way", City: "London", PostalCode: "N1", Country: "GB",
			}},
			want: `{"order_id":"0193a000-0000-7000-8000-000000000001","shipping_address":{"name":"Ada","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"},"total_amount":"0"}`,
		},
		{
			name:  "shipped",
			event: order.Shipped{OrderID: id, TrackingNumber: "1Z999", Carrier: "UPS"},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","tracking_number":"1Z999","carrier":"UPS"}`,
		},
		{
			name:  "delivered with a signature",
			event: order.Delivered{OrderID: id, DeliveredAt: time.Date(2026, 11, 25, 12, 0, 1, 123456000, time.UTC), Signature: "Ada L."},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","delivered_at":"2026-11-25T12:00:01.123456Z","signature":"Ada L."}`,
		},
		{
			name:  "delivered without a signature",
			event: order.Delivered{OrderID: id, DeliveredAt: time.Date(2026, 11, 25, 12, 0, 1, 500000000, time.UTC)},
			want:  `{"order_id":"0193a000-0000-7000-8000-000000000001","delivered_at":"2026-11-25T12:00:01.5Z"}`,
		},
		{
			name:    "cancelled",
			version: 2,
			event:   order.Cancelled{OrderID: id, Reason: "changed mind — «non»", CancelledBy: "customer", Verified: true},
			want:    `{"order_id":"0193a000-0000-7000-8000-000000000001","reason":"changed mind — «non»","cancelled_by":"customer","cancelled_by_verified":true}`,
		},
	}
	c := codec.New(codec.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// When the event is encoded
			version, data, err := c.Encode(tt.event)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			// Then it has the stored shape at its type's current schema version
			want := max(tt.version, 1)
			if version != want || string(data) != tt.want {
				t.Errorf("encode = v%d %s\nwant v%d %s", version, data, want, tt.want)
			}
			// And decoding gives back exactly the same event
			got, err := c.Decode(tt.event.EventType(), version, data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.event) {
				t.Errorf("decode = %#v\nwant %#v", got, tt.event)
			}
		})
	}
}

func TestCodecDecodesJSONBNormalizedData(t *testing.T) {
	t.Parallel()
	// Given data as jsonb gives it back: keys reordered, spaces added
	data := `{"quantity": 2, "order_id": "0193a000-0000-7000-8000-000000000001", "unit_price": "9999999999999.9999", "product_id": "0193a000-0000-7000-8000-0000000000a1", "product_name": "Ü"}`

	// When it is decoded
	got, err := codec.New(codec.Config{}).Decode(order.TypeItemAdded, 1, []byte(data))

	// Then the amount is exact
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if added := got.(order.ItemAdded); added.UnitPrice.String() != "9999999999999.9999" || added.Quantity != 2 {
		t.Errorf("decoded %+v", added)
	}
}

func TestCodecRefusesUnknownShapes(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	tests := []struct {
		name      string
		eventType string
		version   int
		data      string
		wantInErr []string
	}{
		{"unknown type", "OrderTeleported", 1, `{}`, []string{`"OrderTeleported"`, "schema version 1"}},
		{"unknown version", order.TypeCreated, 7, `{}`, []string{`"OrderCreated"`, "schema version 7"}},
		{"unknown field", order.TypeShipped, 1, `{"order_id":"0193a000-0000-7000-8000-000000000001","courier":"x"}`, []string{"OrderShipped v1", "courier"}},
		{"not an amount", order.TypePlaced, 1, `{"order_id":"0193a000-0000-7000-8000-000000000001","shipping_address":{},"total_amount":"lots"}`, []string{"OrderPlaced v1", "total_amount"}},
		{"quantity not an integer", order.TypeItemAdded, 1, `{"quantity":1.5}`, []string{"OrderItemAdded v1"}},
		{"trailing data", order.TypeItemRemoved, 1, `{} {}`, []string{"OrderItemRemoved v1", "trailing"}},
		// Beyond the domain's bounds, which every build has kept: written
		// by hand, and folding it would overflow the order's figures.
		{"quantity beyond the bounds", order.TypeItemAdded, 1,
			`{"order_id":"0193a000-0000-7000-8000-000000000001","product_id":"0193a000-0000-7000-8000-0000000000a1","product_name":"x","quantity":9223372036854775807,"unit_price":"1"}`,
			[]string{"OrderItemAdded v1", "quantity"}},
		{"price beyond the bounds", order.TypeItemAdded, 1,
			`{"order_id":"0193a000-0000-7000-8000-000000000001","product_id":"0193a000-0000-7000-8000-0000000000a1","product_name":"x","quantity":1,"unit_price":"99999999999999999999999999.9999"}`,
			[]string{"OrderItemAdded v1", "unit_price"}},
		{"negative total", order.TypePlaced, 1, `{"order_id":"0193a000-0000-7000-8000-000000000001","shipping_address":{},"total_amount":"-1"}`, []string{"OrderPlaced v1", "total_amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Decode(tt.eventType, tt.version, []byte(tt.data))
			if err == nil {
				t.Fatal("decoded without error")
			}
			for _, want := range tt.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestCodecMetadata(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	tests := []struct {
		meta app.Metadata
		want string
	}{
		{app.Metadata{}, `{}`},
		{app.Metadata{RequestID: "r1", CorrelationID: "c1", CausationID: "k1", Principal: app.Principal{Subject: "user:Zoë"}},
			`{"request_id":"r1","correlation_id":"c1","causation_id":"k1","actor":"user:Zoë"}`},
		{app.Metadata{Principal: app.Principal{Subject: "system"}}, `{"actor":"system"}`},
		{app.Metadata{RequestID: "r2", Principal: app.Principal{Subject: "3f1c0de2-7c57-4f43-9d5e-6a4c2b8f1e20",
			Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff), ClientID: "shop-web"}},
			`{"request_id":"r2","actor":"3f1c0de2-7c57-4f43-9d5e-6a4c2b8f1e20","actor_roles":["customer","staff"],"client_id":"shop-web"}`},
		// A traced request's ids follow the rest.
		{app.Metadata{RequestID: "r3", Principal: app.Principal{Subject: "staff-1"},
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"},
			`{"request_id":"r3","actor":"staff-1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`},
	}
	for _, tt := range tests {
		data, err := c.EncodeMetadata(tt.meta)
		if err != nil || string(data) != tt.want {
			t.Errorf("EncodeMetadata(%+v) = %s, %v; want %s", tt.meta, data, err, tt.want)
		}
		got, err := c.DecodeMetadata(data)
		if err != nil || got != tt.meta {
			t.Errorf("DecodeMetadata(%s) = %+v, %v; want %+v", data, got, err, tt.meta)
		}
	}
}

// Metadata is an open envelope: what another writer put there, in any
// shape, is read as far as it can be, never failing the event.
func TestCodecReadsAnyMetadata(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	tests := []struct {
		stored string
		want   app.Metadata
	}{
		{`{"actor": 42, "request_id": "r1"}`, app.Metadata{RequestID: "r1"}},
		{`{"actor": {"id": 42}, "correlation_id": "c1", "extra": [1, 2]}`, app.Metadata{CorrelationID: "c1"}},
		{`{"actor": null}`, app.Metadata{}},
		{`{"trace_id": 42, "span_id": ["00f067aa0ba902b7"]}`, app.Metadata{}},
		{`["meta"]`, app.Metadata{}},
		{`"text"`, app.Metadata{}},
		{`null`, app.Metadata{}},
	}
	for _, tt := range tests {
		got, err := c.DecodeMetadata([]byte(tt.stored))
		if err != nil || got != tt.want {
			t.Errorf("DecodeMetadata(%s) = %+v, %v; want %+v", tt.stored, got, err, tt.want)
		}
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
