package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

// erasePath is the route that erases a customer's personal data.
func erasePath(c uuid.UUID) string { return "/v1/customers/" + c.String() + "/personal-data" }

func TestErasingPersonalDataIsIdempotentAndOnRecordOnce(t *testing.T) {
	t.Parallel()
	// Given a customer with a placed order
	a, _ := newFeedAPI(t, nil, nil)
	c := uuid.New()
	o := a.create(c)
	a.addItem(o.ID, "4.50", 1)
	a.place(o.ID)

	// When staff erase its personal data, twice
	for range 2 {
		// Then each answers 204 with no body
		r := a.do("DELETE", erasePath(c), nil).want(t, http.StatusNoContent)
		if len(r.Body) != 0 {
			t.Errorf("body %q", r.Body)
		}
	}

	// And the feed announces the erasure once, in the customer's stream,
	// naming the customer and who asked, and nothing personal
	events, _ := a.walkFeed("", url.Values{"type": {customer.TypePersonalDataErased}}, 1)
	e := events[0]
	if e.OrderID != customer.StreamID(c).String() || e.Type != customer.TypePersonalDataErased || e.Version != 1 || e.SchemaVersion != 1 || e.Unreadable {
		t.Errorf("feed event %+v", e)
	}
	var data map[string]string
	if err := json.Unmarshal(e.Data, &data); err != nil || len(data) != 1 || data["customer_id"] != c.String() {
		t.Errorf("data %s", e.Data)
	}
	if e.Metadata.Actor == nil || *e.Metadata.Actor != staffPrincipal.Subject || len(e.Metadata.ActorRoles) != 1 || e.Metadata.ActorRoles[0] != "staff" {
		t.Errorf("metadata %+v", e.Metadata)
	}
	if n := len(a.feedPage("?type=" + customer.TypePersonalDataErased).Events); n != 1 {
		t.Errorf("%d erasures in the feed, want 1", n)
	}
	// And the order is all there, but for what erasure takes
	if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); got.Version != 3 || got.Status != "placed" || got.Total != "4.50" {
		t.Errorf("order after erasure %+v", got)
	}
}

func TestTheLiveFeedAnnouncesAnErasure(t *testing.T) {
	t.Parallel()
	// Given a live feed of erasures
	a, _ := newFeedAPI(t, nil, nil)
	s := a.openStream("?type=" + customer.TypePersonalDataErased)
	c := uuid.New()

	// When a customer who never had personal data is erased
	a.do("DELETE", erasePath(c), nil).want(t, http.StatusNoContent)

	// Then the live feed carries the erasure, a FeedEvent of the spec
	_, e := s.nextEvent(feedWait)
	if e.Type != customer.TypePersonalDataErased || e.OrderID != customer.StreamID(c).String() {
		t.Errorf("live event %+v", e)
	}
}

func TestACustomersStreamIsNoOrder(t *testing.T) {
	t.Parallel()
	// Given an erased customer, whose stream the feed names
	a := newAPI(t)
	c := uuid.New()
	a.do("DELETE", erasePath(c), nil).want(t, http.StatusNoContent)
	stream := customer.StreamID(c).String()

	// When its stream is asked for as an order, read or changed
	for _, rq := range []struct {
		method, suffix string
		body           any
	}{
		{"GET", "", nil},
		{"GET", "?version=1", nil},
		{"GET", "?as_of=" + time.Now().UTC().Format(time.RFC3339), nil},
		{"GET", "/events", nil},
		{"POST", "/items", map[string]any{"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "4.50"}},
		{"POST", "/cancel", map[string]any{"reason": "no"}},
	} {
		// Then it is not found, as any order that does not exist
		a.do(rq.method, "/v1/orders/"+stream+rq.suffix, rq.body).wantProblem(t, http.StatusNotFound, "order_not_found")
	}
	// And no order can be created on it, or on any id of its kind
	p := a.do("POST", "/v1/orders", map[string]any{"id": stream, "customer_id": c.String()}).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "id" || p.Errors[0].Code != "invalid_format" {
		t.Errorf("errors %+v", p.Errors)
	}
}

func TestErasingPersonalDataRefusesBadCustomerIDs(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.do("DELETE", "/v1/customers/not-a-uuid/personal-data", nil).wantProblem(t, http.StatusBadRequest, "invalid_path_parameter")
	a.do("DELETE", erasePath(uuid.Nil), nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	// Nothing was recorded
	if n := len(a.feedPage("?type=" + customer.TypePersonalDataErased).Events); n != 0 {
		t.Errorf("%d erasures recorded", n)
	}
}
