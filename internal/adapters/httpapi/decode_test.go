package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// TestDecodeHugeNumbersQuickly: numbers too big for their field are type
// errors found without building the number, however many digits.
func TestDecodeHugeNumbersQuickly(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"1E1000000000", "123456789012345678901234567890", strings.Repeat("9", 500_000), "-1e-1000000000"} {
		body := `{"product_id":"0190d6ca-1111-7000-8000-00000000abcd","product_name":"x","unit_price":"1","quantity":` + q + `}`
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		start := time.Now()
		_, err := jsonbody.Decode(httptest.NewRecorder(), r, jsonbody.MaxBytes, addItemRequest.newItem)
		p, _ := problem.From(err)
		if p.Status != 400 || p.Code != problem.CodeWrongType {
			t.Errorf("quantity %.20s…: %+v", q, p)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("quantity %.20s… took %s", q, d)
		}
	}
}

func TestDecodeNamesTheOffendingField(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, code, detail string }{
		{`{"shipping_address":{"country":1}}`, problem.CodeWrongType, "shipping_address.country must be a JSON string"},
		{`{"shipping_address":{"colour":"red"}}`, problem.CodeUnknownField, `unknown field "shipping_address.colour"`},
		{`{"shipping_address":{"name":"x","line1":"y","colour":"red"}}`, problem.CodeUnknownField, `unknown field "shipping_address.colour"`},
		{`{"shipping_address":[]}`, problem.CodeWrongType, "shipping_address must be a JSON object"},
		{`{"shipping_address":`, problem.CodeMalformedJSON, "the JSON ends too early"},
		{`{"shipping_address":}`, problem.CodeMalformedJSON, "malformed JSON at byte"},
		{`{} []`, problem.CodeMalformedJSON, "nothing after it"},
		{`{"Shipping_Address":{"name":"x"}}`, problem.CodeUnknownField, `unknown field "Shipping_Address"`},
		{`{"shipping_address":{"NAME":"x"}}`, problem.CodeUnknownField, `unknown field "shipping_address.NAME"`},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		r.Header.Set("Content-Type", "application/json")
		_, err := jsonbody.Decode(httptest.NewRecorder(), r, jsonbody.MaxBytes, placeOrderRequest.shippingAddress)
		p, _ := problem.From(err)
		if p.Code != tt.code || !strings.Contains(p.Detail, tt.detail) {
			t.Errorf("%s: %s %q; want %s containing %q", tt.body, p.Code, p.Detail, tt.code, tt.detail)
		}
	}
}
