package httpapi

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

func TestIfMatch(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	items := "/v1/orders/" + o.ID + "/items"
	item := func() map[string]any {
		return map[string]any{"product_id": uuid.New(), "product_name": "x", "quantity": 1, "unit_price": "1.00"}
	}

	r := a.do("POST", items, item(), "If-Match", `"1"`).want(t, http.StatusOK)
	if r.Header.Get("ETag") != `"2"` {
		t.Fatalf("ETag = %q", r.Header.Get("ETag"))
	}
	// The ETag just received is the next precondition.
	a.do("POST", items, item(), "If-Match", r.Header.Get("ETag")).want(t, http.StatusOK)
	a.do("POST", items, item(), "If-Match", `"2"`).wantProblem(t, http.StatusPreconditionFailed, "precondition_failed")
	a.do("POST", items, item(), "If-Match", "*").want(t, http.StatusOK)
	a.do("POST", items, item(), "If-Match", ` "4" `).want(t, http.StatusOK)
	// "*" needs an existing order; the order's absence is the answer.
	a.do("POST", "/v1/orders/"+uuid.NewString()+"/items", item(), "If-Match", "*").
		wantProblem(t, http.StatusNotFound, "order_not_found")
	if n := len(a.events(o.ID)); n != 5 {
		t.Errorf("%d events, want 5", n)
	}
}

func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.addItem(a.create(uuid.New()).ID, "2.50", 2) // version 2
	path := "/v1/orders/" + o.ID

	tests := []struct {
		header string
		status int
	}{
		{`"2"`, http.StatusNotModified},
		{`W/"2"`, http.StatusNotModified}, // weak comparison
		{`"1", "2"`, http.StatusNotModified},
		{`"1",W/"2"`, http.StatusNotModified},
		{`*`, http.StatusNotModified},
		{`"1"`, http.StatusOK},
		{`"1", "3"`, http.StatusOK},
		{`"x,y"`, http.StatusOK},
		{`"02"`, http.StatusOK},
	}
	for _, tt := range tests {
		r := a.do("GET", path, nil, "If-None-Match", tt.header)
		if r.Status != tt.status || r.Header.Get("ETag") != `"2"` {
			t.Errorf("If-None-Match %s: %d, ETag %q; want %d", tt.header, r.Status, r.Header.Get("ETag"), tt.status)
		}
		if tt.status == http.StatusNotModified && len(r.Body) != 0 {
			t.Errorf("If-None-Match %s: 304 with a body", tt.header)
		}
	}
	// A change makes the client's copy stale.
	a.addItem(o.ID, "1.00", 1)
	a.do("GET", path, nil, "If-None-Match", `"2"`).want(t, http.StatusOK)
}
