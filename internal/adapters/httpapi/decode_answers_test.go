package httpapi

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// decodeAnswers pins what the API answers to each body a command may be
// sent: status, code, detail and the fields a 422 names. Each row is one
// route's body; "ok" is a body the route accepts. Where a body has
// several problems, the one named is the first of: invalid UTF-8; the
// first problem of syntax, duplicate names, surrogates or depth; an
// unknown member or wrong JSON type; data after the object.
var decodeAnswers = []struct{ route, body, answer string }{
	{"item", "", "400 malformed_json the request body is empty; send a JSON object"},
	{"item", "   ", "400 malformed_json the request body is empty; send a JSON object"},
	{"item", "null", "400 invalid_json_type the request body must be a JSON object"},
	{"item", " null ", "400 invalid_json_type the request body must be a JSON object"},
	{"item", "[]", "400 invalid_json_type the request body must be a JSON object"},
	{"item", "\"x\"", "400 invalid_json_type the request body must be a JSON object"},
	{"item", "1", "400 invalid_json_type the request body must be a JSON object"},
	{"item", "true", "400 invalid_json_type the request body must be a JSON object"},
	{"item", "nul", "400 malformed_json the request body is not JSON"},
	{"item", "[", "400 malformed_json the request body is not JSON"},
	{"item", "\"\xff\"", "400 invalid_json_type the request body must be a JSON object"},
	{"item", "\ufeff{}", "400 malformed_json the request body is not JSON"},
	{"item", "{", "400 malformed_json the JSON ends too early"},
	{"item", "{\"quantity\":", "400 malformed_json the JSON ends too early"},
	{"item", "{\"quantity\":1,}", "400 malformed_json malformed JSON at byte 15"},
	{"item", " {\"quantity\":1,}", "400 malformed_json malformed JSON at byte 15"},
	{"item", "{\"quantity\" 1}", "400 malformed_json malformed JSON at byte 13"},
	{"item", "{'a':1}", "400 malformed_json malformed JSON at byte 2"},
	{"item", "{\"quantity\":1 \"a\":2}", "400 malformed_json malformed JSON at byte 15"},
	{"item", "{\"quantity\":tru}", "400 malformed_json malformed JSON at byte 16"},
	{"item", "{\"a\":,}", "400 malformed_json malformed JSON at byte 6"},
	{"item", "{\"product_name\":\"x\",  }", "400 malformed_json malformed JSON at byte 23"},
	{"item", "{\"a\":[1,]}", "400 malformed_json malformed JSON at byte 9"},
	{"item", "{\"a\":01}", "400 malformed_json malformed JSON at byte 7"},
	{"item", "{\"a\":\"x\x01\"}", "400 malformed_json malformed JSON at byte 8"},
	{"item", "{}", "422 validation_failed the request has invalid fields; see errors [product_id:required] [quantity:required] [unit_price:required] [product_name:required]"},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"x\",\"quantity\":3,\"unit_price\":\"19.99\"}", "ok"},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"x\",\"quantity\":3,\"unit_price\":\"19.99\"} ", "ok"},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"\\ud83d\\ude00 \\u00e9 \\\\ud800 \\u0000\",\"quantity\":3,\"unit_price\":\"19.99\"}", "422 validation_failed the request has invalid fields; see errors [product_name:invalid_text]"},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"x\",\"quantity\":-0,\"unit_price\":\"19.99\"}", "422 validation_failed the request has invalid fields; see errors [quantity:out_of_range]"},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"x\",\"quantity\":0,\"unit_price\":\"-1\"}", "422 validation_failed the request has invalid fields; see errors [unit_price:invalid_format] [quantity:out_of_range]"},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"x\",\"Quantity\":3,\"unit_price\":\"19.99\"}", "400 unknown_field unknown field \"Quantity\""},
	{"item", "{\"product_id\":\"0190d6ca-1111-7000-8000-00000000abcd\",\"product_name\":\"x\",\"quantity\":3,\"UNIT_PRICE\":\"19.99\"}", "400 unknown_field unknown field \"UNIT_PRICE\""},
	{"item", "{\"quantity\":1.0}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":1e3}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":1E1000000000}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":99999999999999999999}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":-9223372036854775809}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":9223372036854775807}", "422 validation_failed the request has invalid fields; see errors [product_id:required] [unit_price:required] [product_name:required] [quantity:out_of_range]"},
	{"item", "{\"quantity\":\"3\"}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":true}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":null}", "422 validation_failed the request has invalid fields; see errors [product_id:required] [quantity:required] [unit_price:required] [product_name:required]"},
	{"item", "{\"quantity\":{}}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"quantity\":[]}", "400 invalid_json_type quantity must be a JSON integer within range"},
	{"item", "{\"product_id\":1}", "400 invalid_json_type product_id must be a JSON string"},
	{"item", "{\"product_id\":null}", "422 validation_failed the request has invalid fields; see errors [product_id:required] [quantity:required] [unit_price:required] [product_name:required]"},
	{"item", "{\"product_name\":null}", "422 validation_failed the request has invalid fields; see errors [product_id:required] [quantity:required] [unit_price:required] [product_name:required]"},
	{"item", "{\"product_name\":1}", "400 invalid_json_type product_name must be a JSON string"},
	{"item", "{\"product_name\":{\"a\":1}}", "400 invalid_json_type product_name must be a JSON string"},
	{"item", "{\"unit_price\":19.99}", "400 invalid_json_type unit_price must be a JSON string"},
	{"item", "{\"unit_price\":[\"1\"]}", "400 invalid_json_type unit_price must be a JSON string"},
	{"item", "{\"quantity\":1,\"quantity\":2}", "400 duplicate_field field \"quantity\" is given more than once"},
	{"item", "{\"quantity\":1,\"Quantity\":2}", "400 unknown_field unknown field \"Quantity\""},
	{"item", "{\"Quantity\":1}", "400 unknown_field unknown field \"Quantity\""},
	{"item", "{\"colour\":\"red\"}", "400 unknown_field unknown field \"colour\""},
	{"item", "{\"colour\":{\"a\":[1,2]}}", "400 unknown_field unknown field \"colour\""},
	{"item", "{\"colour\":{\"a\":[1,2],\"a\":3}}", "400 duplicate_field field \"colour.a\" is given more than once"},
	{"item", "{\"product_name\":\"\xff\"}", "400 malformed_json the body is not valid UTF-8 (at byte 17)"},
	{"item", "{\"product_name\":\"ok\",\"x\":\"\xed\xa0\x80\"}", "400 malformed_json the body is not valid UTF-8 (at byte 26)"},
	{"item", "{\"product_name\":\"\\ud800\"}", "400 malformed_json the body escapes half a UTF-16 surrogate pair at byte 17, which is no character"},
	{"item", "{\"product_name\":\"\\udc00\\ud800\"}", "400 malformed_json the body escapes half a UTF-16 surrogate pair at byte 17, which is no character"},
	{"item", "{\"product_name\":\"\\uD83D\\u0041\"}", "400 malformed_json the body escapes half a UTF-16 surrogate pair at byte 17, which is no character"},
	{"item", "{\"product_name\":\"x\\ud83d\"}", "400 malformed_json the body escapes half a UTF-16 surrogate pair at byte 18, which is no character"},
	{"item", "{} x", "400 malformed_json the request body must hold one JSON object and nothing after it"},
	{"item", "{}{}", "400 malformed_json the request body must hold one JSON object and nothing after it"},
	{"item", "{} {}", "400 malformed_json the request body must hold one JSON object and nothing after it"},
	{"item", "{}   ", "422 validation_failed the request has invalid fields; see errors [product_id:required] [quantity:required] [unit_price:required] [product_name:required]"},
	{"item", "{}\n", "422 validation_failed the request has invalid fields; see errors [product_id:required] [quantity:required] [unit_price:required] [product_name:required]"},
	{"item", "{} \xff", "400 malformed_json the body is not valid UTF-8 (at byte 3)"},
	// Past the object only invalid UTF-8 is looked for: anything else is
	// data after it.
	{"item", "{} \"\\ud800\"", "400 malformed_json the request body must hold one JSON object and nothing after it"},
	{"item", "{} {\"a\":1,\"a\":2}", "400 malformed_json the request body must hold one JSON object and nothing after it"},
	{"item", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "400 malformed_json the JSON nests deeper than 32 levels"},
	{"item", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "400 unknown_field unknown field \"a\""},
	{"item", "{\"quantity\":\"x\",\"a\":}", "400 malformed_json malformed JSON at byte 21"},
	{"item", "{\"colour\":1,\"quantity\":\"x\"}", "400 unknown_field unknown field \"colour\""},
	{"item", "{\"quantity\":\"x\",\"colour\":1}", "400 invalid_json_type quantity must be a JSON integer within range"},
	// A name in another case is unknown whatever its value.
	{"item", "{\"Quantity\":\"x\"}", "400 unknown_field unknown field \"Quantity\""},
	{"item", "{\"quantity\":\"x\",\"product_name\":\"\xff\"}", "400 malformed_json the body is not valid UTF-8 (at byte 32)"},
	{"item", "{\"quantity\":\"x\",\"product_name\":\"\\ud800\"}", "400 malformed_json the body escapes half a UTF-16 surrogate pair at byte 32, which is no character"},
	{"item", "{\"colour\":1,\"quantity\":1,\"quantity\":2}", "400 duplicate_field field \"quantity\" is given more than once"},
	{"item", "{\"quantity\":1,\"quantity\":2,\"a\":}", "400 duplicate_field field \"quantity\" is given more than once"},
	// Problems of syntax are named in the order they come.
	{"item", "{\"a\":1,\"a\":2,\"b\":\"\\ud800\"}", "400 duplicate_field field \"a\" is given more than once"},
	{"place", "{\"shipping_address\":{\"country\":1}}", "400 invalid_json_type shipping_address.country must be a JSON string"},
	{"place", "{\"shipping_address\":{\"colour\":\"red\"}}", "400 unknown_field unknown field \"shipping_address.colour\""},
	{"place", "{\"shipping_address\":{\"name\":\"x\",\"line1\":\"y\",\"colour\":\"red\"}}", "400 unknown_field unknown field \"shipping_address.colour\""},
	{"place", "{\"shipping_address\":[]}", "400 invalid_json_type shipping_address must be a JSON object"},
	{"place", "{\"shipping_address\":\"x\"}", "400 invalid_json_type shipping_address must be a JSON object"},
	{"place", "{\"shipping_address\":1}", "400 invalid_json_type shipping_address must be a JSON object"},
	{"place", "{\"shipping_address\":}", "400 malformed_json malformed JSON at byte 21"},
	{"place", "{\"shipping_address\":", "400 malformed_json the JSON ends too early"},
	{"place", "{\"Shipping_Address\":{\"name\":\"x\"}}", "400 unknown_field unknown field \"Shipping_Address\""},
	{"place", "{\"shipping_address\":{\"NAME\":\"x\"}}", "400 unknown_field unknown field \"shipping_address.NAME\""},
	{"place", "{\"shipping_address\":null}", "422 validation_failed the request has invalid fields; see errors [shipping_address:required]"},
	{"place", "{\"shipping_address\":{}}", "422 validation_failed the request has invalid fields; see errors [shipping_address.name:required] [shipping_address.line1:required] [shipping_address.city:required] [shipping_address.postal_code:required] [shipping_address.country:invalid_country]"},
	{"place", "{\"shipping_address\":{\"name\":\"a\",\"line1\":\"b\",\"name\":\"c\"}}", "400 duplicate_field field \"shipping_address.name\" is given more than once"},
	{"place", "{\"shipping_address\":{\"line2\":null}}", "422 validation_failed the request has invalid fields; see errors [shipping_address.name:required] [shipping_address.line1:required] [shipping_address.city:required] [shipping_address.postal_code:required] [shipping_address.country:invalid_country]"},
	{"place", "{\"shipping_address\":{\"line2\":5}}", "400 invalid_json_type shipping_address.line2 must be a JSON string"},
	{"place", "{\"shipping_address\":{\"line2\":null,\"region\":\"\\ud800\"}}", "400 malformed_json the body escapes half a UTF-16 surrogate pair at byte 44, which is no character"},
	{"place", "{\"shipping_address\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "400 malformed_json the JSON nests deeper than 32 levels"},
	{"place", "{\"shipping_address\":{\"name\":\"Ada\",\"line1\":\"12 St James's Square\",\"city\":\"London\",\"postal_code\":\"SW1Y 4JH\",\"country\":\"GB\"}}", "ok"},
	{"place", "{\"shipping_address\":{\"name\":\"Ada\",\"line1\":\"12 St James's Square\",\"city\":\"London\",\"postal_code\":\"SW1Y 4JH\",\"country\":\"GB\",\"line2\":\"x\",\"region\":null}}", "ok"},
	{"place", "{\"shipping_address\":{\"name\":\"Ada\",\"line1\":\"12 St James's Square\",\"city\":\"London\",\"postal_code\":\"SW1Y 4JH\",\"country\":\"GB\"},\"shipping_address\":null}", "400 duplicate_field field \"shipping_address\" is given more than once"},
	{"place", "{\"shipping_address\":{\"country\":1},\"colour\":2}", "400 invalid_json_type shipping_address.country must be a JSON string"},
	{"place", "{\"shipping_address\":{\"a\":{\"b\":{\"c\":1}}}}", "400 unknown_field unknown field \"shipping_address.a\""},
	{"place", "{\"shipping_address\":{\"name\":\"a\",\"x\":[{\"y\":1,\"y\":2}]}}", "400 duplicate_field field \"shipping_address.x.y\" is given more than once"},
	{"create", "{}", "ok"},
	{"create", "{\"customer_id\":null,\"customer_id\":\"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d\"}", "400 duplicate_field field \"customer_id\" is given more than once"},
	{"create", "{\"customer_id\":\"0190D6C8-6A4E-7B1C-9C53-2F1E5A8B9C0D\"}", "422 validation_failed the request has invalid fields; see errors [customer_id:invalid_format]"},
	{"create", "{\"id\":\"x\",\"currency\":\"eur\"}", "422 validation_failed the request has invalid fields; see errors [id:invalid_format] [currency:invalid_currency]"},
	{"create", "{\"id\":\"0190d6c9-0000-7000-8000-000000000001\",\"customer_id\":\"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d\",\"currency\":\"EUR\"}", "ok"},
	{"create", "{\"currency\":1}", "400 invalid_json_type currency must be a JSON string"},
	{"create-staff", "{}", "422 validation_failed the request has invalid fields; see errors [customer_id:required]"},
	{"create-staff", "{\"customer_id\":\"42\"}", "422 validation_failed the request has invalid fields; see errors [customer_id:invalid_format]"},
	{"create-staff", "{\"customer_id\":\"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d\"}", "ok"},
	// The body is judged once, for its actual caller: every field is named.
	{"create-staff", "{\"id\":\"x\"}", "422 validation_failed the request has invalid fields; see errors [id:invalid_format] [customer_id:required]"},
	{"ship", "{}", "422 validation_failed the request has invalid fields; see errors [tracking_number:required] [carrier:required]"},
	{"ship", "{\"tracking_number\":\"1Z999AA10123456784\",\"carrier\":\"UPS\"}", "ok"},
	{"ship", "{\"tracking_number\":\"x\",\"carrier\":\"y\",\"carrier\":\"z\"}", "400 duplicate_field field \"carrier\" is given more than once"},
	{"ship", "{\"tracking_number\":\"a\\u0000b\",\"carrier\":\"UPS\"}", "422 validation_failed the request has invalid fields; see errors [tracking_number:invalid_text]"},
	{"ship", "{\"tracking_number\":null,\"carrier\":null}", "422 validation_failed the request has invalid fields; see errors [tracking_number:required] [carrier:required]"},
	{"ship", "{\"tracking_number\":1,\"carrier\":\"UPS\"}", "400 invalid_json_type tracking_number must be a JSON string"},
	{"ship", "null", "400 invalid_json_type the request body must be a JSON object"},
	{"deliver", "", "ok"},
	{"deliver", " ", "ok"},
	{"deliver", "{}", "ok"},
	{"deliver", "null", "400 invalid_json_type the request body must be a JSON object"},
	{"deliver", "{\"delivered_at\":\"2025-01-02T15:04:05Z\",\"signature\":\"A. Lovelace\"}", "ok"},
	{"deliver", "{\"delivered_at\":\"2025-01-02T15:04:05+25:00\"}", "422 validation_failed the request has invalid fields; see errors [delivered_at:invalid_format]"},
	{"deliver", "{\"delivered_at\":\"bad\",\"signature\":\"\\u0000\"}", "422 validation_failed the request has invalid fields; see errors [delivered_at:invalid_format] [signature:invalid_text]"},
	{"deliver", "{\"signature\":null}", "ok"},
	{"deliver", "{\"delivered_at\":5}", "400 invalid_json_type delivered_at must be a JSON string"},
	{"deliver", "{\"Delivered_At\":\"2025-01-02T15:04:05Z\"}", "400 unknown_field unknown field \"Delivered_At\""},
	{"cancel", "{}", "422 validation_failed the request has invalid fields; see errors [reason:required]"},
	{"cancel", "{\"reason\":\"changed my mind\",\"cancelled_by\":\"customer\"}", "ok"},
	{"cancel", "{\"reason\":\"changed my mind\"}", "ok"},
	{"cancel", "{\"reason\":\"r\",\"cancelled_by\":\"c\"} {}", "400 malformed_json the request body must hold one JSON object and nothing after it"},
	{"cancel", "{\"reason\":\"\"}", "422 validation_failed the request has invalid fields; see errors [reason:required]"},
	{"cancel", "{\"reason\":[\"x\"]}", "400 invalid_json_type reason must be a JSON string"},
}

// answerTo decodes body as route's handler does, and sums up the answer.
func answerTo(route, body string) string {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	var err error
	switch route {
	case "item":
		_, err = jsonbody.Decode(w, r, jsonbody.MaxBytes, addItemRequest.newItem)
	case "create", "create-staff":
		by := app.Principal{Roles: app.RolesOf(app.RoleCustomer)}
		if route == "create-staff" {
			by = staffPrincipal
		}
		_, err = jsonbody.Decode(w, r, jsonbody.MaxBytes, func(req createOrderRequest) (app.NewOrder, error) { return req.newOrder(by) })
	case "place":
		_, err = jsonbody.Decode(w, r, jsonbody.MaxBytes, placeOrderRequest.shippingAddress)
	case "ship":
		_, err = jsonbody.Decode(w, r, jsonbody.MaxBytes, shipOrderRequest.checked)
	case "deliver":
		_, err = jsonbody.Decode(w, r, jsonbody.MaxBytes, deliverOrderRequest.delivery)
		if err == jsonbody.ErrEmpty {
			_, err = deliverOrderRequest{}.delivery()
		}
	case "cancel":
		_, err = jsonbody.Decode(w, r, jsonbody.MaxBytes, cancelOrderRequest.checked)
	default:
		panic(route)
	}
	if err == nil {
		return "ok"
	}
	p, internal := problem.From(err)
	if internal {
		return "internal " + err.Error()
	}
	s := fmt.Sprintf("%d %s %s", p.Status, p.Code, p.Detail)
	for _, f := range p.Errors {
		s += " [" + f.Field + ":" + f.Code + "]"
	}
	return s
}

func TestDecodeAnswers(t *testing.T) {
	t.Parallel()
	if path := os.Getenv("DECODE_ANSWERS_OUT"); path != "" {
		var b strings.Builder
		for _, tt := range decodeAnswers {
			fmt.Fprintf(&b, "\t{%q, %q, %q},\n", tt.route, tt.body, answerTo(tt.route, tt.body))
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range decodeAnswers {
		if got := answerTo(tt.route, tt.body); got != tt.answer {
			t.Errorf("%s %.80q:\n got %s\nwant %s", tt.route, tt.body, got, tt.answer)
		}
	}
}
