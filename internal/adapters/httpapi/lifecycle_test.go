package httpapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestLifeCycleToDelivery(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customer := uuid.New()

	r := a.do("POST", "/v1/orders", map[string]any{"customer_id": customer}).want(t, http.StatusCreated)
	o := r.order(t)
	if r.Header.Get("Location") != "/v1/orders/"+o.ID || r.Header.Get("ETag") != `"1"` {
		t.Errorf("Location %q, ETag %q", r.Header.Get("Location"), r.Header.Get("ETag"))
	}
	if o.Status != "draft" || o.Currency != "USD" || o.Version != 1 || o.Total != "0.00" || len(o.Items) != 0 ||
		o.ShippingAddress != nil || o.PlacedAt != nil || o.TrackingNumber != nil || o.CustomerID != customer.String() {
		t.Errorf("new order = %+v", o)
	}
	if !slices.Equal(o.AllowedActions, []string{"add_item", "remove_item", "place", "cancel"}) {
		t.Errorf("allowed_actions = %v", o.AllowedActions)
	}
	lastPos := position(t, r)
	path := "/v1/orders/" + o.ID

	// Money is exact: 3 × 19.99 is 59.97, not 59.970000000000006.
	beans, mugs := uuid.NewString(), uuid.NewString()
	r = a.do("POST", path+"/items", map[string]any{
		"product_id": beans, "product_name": "Espresso beans", "quantity": 3, "unit_price": "19.99",
	}).want(t, http.StatusOK)
	o = r.order(t)
	if o.Total != "59.97" || o.ItemCount != 3 || o.Items[0].LineTotal != "59.97" || o.Items[0].UnitPrice != "19.99" {
		t.Errorf("after add: total %s, count %d, items %+v", o.Total, o.ItemCount, o.Items)
	}
	lastPos = wantAfter(t, r, lastPos, `"2"`)

	r = a.do("POST", path+"/items", map[string]any{
		"product_id": mugs, "product_name": "Mug", "quantity": 2, "unit_price": "4.5",
	}).want(t, http.StatusOK)
	if o = r.order(t); o.Total != "68.97" || o.ItemCount != 5 || o.Items[1].UnitPrice != "4.50" {
		t.Errorf("after second add: %+v", o)
	}
	lastPos = wantAfter(t, r, lastPos, `"3"`)

	r = a.do("DELETE", path+"/items/"+mugs, nil).want(t, http.StatusOK)
	if o = r.order(t); o.Total != "59.97" || len(o.Items) != 1 || o.Items[0].ProductID != beans {
		t.Errorf("after remove: %+v", o)
	}
	lastPos = wantAfter(t, r, lastPos, `"4"`)

	r = a.do("POST", path+"/place", testAddress).want(t, http.StatusOK)
	o = r.order(t)
	if o.Status != "placed" || o.PlacedAt == nil || o.ShippingAddress == nil || o.ShippingAddress.Country != "GB" ||
		o.ShippingAddress.Line2 != nil || !slices.Equal(o.AllowedActions, []string{"ship", "cancel"}) {
		t.Errorf("after place: %+v", o)
	}
	lastPos = wantAfter(t, r, lastPos, `"5"`)

	r = a.do("POST", path+"/ship", map[string]any{"tracking_number": "1Z999", "carrier": "UPS"}).want(t, http.StatusOK)
	if o = r.order(t); o.Status != "shipped" || o.ShippedAt == nil || *o.TrackingNumber != "1Z999" || *o.Carrier != "UPS" {
		t.Errorf("after ship: %+v", o)
	}
	lastPos = wantAfter(t, r, lastPos, `"6"`)

	deliveredAt := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	r = a.do("POST", path+"/deliver", map[string]any{
		"delivered_at": deliveredAt.Format(time.RFC3339), "signature": "A. Lovelace",
	}).want(t, http.StatusOK)
	o = r.order(t)
	if o.Status != "delivered" || *o.Signature != "A. Lovelace" || *o.DeliveredAt != deliveredAt.Format(timeLayout) ||
		len(o.AllowedActions) != 0 {
		t.Errorf("after deliver: %+v", o)
	}
	wantAfter(t, r, lastPos, `"7"`)

	// The read model agrees with what the last command answered.
	got := a.do("GET", path, nil).want(t, http.StatusOK)
	if got.Header.Get("ETag") != `"7"` {
		t.Errorf("GET ETag = %q", got.Header.Get("ETag"))
	}
	if g := got.order(t); !jsonEqual(t, g, o) {
		t.Errorf("GET = %+v\nlast command answered %+v", g, o)
	}

	events := a.events(o.ID)
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = e.Type
		// OrderCreated is at schema version 2; every other type at 1.
		wantSchema := 1
		if e.Type == "OrderCreated" {
			wantSchema = 2
		}
		if e.Version != i+1 || (i > 0 && e.Position <= events[i-1].Position) || e.SchemaVersion != wantSchema {
			t.Errorf("event %d: version %d, position %d, schema %d", i, e.Version, e.Position, e.SchemaVersion)
		}
	}
	want := []string{"OrderCreated", "OrderItemAdded", "OrderItemAdded", "OrderItemRemoved", "OrderPlaced", "OrderShipped", "OrderDelivered"}
	if !slices.Equal(types, want) {
		t.Errorf("event types = %v, want %v", types, want)
	}
	var added struct {
		UnitPrice string `json:"unit_price"`
		Quantity  int64  `json:"quantity"`
	}
	if err := json.Unmarshal(events[1].Data, &added); err != nil || added.UnitPrice != "19.99" || added.Quantity != 3 {
		t.Errorf("OrderItemAdded data = %s (%v)", events[1].Data, err)
	}
}

func TestLifeCycleToCancellation(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	r := a.do("POST", "/v1/orders/"+o.ID+"/cancel",
		map[string]any{"reason": "changed my mind"},
		"X-Actor", "user:42", "X-Request-Id", "req-cancel-1", "X-Correlation-Id", "checkout.7").want(t, http.StatusOK)
	o = r.order(t)
	if o.Status != "cancelled" || *o.CancelReason != "changed my mind" || *o.CancelledBy != staffPrincipal.Subject ||
		o.CancelledAt == nil || len(o.AllowedActions) != 0 || r.Header.Get("ETag") != `"2"` {
		t.Errorf("after cancel: %+v", o)
	}
	if r.Header.Get("X-Request-Id") != "req-cancel-1" {
		t.Errorf("X-Request-Id = %q, want the client's", r.Header.Get("X-Request-Id"))
	}

	events := a.events(o.ID)
	if len(events) != 2 || events[1].Type != "OrderCancelled" {
		t.Fatalf("events = %+v", events)
	}
	// The actor is whom the token names, not what X-Actor claims.
	m := events[1].Metadata
	if *m.RequestID != "req-cancel-1" || *m.CausationID != "req-cancel-1" || *m.CorrelationID != "checkout.7" || *m.Actor != staffPrincipal.Subject {
		t.Errorf("metadata = request %v, causation %v, correlation %v, actor %v", *m.RequestID, *m.CausationID, *m.CorrelationID, *m.Actor)
	}
	// Without the headers: correlation defaults to the request id, and
	// the actor is still the token's.
	m = events[0].Metadata
	if m.RequestID == nil || m.CorrelationID == nil || *m.CorrelationID != *m.RequestID || m.Actor == nil || *m.Actor != staffPrincipal.Subject {
		t.Errorf("create metadata = %+v", m)
	}
}

func TestCreateWithChosenIDAndCurrency(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := uuid.NewString()
	body := map[string]any{"id": id, "customer_id": uuid.NewString(), "currency": "JPY"}
	o := a.do("POST", "/v1/orders", body).want(t, http.StatusCreated).order(t)
	if o.ID != id || o.Currency != "JPY" || o.Total != "0" {
		t.Errorf("order = %+v", o)
	}
	o = a.addItem(id, "1500", 2)
	if o.Total != "3000" || o.Items[0].UnitPrice != "1500" {
		t.Errorf("JPY amounts: %+v", o)
	}
	// A retried create is refused and changes nothing.
	a.do("POST", "/v1/orders", body).wantProblem(t, http.StatusConflict, "order_exists")
	if n := len(a.events(id)); n != 2 {
		t.Errorf("%d events after the refused create, want 2", n)
	}
}

func TestDeliverWithoutBody(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	for _, body := range []any{nil, "{}"} {
		o := a.create(uuid.New())
		a.addItem(o.ID, "1.00", 1)
		a.place(o.ID)
		a.do("POST", "/v1/orders/"+o.ID+"/ship", map[string]any{"tracking_number": "T", "carrier": "C"}).want(t, http.StatusOK)
		before := time.Now().UTC().Add(-time.Second)
		// An empty body too is sent as JSON: any other type is refused.
		o = a.do("POST", "/v1/orders/"+o.ID+"/deliver", body, "Content-Type", "application/json").want(t, http.StatusOK).order(t)
		at, err := time.Parse(time.RFC3339, *o.DeliveredAt)
		if err != nil || at.Before(before) || o.Signature != nil {
			t.Errorf("body %v: delivered_at %v (%v), signature %v", body, *o.DeliveredAt, err, o.Signature)
		}
	}
}

func TestRequestIDIsGeneratedUnlessSane(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	uuidV7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, sent := range []string{"", "has space", "a/b", strings.Repeat("a", 65)} {
		got := a.do("GET", "/healthz", nil, "X-Request-Id", sent).want(t, http.StatusOK).Header.Get("X-Request-Id")
		if !uuidV7.MatchString(got) {
			t.Errorf("sent %q: X-Request-Id = %q, want a generated UUIDv7", sent, got)
		}
	}
	if got := a.do("GET", "/healthz", nil, "X-Request-Id", "abc.DEF_123-x").Header.Get("X-Request-Id"); got != "abc.DEF_123-x" {
		t.Errorf("a sane id was replaced by %q", got)
	}
}

// position reads X-Event-Position.
func position(t *testing.T, r reply) int64 {
	t.Helper()
	p, err := strconv.ParseInt(r.Header.Get("X-Event-Position"), 10, 64)
	if err != nil {
		t.Fatalf("X-Event-Position %q: %v", r.Header.Get("X-Event-Position"), err)
	}
	return p
}

// wantAfter checks a command's ETag and that its event position moved on.
func wantAfter(t *testing.T, r reply, last int64, etag string) int64 {
	t.Helper()
	p := position(t, r)
	if p <= last {
		t.Errorf("X-Event-Position %d, not after %d", p, last)
	}
	if r.Header.Get("ETag") != etag {
		t.Errorf("ETag = %q, want %q", r.Header.Get("ETag"), etag)
	}
	return p
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(ja) == string(jb)
}
