package httpapi

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestBadRequests sends every kind of bad request to one draft order and
// checks the problem each gets, then that none of them left an event.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	a.addItem(o.ID, "19.99", 3)
	items := "/v1/orders/" + o.ID + "/items"
	validItem := `"product_id":"` + uuid.NewString() + `","product_name":"Mug","unit_price":"4.50"`
	huge := `{"product_name":"` + strings.Repeat("a", jsonbody.MaxBytes) + `"}`

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		code    string
	}{
		{"malformed JSON", "POST", items, `{"quantity": 1,`, nil, 400, problem.CodeMalformedJSON},
		{"not JSON at all", "POST", items, `quantity=1`, nil, 400, problem.CodeMalformedJSON},
		{"empty body", "POST", items, ``, nil, 400, problem.CodeMalformedJSON},
		{"unknown field", "POST", items, `{` + validItem + `,"quantity":1,"colour":"red"}`, nil, 400, problem.CodeUnknownField},
		{"field name in another case", "POST", items, `{` + validItem + `,"Quantity":1}`, nil, 400, problem.CodeUnknownField},
		{"wrong type", "POST", items, `{` + validItem + `,"quantity":"1"}`, nil, 400, problem.CodeWrongType},
		{"price as number", "POST", items, `{"product_id":"` + uuid.NewString() + `","product_name":"Mug","quantity":1,"unit_price":4.5}`, nil, 400, problem.CodeWrongType},
		{"fractional quantity", "POST", items, `{` + validItem + `,"quantity":1.5}`, nil, 400, problem.CodeWrongType},
		{"30-digit quantity", "POST", items, `{` + validItem + `,"quantity":123456789012345678901234567890}`, nil, 400, problem.CodeWrongType},
		{"exponent quantity", "POST", items, `{` + validItem + `,"quantity":1E1000000000}`, nil, 400, problem.CodeWrongType},
		{"array body", "POST", items, `[]`, nil, 400, problem.CodeWrongType},
		{"null body", "POST", items, `null`, nil, 400, problem.CodeWrongType},
		{"trailing data", "POST", items, `{` + validItem + `,"quantity":1} {}`, nil, 400, problem.CodeMalformedJSON},
		{"trailing garbage", "POST", items, `{` + validItem + `,"quantity":1}x`, nil, 400, problem.CodeMalformedJSON},
		{"bad order id in path", "POST", "/v1/orders/not-a-uuid/items", `{` + validItem + `,"quantity":1}`, nil, 400, problem.CodeBadPathParam},
		{"braced order id in path", "GET", "/v1/orders/{" + o.ID + "}", nil, nil, 400, problem.CodeBadPathParam},
		{"bad product id in path", "DELETE", items + "/42", nil, nil, 400, problem.CodeBadPathParam},
		{"bad customer id in path", "GET", "/v1/customers/42/orders", nil, nil, 400, problem.CodeBadPathParam},
		{"upper-case order id in path", "GET", "/v1/orders/" + strings.ToUpper(o.ID), nil, nil, 400, problem.CodeBadPathParam},
		{"upper-case order id in a command's path", "POST", "/v1/orders/" + strings.ToUpper(o.ID) + "/items", `{` + validItem + `,"quantity":1}`, nil, 400, problem.CodeBadPathParam},
		{"upper-case product id in path", "DELETE", items + "/" + strings.ToUpper(uuid.NewString()), nil, nil, 400, problem.CodeBadPathParam},
		{"upper-case customer id in path", "GET", "/v1/customers/" + strings.ToUpper(uuid.NewString()) + "/orders", nil, nil, 400, problem.CodeBadPathParam},
		{"malformed If-Match", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"If-Match", `2`}, 400, problem.CodeBadHeader},
		{"weak If-Match", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"If-Match", `W/"2"`}, 400, problem.CodeBadHeader},
		{"If-Match list", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"If-Match", `"1", "2"`}, 400, problem.CodeBadHeader},
		{"foreign If-Match", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"If-Match", `"abc"`}, 400, problem.CodeBadHeader},
		{"bad X-Correlation-Id", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"X-Correlation-Id", "a b"}, 400, problem.CodeBadHeader},
		{"malformed If-None-Match", "GET", "/v1/orders/" + o.ID, nil, []string{"If-None-Match", `"1`}, 400, problem.CodeBadHeader},
		{"body too large", "POST", items, huge, nil, 413, problem.CodeTooLarge},
		{"text/plain", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"Content-Type", "text/plain"}, 415, problem.CodeUnsupportedMedia},
		{"latin-1 JSON", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"Content-Type", "application/json; charset=iso-8859-1"}, 415, problem.CodeUnsupportedMedia},
		{"unknown order", "POST", "/v1/orders/" + uuid.NewString() + "/items", `{` + validItem + `,"quantity":1}`, nil, 404, "order_not_found"},
		{"unknown order GET", "GET", "/v1/orders/" + uuid.NewString(), nil, nil, 404, "order_not_found"},
		{"unknown order events", "GET", "/v1/orders/" + uuid.NewString() + "/events", nil, nil, 404, "order_not_found"},
		{"unknown route", "GET", "/v1/nothing", nil, nil, 404, problem.CodeRouteNotFound},
		{"trailing slash", "GET", "/v1/orders/", nil, nil, 404, problem.CodeRouteNotFound},
		{"duplicate product", "POST", items, nil, nil, 409, "duplicate_product"}, // body set below
		{"remove absent item", "DELETE", items + "/" + uuid.NewString(), nil, nil, 409, "item_not_in_order"},
		{"ship a draft", "POST", "/v1/orders/" + o.ID + "/ship", `{"tracking_number":"T","carrier":"C"}`, nil, 409, "order_not_placed"},
		{"deliver a draft", "POST", "/v1/orders/" + o.ID + "/deliver", `{}`, nil, 409, "order_not_shipped"},
		{"stale If-Match", "POST", items, `{` + validItem + `,"quantity":1}`, []string{"If-Match", `"1"`}, 412, "precondition_failed"},
		{"future If-Match", "POST", "/v1/orders/" + o.ID + "/cancel", `{"reason":"r"}`, []string{"If-Match", `"9"`}, 412, "precondition_failed"},
	}
	for i, tt := range tests {
		if tt.name == "duplicate product" {
			first := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, 200).order(t).Items[0]
			tests[i].body = `{"product_id":"` + first.ProductID + `","product_name":"again","quantity":1,"unit_price":"1"}`
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			a.do(tt.method, tt.path, tt.body, tt.headers...).wantProblem(t, tt.status, tt.code)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	if n := len(a.events(o.ID)); n != 2 {
		t.Errorf("%d events after the bad requests, want 2: a rejected request wrote something", n)
	}
}

func TestBodyTooLargeWithoutContentLength(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	// A reader of unknown length is sent chunked, so only MaxBytesReader
	// can stop it.
	body := io.MultiReader(strings.NewReader(`{"product_name":"`), strings.NewReader(strings.Repeat("a", 2*jsonbody.MaxBytes)), strings.NewReader(`"}`))
	req, err := http.NewRequest("POST", a.url+"/v1/orders/"+o.ID+"/items", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	a.send(req).wantProblem(t, http.StatusRequestEntityTooLarge, problem.CodeTooLarge)
}

func TestValidationListsEveryField(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	path := "/v1/orders/" + o.ID
	unknown := "/v1/orders/" + uuid.NewString()

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		fields []string
	}{
		{"item", "POST", path + "/items",
			map[string]any{"product_name": " ", "quantity": 0, "unit_price": "-1"},
			[]string{"product_id", "quantity", "unit_price", "product_name"}},
		{"item amounts", "POST", path + "/items",
			map[string]any{"product_id": "nope", "product_name": "x", "quantity": 1000001, "unit_price": "1e3"},
			[]string{"product_id", "unit_price", "quantity"}},
		{"item nil product", "POST", path + "/items",
			map[string]any{"product_id": uuid.Nil, "product_name": "x", "quantity": 1, "unit_price": "1.00001"},
			[]string{"product_id", "unit_price"}},
		{"item missing all", "POST", path + "/items", map[string]any{},
			[]string{"product_id", "quantity", "unit_price", "product_name"}},
		{"create", "POST", "/v1/orders",
			map[string]any{"id": "123", "customer_id": uuid.Nil, "currency": "usd"},
			[]string{"id", "customer_id", "currency"}},
		{"create with upper-case ids", "POST", "/v1/orders",
			map[string]any{"id": strings.ToUpper(uuid.NewString()), "customer_id": strings.ToUpper(uuid.NewString())},
			[]string{"id", "customer_id"}},
		{"item with an upper-case product id", "POST", path + "/items",
			map[string]any{"product_id": strings.ToUpper(uuid.NewString()), "product_name": "x", "quantity": 1, "unit_price": "1"},
			[]string{"product_id"}},
		{"create unknown currency", "POST", "/v1/orders",
			map[string]any{"customer_id": uuid.New(), "currency": "XXY"},
			[]string{"currency"}},
		{"place without address", "POST", path + "/place", map[string]any{}, []string{"shipping_address"}},
		{"place with bad address", "POST", path + "/place",
			map[string]any{"shipping_address": map[string]any{"name": "A", "line1": "1 Road", "city": " ", "postal_code": "1", "country": "gb"}},
			[]string{"shipping_address.city", "shipping_address.country"}},
		{"cancel blank", "POST", path + "/cancel", map[string]any{"reason": "", "cancelled_by": " "},
			[]string{"reason", "cancelled_by"}},
		{"deliver bad time", "POST", path + "/deliver", map[string]any{"delivered_at": "yesterday"}, []string{"delivered_at"}},
		{"deliver bad time and signature", "POST", path + "/deliver", map[string]any{"delivered_at": "yesterday", "signature": "a\x00b"},
			[]string{"delivered_at", "signature"}},
		{"ship blank", "POST", path + "/ship", map[string]any{"tracking_number": " ", "carrier": ""},
			[]string{"tracking_number", "carrier"}},
		// A bad body is reported before the order is looked up.
		{"bad address for an unknown order", "POST", unknown + "/place",
			map[string]any{"shipping_address": map[string]any{"name": "A", "line1": "", "city": "C", "postal_code": "1", "country": "XX"}},
			[]string{"shipping_address.line1", "shipping_address.country"}},
		{"bad shipment for an unknown order", "POST", unknown + "/ship", map[string]any{"tracking_number": "", "carrier": "C"},
			[]string{"tracking_number"}},
		{"bad cancellation for an unknown order", "POST", unknown + "/cancel", map[string]any{"reason": "r", "cancelled_by": "\u200b"},
			[]string{"cancelled_by"}},
		{"list query", "GET", "/v1/customers/" + uuid.NewString() + "/orders?status=lost&limit=101&cursor=garbage", nil,
			[]string{"status", "limit", "cursor"}},
		{"list limit zero", "GET", "/v1/customers/" + uuid.NewString() + "/orders?limit=0", nil, []string{"limit"}},
		{"list limit text", "GET", "/v1/customers/" + uuid.NewString() + "/orders?limit=ten", nil, []string{"limit"}},
		{"list limit with a leading zero", "GET", "/v1/customers/" + uuid.NewString() + "/orders?limit=020", nil, []string{"limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := a.do(tt.method, tt.path, tt.body).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
				if f.Code == "" || f.Message == "" {
					t.Errorf("field problem without code or message: %+v", f)
				}
			}
			if !sameSet(got, tt.fields) {
				t.Errorf("fields = %v, want %v (%+v)", got, tt.fields, p.Errors)
			}
		})
	}
	if n := len(a.events(o.ID)); n != 1 {
		t.Errorf("%d events after the invalid requests, want 1", n)
	}
}

func TestRuleViolations(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	post := func(o orderJSON, step string, body any) reply {
		// As JSON even without a body: any other type is refused first.
		return a.do("POST", "/v1/orders/"+o.ID+"/"+step, body, "Content-Type", "application/json")
	}
	ship := map[string]any{"tracking_number": "T", "carrier": "C"}
	cancel := map[string]any{"reason": "r"}

	empty := a.create(uuid.New())
	post(empty, "place", testAddress).wantProblem(t, 409, "order_empty")

	placed := a.create(uuid.New())
	a.addItem(placed.ID, "1.00", 1)
	a.place(placed.ID)
	post(placed, "items", map[string]any{"product_id": uuid.New(), "product_name": "x", "quantity": 1, "unit_price": "1"}).
		wantProblem(t, 409, "order_not_draft")
	post(placed, "place", testAddress).wantProblem(t, 409, "order_not_draft")
	post(placed, "deliver", nil).wantProblem(t, 409, "order_not_shipped")
	post(placed, "ship", ship).want(t, 200)
	post(placed, "cancel", cancel).wantProblem(t, 409, "order_not_cancellable")

	cancelled := a.create(uuid.New())
	post(cancelled, "cancel", cancel).want(t, 200)
	post(cancelled, "cancel", cancel).wantProblem(t, 409, "order_already_cancelled")

	tooMuch := a.create(uuid.New())
	a.addItem(tooMuch.ID, "9999999999999.9999", 1)
	post(tooMuch, "items", map[string]any{"product_id": uuid.New(), "product_name": "x", "quantity": 1, "unit_price": "0.0001"}).
		wantProblem(t, 409, "order_total_out_of_range")

	// Shipped before delivered_at: a value problem, named.
	p := post(placed, "deliver", map[string]any{"delivered_at": "2000-01-01T00:00:00Z"}).
		wantProblem(t, 422, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "delivered_at" || p.Errors[0].Code != "before_shipment" {
		t.Errorf("errors = %+v", p.Errors)
	}
	// A delivery time no store could read back, or one ahead of the clock
	// by more than the skew allowed: refused, nothing written.
	for at, code := range map[string]string{
		"9999-12-31T23:59:59-23:59": "out_of_range",
		time.Now().UTC().Add(order.MaxClockSkew + time.Minute).Format(time.RFC3339): "in_future",
	} {
		p := post(placed, "deliver", map[string]any{"delivered_at": at}).wantProblem(t, 422, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Field != "delivered_at" || p.Errors[0].Code != code {
			t.Errorf("deliver at %s: errors = %+v, want %s", at, p.Errors, code)
		}
	}

	for o, want := range map[string]int{empty.ID: 1, placed.ID: 4, cancelled.ID: 2, tooMuch.ID: 2} {
		if n := len(a.events(o)); n != want {
			t.Errorf("order %s: %d events, want %d", o, n, want)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	tests := []struct{ method, path, allow string }{
		{"PUT", "/v1/orders/" + uuid.NewString(), "GET, HEAD"},
		{"DELETE", "/v1/orders", "POST"},
		{"GET", "/v1/orders/" + uuid.NewString() + "/place", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
		{"PATCH", "/v1/orders/" + uuid.NewString() + "/items/" + uuid.NewString(), "DELETE"},
	}
	for _, tt := range tests {
		r := a.do(tt.method, tt.path, nil)
		r.wantProblem(t, http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed)
		if got := r.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
