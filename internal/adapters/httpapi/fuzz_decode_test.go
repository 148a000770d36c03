package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// The decode targets send arbitrary bodies through the real decode and
// conversion of each request type. What each one checks:
//   - no panic, and a refusal is a client error with a known code: 400,
//     413 or 422, never a 5xx;
//   - a body that is not valid UTF-8 is refused with a 400, so no text is
//     silently altered (encoding/json would put U+FFFD in its place);
//   - a 422 is given only to a well-formed JSON object;
//   - no accepted text holds a U+FFFD the body did not spell out;
//   - an accepted body is valid JSON and UTF-8, and marshalling the
//     request it decoded to and decoding that again gives the same value.

const fuzzBodyLimit = 4096

func FuzzDecodeCreate(f *testing.F) {
	// Converted for a customer, who may leave customer_id out.
	fuzzDecode(f, func(req createOrderRequest) (app.NewOrder, error) {
		return req.newOrder(app.Principal{Roles: app.RolesOf(app.RoleCustomer)})
	},
		`{"customer_id":"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d"}`,
		`{"id":"0190d6c9-0000-7000-8000-000000000001","customer_id":"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d","currency":"EUR"}`,
		`{"customer_id":"0190D6C8-6A4E-7B1C-9C53-2F1E5A8B9C0D"}`,
		`{"customer_id":null,"customer_id":"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d"}`,
	)
}

func FuzzDecodeAddItem(f *testing.F) {
	fuzzDecode(f, addItemRequest.newItem,
		`{"product_id":"0190d6ca-1111-7000-8000-00000000abcd","product_name":"x","quantity":3,"unit_price":"19.99"}`,
		`{"quantity":1E1000000000}`,
		`{"unit_price":"1e3","product_name":"\u0000"}`,
		`{"quantity":1,"quantity":2}`,
		`{"quantity":-0}`,
		`{"quantity":1.0}`,
		`null`,
	)
}

func FuzzDecodePlace(f *testing.F) {
	fuzzDecode(f, placeOrderRequest.shippingAddress,
		`{"shipping_address":{"name":"Ada","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}`,
		`{"shipping_address":{"name":"Ada","name":"Bob"}}`,
		`{"shipping_address":{"line2":null,"region":"\ud800"}}`,
		`{"shipping_address":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	)
}

func FuzzDecodeShip(f *testing.F) {
	fuzzDecode(f, shipOrderRequest.checked,
		`{"tracking_number":"1Z999AA10123456784","carrier":"UPS"}`,
		`{"tracking_number":"a\u0000b","carrier":"UPS"}`,
		`{"tracking_number":"x","carrier":"y","carrier":"z"}`,
	)
}

func FuzzDecodeDeliver(f *testing.F) {
	fuzzDecode(f, deliverOrderRequest.delivery,
		`{}`,
		`{"delivered_at":"2025-01-02T15:04:05Z","signature":"A. Lovelace"}`,
		`{"delivered_at":"2025-01-02T15:04:05+25:00"}`,
		`{"signature":null}`,
	)
}

func FuzzDecodeCancel(f *testing.F) {
	fuzzDecode(f, cancelOrderRequest.checked,
		`{"reason":"changed my mind","cancelled_by":"customer"}`,
		`{"reason":"'); DROP TABLE events; --","cancelled_by":"customer"}`,
		`{"reason":"r","cancelled_by":"c"} {}`,
	)
}

// fuzzDecode is the body of every decode target; convert is the
// handler's conversion of the request into the app's input.
func fuzzDecode[T, In any](f *testing.F, convert func(T) (In, error), seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkDecode(t, body, convert)
	})
}

// decodeKeeping is decode, which also hands back the request it
// converted.
func decodeKeeping[T, In any](body string, limit int64, convert func(T) (In, error)) (T, error) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var v T
	_, err := jsonbody.Decode(httptest.NewRecorder(), r, limit, func(req T) (In, error) {
		v = req
		return convert(req)
	})
	return v, err
}

func checkDecode[T, In any](t *testing.T, body string, convert func(T) (In, error)) {
	v, err := decodeKeeping(body, fuzzBodyLimit, convert)
	if err != nil {
		p, internal := problem.From(err)
		switch {
		case internal:
			t.Fatalf("body %q: internal error %v", body, err)
		case p.Status != 400 && p.Status != 413 && p.Status != 422:
			t.Fatalf("body %q: status %d (%s)", body, p.Status, p.Code)
		case problem.Titles[p.Code] == "":
			t.Fatalf("body %q: code %q is not one of the API's", body, p.Code)
		case !utf8.ValidString(body) && p.Status != 400 && len(body) <= fuzzBodyLimit:
			t.Fatalf("body %q is not UTF-8 yet got %d %s", body, p.Status, p.Code)
		case p.Status == 422 && !json.Valid([]byte(body)):
			t.Fatalf("body %q is not JSON yet got 422", body)
		}
		return
	}
	if !utf8.ValidString(body) || !json.Valid([]byte(body)) {
		t.Fatalf("decode accepted %q, which is not UTF-8 JSON", body)
	}
	if again, _ := json.Marshal(v); bytes.ContainsRune(again, utf8.RuneError) &&
		!strings.ContainsRune(body, utf8.RuneError) && !strings.Contains(strings.ToLower(body), `\ufffd`) {
		t.Fatalf("jsonbody.Decode(%q) put U+FFFD in the text: %s", body, again)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	w, err := decodeKeeping(string(again), 2*fuzzBodyLimit, convert)
	if err != nil || !reflect.DeepEqual(v, w) {
		t.Fatalf("jsonbody.Decode(%q) = %+v does not round-trip: %s decodes to %+v, %v", body, v, again, w, err)
	}
}
