package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// Orders the server fuzz target starts with, so that its seeds can reach
// each stage of an order's life by a fixed URL.
const (
	fuzzDraft    = "0190d6c9-0000-7000-8000-000000000001"
	fuzzPlaced   = "0190d6c9-0000-7000-8000-000000000002"
	fuzzShipped  = "0190d6c9-0000-7000-8000-000000000003"
	fuzzProduct  = "0190d6ca-1111-7000-8000-00000000abcd"
	fuzzCustomer = "0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d"
)

// FuzzServer sends arbitrary requests (method, path with query, headers
// as "Name: value" lines, body) through the whole handler, middleware
// included, over a real database. Requests net/http itself would refuse
// (an invalid method or header) are skipped; one without Authorization
// acts as staff. Whatever gets through:
//   - the handler does not panic, and the answer is below 500 (save a
//     503 projection_lagging: a min_position the projection has not
//     reached, which is the answer a valid request gets);
//   - every 4xx is a problem document of the spec's Problem schema, with
//     the status in the body and a code of the API's;
//   - a request answered with a 4xx wrote no event.
func FuzzServer(f *testing.F) {
	for _, s := range []struct{ method, path, headers, body string }{
		{"POST", "/v1/orders", "Content-Type: application/json", `{"customer_id":"` + fuzzCustomer + `"}`},
		{"POST", "/v1/orders/" + fuzzDraft + "/items", "Content-Type: application/json", `{"product_id":"0190d6ca-1111-7000-8000-00000000abce","product_name":"'); DROP TABLE events; --","quantity":1,"unit_price":"1.00"}`},
		{"POST", "/v1/orders/" + fuzzDraft + "/items", "Content-Type: application/json", `{"quantity":1,"quantity":2}`},
		{"POST", "/v1/orders/" + fuzzDraft + "/items", "Content-Type: application/json\nIf-Match: \"2\"", `{"product_id":"` + fuzzProduct + `","product_name":"x","quantity":1,"unit_price":"1"}`},
		{"POST", "/v1/orders/" + fuzzDraft + "/place", "Content-Type: text/plain", `{}`},
		{"POST", "/v1/orders/" + fuzzPlaced + "/ship", "Content-Type: application/json; charset=utf-8\nX-Actor: courier-7", `{"tracking_number":"T1","carrier":"UPS"}`},
		{"GET", "/v1/orders/" + fuzzDraft, "Authorization: Basic dXNlcjpwYXNz", ``},
		{"GET", "/v1/orders/" + fuzzDraft, "Authorization: bearer", ``},
		{"POST", "/v1/orders/" + fuzzDraft + "/cancel", "Content-Type: application/json\nAuthorization: Bearer a b", `{"reason":"r"}`},
		{"GET", "/v1/events", "Authorization: Bearer " + staffToken + "\nAuthorization: Bearer x", ``},
		{"POST", "/v1/orders/" + fuzzShipped + "/deliver", "", ``},
		{"POST", "/v1/orders/" + fuzzPlaced + "/cancel", "Content-Type: application/json", "{\"reason\":\"a\xffb\",\"cancelled_by\":\"c\"}"},
		{"DELETE", "/v1/orders/" + fuzzDraft + "/items/" + fuzzProduct, "If-Match: W/\"1\"", ``},
		{"GET", "/v1/orders/" + fuzzShipped + "?version=2&as_of=x", "If-None-Match: \"3\"", ``},
		{"GET", "/v1/orders/" + fuzzShipped + "/events?after_version=1&limit=1", "", ``},
		{"GET", "/v1/customers/" + fuzzCustomer + "/orders?limit=1&cursor=garbage&status=placed", "", ``},
		{"GET", "/v1/events?after=AQAAAAAAAuR_AAAAAAAAAAU&type=OrderPlaced", "Accept: text/event-stream\nLast-Event-ID: nope", ``},
		{"GET", "/v1/analytics/daily?from=2025-01-01&to=2025-01-31&min_position=1", "", ``},
		{"OPTIONS", "/v1/orders", "Origin: " + testOrigin + "\nAccess-Control-Request-Method: POST", ``},
		{"PUT", "/v1/orders/%zz", "", ``},
		{"GET", "/v1/orders/" + strings.Repeat("../", 20), "", ``},
	} {
		f.Add(s.method, s.path, s.headers, []byte(s.body))
	}

	srv := newFuzzServer(f)
	problemSchema := func() func(any) error {
		doc, err := loadSpec()
		if err != nil {
			f.Fatal(err)
		}
		schema := doc.Components.Schemas["Problem"].Value
		return func(v any) error { return schema.VisitJSON(v) }
	}()

	f.Fuzz(func(t *testing.T, method, path, headers string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://orderapi.test"+path, bytes.NewReader(body))
		if err != nil || !validToken(method) {
			// net/http refuses such a request line before any handler
			// runs: nothing of ours to check.
			return
		}
		for _, line := range strings.Split(headers, "\n") {
			name, value, ok := strings.Cut(line, ":")
			value = strings.TrimSpace(value)
			if !ok || !validToken(name) || !validHeaderValue(value) {
				continue
			}
			switch http.CanonicalHeaderKey(name) {
			case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect":
				continue // framing, which net/http handles before the handler
			}
			req.Header.Add(name, value)
		}
		// A request that names no credentials acts as staff, so that it
		// reaches past authentication; the seeds send others.
		withStaffToken(req)
		before := srv.eventCount(t)
		w := httptest.NewRecorder()
		srv.handler.ServeHTTP(w, req)
		resp := w.Result()
		got, _ := io.ReadAll(resp.Body)

		what := method + " " + path
		status := resp.StatusCode
		if status >= 500 {
			var p problem.Problem
			_ = json.Unmarshal(got, &p)
			if status != http.StatusServiceUnavailable || p.Code != app.ErrProjectionLagging.Code {
				t.Fatalf("%s (headers %q, body %q) → %d: %s", what, headers, body, status, got)
			}
		}
		if status < 400 || status >= 500 {
			return
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s → %d with Content-Type %q: %s", what, status, ct, got)
		}
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("%s → %d: problem is not JSON: %v: %s", what, status, err, got)
		}
		if err := problemSchema(v); err != nil {
			t.Fatalf("%s → %d: problem does not match the spec: %v: %s", what, status, err, got)
		}
		var p problem.Problem
		if err := json.Unmarshal(got, &p); err != nil || p.Status != status || problem.Titles[p.Code] == "" {
			t.Fatalf("%s → %d: problem %+v", what, status, p)
		}
		if after := srv.eventCount(t); after != before {
			t.Fatalf("%s → %d %s, yet %d events were written", what, status, p.Code, after-before)
		}
	})
}

type fuzzServer struct {
	handler http.Handler
	pool    *pgxpool.Pool
}

// newFuzzServer is the real server over a fresh database, holding a
// draft, a placed and a shipped order. Live feeds end as soon as they
// start (Closing is closed), so a request for one cannot hang the run.
func newFuzzServer(f *testing.F) *fuzzServer {
	pool := pgtest.New(f)
	store := eventstore.New(pool, eventstore.Config{Keyring: eventstoretest.Keyring(f, pool)})
	log := zerolog.Nop()
	analytics, err := analytics.New(store, log, analytics.Config{})
	if err != nil {
		f.Fatal(err)
	}
	svc, err := app.NewService(store, store, app.Config{Analytics: analytics, AnalyticsWait: 10 * time.Millisecond,
		Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		f.Fatal(err)
	}
	closing := make(chan struct{})
	close(closing)
	h, err := NewServer(svc, log, Config{
		CORSOrigins:    []string{testOrigin},
		Ready:          func(ctx context.Context) error { return pool.Ping(ctx) },
		RequestTimeout: 15 * time.Second,
		Closing:        closing,
		Cursors:        testCursors, Fingerprints: testFingerprints,
		Auth:        testAuthenticator,
		CommandRate: manyRequestsRate,
		ReadRate:    manyRequestsRate,
	})
	if err != nil {
		f.Fatal(err)
	}
	s := &fuzzServer{handler: h, pool: pool}
	address := `{"shipping_address":{"name":"Ada","line1":"1 Road","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}`
	item := `{"product_id":"` + fuzzProduct + `","product_name":"Cup","quantity":2,"unit_price":"4.50"}`
	for _, step := range []struct{ path, body string }{
		{"/v1/orders", `{"id":"` + fuzzDraft + `","customer_id":"` + fuzzCustomer + `"}`},
		{"/v1/orders/" + fuzzDraft + "/items", item},
		{"/v1/orders", `{"id":"` + fuzzPlaced + `","customer_id":"` + fuzzCustomer + `"}`},
		{"/v1/orders/" + fuzzPlaced + "/items", item},
		{"/v1/orders/" + fuzzPlaced + "/place", address},
		{"/v1/orders", `{"id":"` + fuzzShipped + `","customer_id":"` + fuzzCustomer + `"}`},
		{"/v1/orders/" + fuzzShipped + "/items", item},
		{"/v1/orders/" + fuzzShipped + "/place", address},
		{"/v1/orders/" + fuzzShipped + "/ship", `{"tracking_number":"1Z","carrier":"UPS"}`},
	} {
		r := httptest.NewRequest("POST", step.path, strings.NewReader(step.body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, withStaffToken(r))
		if w.Code >= 300 {
			f.Fatalf("POST %s → %d: %s", step.path, w.Code, w.Body)
		}
	}
	return s
}

func (s *fuzzServer) eventCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// validToken reports whether s is an RFC 9110 token, as methods and
// header names must be.
func validToken(s string) bool {
	return s != "" && allBytes(s, func(c byte) bool {
		return c > ' ' && c < 0x7f && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
	})
}

// validHeaderValue reports whether net/http would pass the value on: no
// control characters but tab.
func validHeaderValue(s string) bool {
	return allBytes(s, func(c byte) bool { return c == '\t' || c >= ' ' && c != 0x7f })
}
