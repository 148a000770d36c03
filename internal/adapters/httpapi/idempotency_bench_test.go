package httpapi

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkIdempotencyFingerprint reads the key of a place-order request
// and fingerprints it, as commandTarget does before decoding.
func BenchmarkIdempotencyFingerprint(b *testing.B) {
	const body = `{"shipping_address":{"name":"Ada Lovelace","line1":"12 St James's Square","line2":"Flat 3","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}`
	r := httptest.NewRequest("POST", "/v1/orders/0190d6ca-1111-7000-8000-00000000abcd/place", nil)
	r.Header.Set("Idempotency-Key", "0190d6ca-2222-7000-8000-00000000abcd")
	r.ContentLength = int64(len(body))
	w := httptest.NewRecorder()
	var rd strings.Reader
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(&rd)
		if _, err := idempotencyOf(w, r, testFingerprints, 3); err != nil {
			b.Fatal(err)
		}
	}
}
