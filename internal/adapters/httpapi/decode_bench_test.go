package httpapi

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
)

// BenchmarkDecodeAddItem decodes and converts an add-item body, as
// handleAddItem does before it calls the service.
func BenchmarkDecodeAddItem(b *testing.B) {
	const body = `{"product_id":"0190d6ca-1111-7000-8000-00000000abcd","product_name":"Espresso beans, 1 kg","quantity":3,"unit_price":"19.99"}`
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Type", "application/json")
	var rd strings.Reader
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(&rd)
		if _, err := jsonbody.Decode(nil, r, jsonbody.MaxBytes, addItemRequest.newItem); err != nil {
			b.Fatal(err)
		}
	}
}
