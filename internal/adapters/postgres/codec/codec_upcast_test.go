package codec_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestCodecUpcastsOrderCreatedV1(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("0193a000-0000-7000-8000-000000000001")
	customer := uuid.MustParse("0193a000-0000-7000-8000-0000000000c1")
	const ids = `"order_id":"0193a000-0000-7000-8000-000000000001","customer_id":"0193a000-0000-7000-8000-0000000000c1"`
	tests := []struct {
		name  string
		codec *codec.Codec
		data  string
		want  order.Currency
	}{
		{"without a currency: the configured default", codec.New(codec.Config{DefaultCurrency: "CHF"}), `{` + ids + `}`, "CHF"},
		{"without a currency and no default configured: USD", codec.New(codec.Config{}), `{` + ids + `}`, "USD"},
		{"with a currency (written before v2): as stored", codec.New(codec.Config{DefaultCurrency: "CHF"}), `{` + ids + `,"currency":"JPY"}`, "JPY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// When OrderCreated v1 is decoded
			got, err := tt.codec.Decode(order.TypeCreated, 1, []byte(tt.data))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			// Then it is the current event, with the currency expected
			want := order.Created{OrderID: id, CustomerID: customer, Currency: tt.want}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decode = %#v\nwant %#v", got, want)
			}
			// And it is written back in the current shape, v2, with the currency
			version, data, err := tt.codec.Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if wantData := `{` + ids + `,"currency":"` + string(tt.want) + `"}`; version != 2 || string(data) != wantData {
				t.Errorf("encode = v%d %s\nwant v2 %s", version, data, wantData)
			}
		})
	}
}

func TestCodecRefusesBadOrderCreated(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	tests := []struct {
		name      string
		version   int
		data      string
		wantInErr []string
	}{
		{"v1 with an unknown field", 1, `{"order_id":"0193a000-0000-7000-8000-000000000001","customer_id":"0193a000-0000-7000-8000-0000000000c1","coupon":"x"}`, []string{"OrderCreated v1", "coupon"}},
		{"v2 without a currency", 2, `{"order_id":"0193a000-0000-7000-8000-000000000001","customer_id":"0193a000-0000-7000-8000-0000000000c1"}`, []string{"OrderCreated v2", "currency"}},
		{"v3, from a newer build", 3, `{}`, []string{`"OrderCreated"`, "schema version 3"}},
		{"v0", 0, `{}`, []string{`"OrderCreated"`, "schema version 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Decode(order.TypeCreated, tt.version, []byte(tt.data))
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

func TestCodecSchemas(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	want := []codec.Schema{
		{EventType: customer.TypePersonalDataErased, Version: 1},
		{EventType: order.TypeCancelled, Version: 1},
		{EventType: order.TypeCancelled, Version: 2},
		{EventType: order.TypeCreated, Version: 1},
		{EventType: order.TypeCreated, Version: 2},
		{EventType: order.TypeDelivered, Version: 1},
		{EventType: order.TypeItemAdded, Version: 1},
		{EventType: order.TypeItemRemoved, Version: 1},
		{EventType: order.TypePlaced, Version: 1},
		{EventType: order.TypeShipped, Version: 1},
	}
	if got := c.Schemas(); !reflect.DeepEqual(got, want) {
		t.Errorf("Schemas() = %v\nwant %v", got, want)
	}
	for _, s := range want {
		if !c.Decodable(s.EventType, s.Version) {
			t.Errorf("Decodable(%s) = false", s)
		}
	}
	for _, s := range []codec.Schema{{EventType: order.TypeCreated, Version: 3}, {EventType: "OrderTeleported", Version: 1}, {EventType: order.TypePlaced, Version: 0}} {
		if c.Decodable(s.EventType, s.Version) {
			t.Errorf("Decodable(%s) = true", s)
		}
	}
}
