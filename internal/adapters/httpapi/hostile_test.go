package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// TestHostileRequests sends the requests an attacker or a broken client
// would, through the real server and store: each gets a quick 4xx problem
// document (checked against the spec by the client), and none writes an
// event.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	items := "/v1/orders/" + o.ID + "/items"
	item := func(quantity string) string {
		return `{"product_id":"` + uuid.NewString() + `","product_name":"Mug","unit_price":"4.50","quantity":` + quantity + `}`
	}
	address := func(name string) string {
		return `{"shipping_address":{"name":` + name + `,"line1":"1 Road","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}`
	}

	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		code    string
		field   string // for 422: the field named
	}{
		{"body over 1 MiB", "POST", items, `{"product_name":"` + strings.Repeat("a", jsonbody.MaxBytes) + `"}`, nil, 413, problem.CodeTooLarge, ""},
		{"100k [ as the body", "POST", items, strings.Repeat("[", 100_000), nil, 400, problem.CodeMalformedJSON, ""},
		{"100k [ in a field", "POST", items, `{"product_name":` + strings.Repeat("[", 100_000), nil, 400, problem.CodeMalformedJSON, ""},
		{"100k { in a field", "POST", items, `{"product_name":` + strings.Repeat(`{"a":`, 100_000), nil, 400, problem.CodeMalformedJSON, ""},
		{"duplicate key", "POST", items, `{"quantity":1,"quantity":2}`, nil, 400, problem.CodeDuplicateField, ""},
		{"duplicate key, valid item", "POST", items, strings.TrimSuffix(item("1"), "}") + `,"quantity":2}`, nil, 400, problem.CodeDuplicateField, ""},
		{"duplicate nested key", "POST", "/v1/orders/" + o.ID + "/place", `{"shipping_address":{"name":"A","name":"B"}}`, nil, 400, problem.CodeDuplicateField, ""},
		{"trailing object", "POST", items, item("1") + `{}`, nil, 400, problem.CodeMalformedJSON, ""},
		{"trailing garbage", "POST", items, item("1") + `;DROP`, nil, 400, problem.CodeMalformedJSON, ""},
		{"escaped NUL in text", "POST", items, strings.Replace(item("1"), `"Mug"`, `"Mu\u0000g"`, 1), nil, 422, "validation_failed", "product_name"},
		{"escaped control char in text", "POST", "/v1/orders/" + o.ID + "/place", address(`"Ada\u001b[31m"`), nil, 422, "validation_failed", "shipping_address.name"},
		{"raw NUL byte in a string", "POST", items, strings.Replace(item("1"), `"Mug"`, "\"Mu\x00g\"", 1), nil, 400, problem.CodeMalformedJSON, ""},
		{"invalid UTF-8 in a string", "POST", items, strings.Replace(item("1"), `"Mug"`, "\"Mu\xffg\"", 1), nil, 400, problem.CodeMalformedJSON, ""},
		{"overlong UTF-8 in a string", "POST", items, strings.Replace(item("1"), `"Mug"`, "\"Mu\xc0\xafg\"", 1), nil, 400, problem.CodeMalformedJSON, ""},
		{"escaped lone surrogate", "POST", items, strings.Replace(item("1"), `"Mug"`, `"Mu\ud800g"`, 1), nil, 400, problem.CodeMalformedJSON, ""},
		{"1E1000000000 quantity", "POST", items, item("1E1000000000"), nil, 400, problem.CodeWrongType, ""},
		{"30-digit quantity", "POST", items, item("123456789012345678901234567890"), nil, 400, problem.CodeWrongType, ""},
		{"-0 quantity", "POST", items, item("-0"), nil, 422, "validation_failed", "quantity"},
		{"1.0 quantity", "POST", items, item("1.0"), nil, 400, problem.CodeWrongType, ""},
		{"quantity over the maximum", "POST", items, item("1000001"), nil, 422, "validation_failed", "quantity"},
		{"price with exponent", "POST", items, strings.Replace(item("1"), `"4.50"`, `"1E1000000000"`, 1), nil, 422, "validation_failed", "unit_price"},
		{"price of 14 digits", "POST", items, strings.Replace(item("1"), `"4.50"`, `"99999999999999"`, 1), nil, 422, "validation_failed", "unit_price"},
		{"name over 200 characters", "POST", items, strings.Replace(item("1"), `"Mug"`, `"`+strings.Repeat("é", 201)+`"`, 1), nil, 422, "validation_failed", "product_name"},
		{"no content type", "POST", items, item("1"), []string{"Content-Type", ""}, 415, problem.CodeUnsupportedMedia, ""},
		{"form content type", "POST", items, item("1"), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, problem.CodeUnsupportedMedia, ""},
		{"multipart content type", "POST", items, item("1"), []string{"Content-Type", "multipart/form-data; boundary=x"}, 415, problem.CodeUnsupportedMedia, ""},
		{"UTF-16 JSON", "POST", items, item("1"), []string{"Content-Type", "application/json; charset=utf-16"}, 415, problem.CodeUnsupportedMedia, ""},
		{"SQL in a path id", "GET", "/v1/orders/x'%3B%20DROP%20TABLE%20events%3B--", "", nil, 400, problem.CodeBadPathParam, ""},
		{"SQL in a query", "GET", "/v1/customers/" + uuid.NewString() + "/orders?status=placed'%20OR%201=1--", "", nil, 422, "validation_failed", "status"},
		{"SQL in a cursor", "GET", "/v1/customers/" + uuid.NewString() + "/orders?cursor=%27%3B%20DROP%20TABLE%20events%3B--", "", nil, 422, "validation_failed", "cursor"},
		{"huge limit", "GET", "/v1/events?limit=99999999999999999999999", "", nil, 422, "validation_failed", "limit"},
		{"huge version", "GET", "/v1/orders/" + o.ID + "?version=99999999999999999999", "", nil, 422, "validation_failed", "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			start := time.Now()
			p := a.do(tt.method, tt.path, body, tt.headers...).wantProblem(t, tt.status, tt.code)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
			if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
				t.Errorf("errors = %+v, want one naming %s", p.Errors, tt.field)
			}
			if tt.status == 400 && strings.Contains(p.Detail, "Mu") {
				t.Errorf("detail %q echoes the body", p.Detail)
			}
		})
	}
	if n := len(a.events(o.ID)); n != 1 {
		t.Errorf("%d events after the hostile requests, want 1: a refused request wrote something", n)
	}
}

// TestSQLTextIsData: text that looks like SQL is stored and answered
// verbatim, in the order and in its event, and runs nothing.
func TestSQLTextIsData(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	name := `'); DROP TABLE events; --`
	reason := `x' OR '1'='1"; DELETE FROM order_details; --`
	got := a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": name, "quantity": 1, "unit_price": "1.00",
	}).want(t, http.StatusOK).order(t)
	if got.Items[0].ProductName != name {
		t.Errorf("product_name = %q, want %q", got.Items[0].ProductName, name)
	}
	// Who cancels is the caller: one whose token's subject is that text.
	caller := a.as(testAuthenticator.issue(app.Principal{Subject: name, Roles: app.RolesOf(app.RoleStaff)}))
	caller.do("POST", "/v1/orders/"+o.ID+"/cancel", map[string]any{"reason": reason, "cancelled_by": name}).want(t, http.StatusOK)
	got = a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t)
	if got.Items[0].ProductName != name || got.CancelReason == nil || *got.CancelReason != reason || got.CancelledBy == nil || *got.CancelledBy != name {
		t.Errorf("order = %+v", got)
	}
	events := a.events(o.ID)
	if len(events) != 3 || !strings.Contains(string(events[1].Data), `DROP TABLE events`) {
		t.Errorf("events = %+v", events)
	}
	var tables int
	if err := a.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('events', 'order_details')`).Scan(&tables); err != nil || tables != 2 {
		t.Errorf("tables events and order_details: %d found, %v", tables, err)
	}
}
