package httpapi

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// TestMediaTypeComesFirst: a POST command whose Content-Type is not JSON is
// refused 415 before anything else is looked at, whatever its body: an
// empty or blank one too (a browser sends such a cross-site "simple
// request" without asking first), one that would be replayed under its
// Idempotency-Key, one for an order that does not exist or a malformed
// path. Nothing is written. With application/json, an empty deliver body
// still means "delivered now".
func TestMediaTypeComesFirst(t *testing.T) {
	t.Parallel()
	a := newAPI(t, manyRequests)
	// Given a shipped order, and an add item whose key is claimed
	o := a.create(uuid.New())
	a.addItem(o.ID, "4.50", 1)
	a.place(o.ID)
	a.do("POST", "/v1/orders/"+o.ID+"/ship", map[string]any{"tracking_number": "T1", "carrier": "UPS"}).want(t, http.StatusOK)
	draft := a.create(uuid.New())
	item := `{"product_id":"` + uuid.NewString() + `","product_name":"Mug","quantity":1,"unit_price":"1.00"}`
	a.do("POST", "/v1/orders/"+draft.ID+"/items", item, "Idempotency-Key", "claimed").want(t, http.StatusOK)
	positions := a.count(`SELECT count(*) FROM events`)

	order := "/v1/orders/" + o.ID
	routes := []struct{ path, body string }{
		{"/v1/orders", `{"customer_id":"` + uuid.NewString() + `"}`},
		{order + "/items", item},
		{order + "/place", `{}`},
		{order + "/ship", `{"tracking_number":"T2","carrier":"DHL"}`},
		{order + "/deliver", `{}`},
		{order + "/cancel", `{"reason":"r"}`},
		{"/v1/orders/" + uuid.NewString() + "/deliver", `{}`},
		{"/v1/orders/not-a-uuid/deliver", `{}`},
	}
	contentTypes := []string{"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/jsonx", "application/json; charset=utf-16"}
	for _, rt := range routes {
		for _, ct := range contentTypes {
			for _, body := range []string{"", " \r\n\t", rt.body} {
				// When the command is sent so
				req, err := http.NewRequest("POST", a.url+rt.path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				req.Header.Set("If-Match", "not a tag")
				// Then it is refused as not JSON
				if r := a.send(req); r.Status != http.StatusUnsupportedMediaType || r.problem(t).Code != problem.CodeUnsupportedMedia {
					t.Errorf("POST %s, Content-Type %q, body %q: %d %s", rt.path, ct, body, r.Status, r.Body)
				}
			}
		}
	}
	// And a request whose key is claimed is not replayed in another type
	replay, err := http.NewRequest("POST", a.url+"/v1/orders/"+draft.ID+"/items", strings.NewReader(item))
	if err != nil {
		t.Fatal(err)
	}
	replay.Header.Set("Content-Type", "text/plain")
	replay.Header.Set("Idempotency-Key", "claimed")
	a.send(replay).wantProblem(t, http.StatusUnsupportedMediaType, problem.CodeUnsupportedMedia)

	// And nothing was written
	if n := a.count(`SELECT count(*) FROM events`); n != positions {
		t.Fatalf("%d events written by refused requests", n-positions)
	}
	// And an empty deliver body sent as JSON still delivers, now
	delivered := a.do("POST", order+"/deliver", "").want(t, http.StatusOK).order(t)
	if delivered.Status != "delivered" || delivered.DeliveredAt == nil {
		t.Errorf("after an empty JSON deliver: %+v", delivered)
	}
}

// TestAContentEncodedBodyIsRefused: a request whose body is sent with a
// content coding (Content-Encoding other than identity: compressed, or
// said to be) is refused 415 unsupported_content_encoding, with
// Accept-Encoding: identity, on every route that reads a body, before
// anything else looks at it: not read as plain JSON, not replayed under
// its Idempotency-Key. Nothing is written. Identity, said or not, is a
// body like any other.
func TestAContentEncodedBodyIsRefused(t *testing.T) {
	t.Parallel()
	a := newEveryRouteAPI(t)
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	// Given a draft, an add item whose key is claimed, and a valid body
	// for every route that reads one
	draft := a.create(uuid.New())
	item := `{"product_id":"` + uuid.NewString() + `","product_name":"Mug","quantity":1,"unit_price":"1.00"}`
	a.do("POST", "/v1/orders/"+draft.ID+"/items", item, "Idempotency-Key", "claimed").want(t, http.StatusOK)
	positions := a.count(`SELECT count(*) FROM events`)
	bodies := map[string]string{
		"/v1/orders":                    `{"customer_id":"` + uuid.NewString() + `"}`,
		"/v1/orders/{order_id}/items":   item,
		"/v1/orders/{order_id}/place":   `{"shipping_address":{"name":"Ada","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`,
		"/v1/orders/{order_id}/ship":    `{"tracking_number":"T1","carrier":"UPS"}`,
		"/v1/orders/{order_id}/deliver": `{}`,
		"/v1/orders/{order_id}/cancel":  `{"reason":"r"}`,
		"/console/dev/token":            `{"roles":["staff"],"subject":"dev-staff"}`,
	}
	codings := []string{"gzip", "GZIP", "x-gzip", "deflate", "br", "zstd", "compress", "identity, gzip", "gzip, identity"}
	reading := 0
	for _, rt := range routeTable(nil, Config{}, nil) {
		op := doc.Paths.Find(specPath(rt.pattern)).GetOperation(rt.method)
		if op == nil || op.RequestBody == nil {
			continue
		}
		reading++
		body, ok := bodies[rt.pattern]
		if !ok {
			t.Fatalf("%s %s reads a body; the test has none for it", rt.method, rt.pattern)
		}
		for _, coding := range codings {
			// When its body is sent so (compressed where the coding says
			// gzip, as JSON otherwise)
			sent := []byte(body)
			if strings.Contains(strings.ToLower(coding), "gzip") {
				sent = gzipped(t, body)
			}
			r := a.do(rt.method, routePath(rt, draft), sent, "Content-Encoding", coding)
			// Then it is refused, saying which coding would do
			r.wantProblem(t, http.StatusUnsupportedMediaType, problem.CodeContentCoding)
			if got := r.Header.Get("Accept-Encoding"); got != "identity" {
				t.Errorf("%s %s, Content-Encoding %q: Accept-Encoding %q, want identity", rt.method, rt.pattern, coding, got)
			}
		}
	}
	if reading != len(bodies) {
		t.Errorf("%d routes read a body, want %d", reading, len(bodies))
	}
	// And a request whose key is claimed is not replayed encoded
	a.do("POST", "/v1/orders/"+draft.ID+"/items", gzipped(t, item), "Idempotency-Key", "claimed", "Content-Encoding", "gzip").
		wantProblem(t, http.StatusUnsupportedMediaType, problem.CodeContentCoding)
	// And nothing was written
	if n := a.count(`SELECT count(*) FROM events`); n != positions {
		t.Fatalf("%d events written by refused requests", n-positions)
	}
	// And a body said to be in identity, or with no coding named, is read
	for _, coding := range []string{"identity", "Identity", ""} {
		a.do("POST", "/v1/orders", `{"customer_id":"`+uuid.NewString()+`"}`, "Content-Encoding", coding).want(t, http.StatusCreated)
	}
}

// gzipped is s compressed with gzip.
func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
