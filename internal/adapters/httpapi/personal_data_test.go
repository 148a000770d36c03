package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
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
	var data struct {
		CustomerID string   `json:"customer_id"`
		DataKeys   []string `json:"data_keys"`
	}
	decodeStrict(t, e.Data, &data)
	if data.CustomerID != c.String() || len(data.DataKeys) != 1 {
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

func TestErasingPersonalDataChecksTheRequestAsEveryCommand(t *testing.T) {
	t.Parallel()
	// Given a customer with a placed order
	a := newAPI(t)
	c := uuid.New()
	o := a.create(c)
	a.addItem(o.ID, "4.50", 1)
	a.place(o.ID)
	big := `{"reason": "` + strings.Repeat("x", 2_200_000) + `"}`

	// When the erasure is asked for with a malformed Idempotency-Key, or a
	// body over the limit, sized or streamed
	for _, rq := range []struct {
		what    string
		body    any
		headers []string
		status  int
		code    string
	}{
		{"a key with a space", nil, []string{"Idempotency-Key", "a b"}, http.StatusBadRequest, "invalid_header"},
		{"a key of 300 characters", nil, []string{"Idempotency-Key", strings.Repeat("k", 300)}, http.StatusBadRequest, "invalid_header"},
		{"an empty key", nil, []string{"Idempotency-Key", ""}, http.StatusBadRequest, "invalid_header"},
		{"a body of 2.2 MB", big, nil, http.StatusRequestEntityTooLarge, "request_too_large"},
		{"a streamed body of 2.2 MB", io.MultiReader(strings.NewReader(big)), nil, http.StatusRequestEntityTooLarge, "request_too_large"},
	} {
		// Then it is refused as any command is, and erases nothing
		req, err := http.NewRequest("DELETE", a.url+erasePath(c), readerOf(rq.body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(rq.headers); i += 2 {
			req.Header.Set(rq.headers[i], rq.headers[i+1])
		}
		t.Logf("%s", rq.what)
		a.send(req).wantProblem(t, rq.status, rq.code)
	}
	if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); got.Erased || got.ShippingAddress == nil {
		t.Errorf("erased by a refused request: %+v", got)
	}
	if n := len(a.feedPage("?type=" + customer.TypePersonalDataErased).Events); n != 0 {
		t.Errorf("%d erasures recorded", n)
	}
	// And so is a body over the limit on the other DELETE, removing an item
	draft := a.addItem(a.create(c).ID, "1.00", 1)
	a.do("DELETE", "/v1/orders/"+draft.ID+"/items/"+draft.Items[0].ProductID, big).wantProblem(t, http.StatusRequestEntityTooLarge, "request_too_large")

	// When it is asked for with a well-formed key and a body within the
	// limit, Then the key and the body are ignored, as a DELETE's body is
	// everywhere: it erases
	a.do("DELETE", erasePath(c), `{"reason": "asked by the customer"}`, "Idempotency-Key", "erase-"+c.String()).want(t, http.StatusNoContent)
	if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); !got.Erased || got.ShippingAddress != nil {
		t.Errorf("not erased: %+v", got)
	}
	a.do("DELETE", "/v1/orders/"+draft.ID+"/items/"+draft.Items[0].ProductID, `not even JSON`).want(t, http.StatusOK)
}

func TestErasingPersonalDataStoredInClearIsRefusedAsNotSealed(t *testing.T) {
	t.Parallel()
	// Given a server that stores personal data in clear (sealing off, a
	// development mode), and a customer with a placed order
	a := newClearAPI(t)
	c := uuid.New()
	id, _ := a.orderIn(c, "placed")

	// When staff erase the customer's personal data
	r := a.do("DELETE", erasePath(c), nil)

	// Then it is refused as a conflict with how the server stores it, not
	// as an internal error
	p := r.wantProblem(t, http.StatusConflict, "personal_data_not_sealed")
	if !strings.Contains(p.Title, "in clear") {
		t.Errorf("problem %+v", p)
	}
	// And nothing is erased or recorded
	if got := a.do("GET", "/v1/orders/"+id, nil).want(t, http.StatusOK).order(t); got.Erased || got.ShippingAddress == nil {
		t.Errorf("order after the refusal: %+v", got)
	}
	if n := len(a.feedPage("?type=" + customer.TypePersonalDataErased).Events); n != 0 {
		t.Errorf("%d erasures recorded", n)
	}
	if strings.Contains(a.logs.String(), "request failed") {
		t.Errorf("logged as an internal error: %s", a.logs.String())
	}
}

func TestPersonalDataStoredInClearThatLooksSealedReadsAsGiven(t *testing.T) {
	t.Parallel()
	// Given a server that stores personal data in clear (sealing off)
	a := newClearAPI(t)
	c := uuid.New()
	// And a signature and a cancellation reason given in the form of
	// sealed text: a UUID, a dot, base64
	const looksSealed = "01a24a0c-0eb7-72cd-9968-9bdb0b2c606c.AAAA"
	delivered, _ := a.orderIn(c, "shipped")
	a.do("POST", "/v1/orders/"+delivered+"/deliver", map[string]any{"signature": looksSealed}).want(t, http.StatusOK)
	cancelled, _ := a.orderIn(c, "placed")
	a.do("POST", "/v1/orders/"+cancelled+"/cancel", map[string]any{"reason": looksSealed}).want(t, http.StatusOK)

	// When the orders are read
	gotDelivered := a.do("GET", "/v1/orders/"+delivered, nil).want(t, http.StatusOK).order(t)
	gotCancelled := a.do("GET", "/v1/orders/"+cancelled, nil).want(t, http.StatusOK).order(t)

	// Then they read as they were given, nothing erased
	if gotDelivered.Signature == nil || *gotDelivered.Signature != looksSealed || gotDelivered.Erased {
		t.Errorf("delivered order: %+v", gotDelivered)
	}
	if gotCancelled.CancelReason == nil || *gotCancelled.CancelReason != looksSealed || gotCancelled.Erased {
		t.Errorf("cancelled order: %+v", gotCancelled)
	}
}

// newClearAPI is newAPI over a store that writes personal data in clear
// and has no keyring, as serve makes with sealing off.
func newClearAPI(t *testing.T) *testAPI {
	t.Helper()
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{})
	svc, err := app.NewService(store, store, app.Config{Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	return newAPIOver(t, pool, svc)
}

// readerOf is body as a request's: nil, a string, or a reader as it is.
func readerOf(body any) io.Reader {
	switch b := body.(type) {
	case string:
		return strings.NewReader(b)
	case io.Reader:
		return b
	}
	return nil
}
