package httpapi

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestAFullHistoryStillLetsTheOrderFinish(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// Given a draft whose item changes have taken all the history they may
	full := order.MaxEvents - order.ReservedEvents
	o, err := apptest.LongOrder(t.Context(), eventstore.New(a.pool, eventstore.Config{}), full, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/orders/" + o.ID.String()
	if got := a.do("GET", path, nil).want(t, http.StatusOK).order(t).AllowedActions; !reflect.DeepEqual(got, []string{"place", "cancel"}) {
		t.Errorf("allowed actions %v, want place and cancel only", got)
	}

	// When an item is added or removed, then the history is full: 409
	a.do("POST", path+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "4.50",
	}).wantProblem(t, http.StatusConflict, "order_history_full")
	a.do("DELETE", path+"/items/"+o.Items[0].ProductID.String(), nil).wantProblem(t, http.StatusConflict, "order_history_full")

	// When it is placed, shipped and delivered, then each is accepted, and
	// its last event is the last an order may have
	a.do("POST", path+"/place", testAddress).want(t, http.StatusOK)
	a.do("POST", path+"/ship", map[string]any{"tracking_number": "1Z999", "carrier": "UPS"}).want(t, http.StatusOK)
	done := a.do("POST", path+"/deliver", map[string]any{"signature": "A. Lovelace"}).want(t, http.StatusOK).order(t)
	if done.Version != order.MaxEvents || done.Status != "delivered" {
		t.Fatalf("delivered at version %d, status %s; want version %d", done.Version, done.Status, order.MaxEvents)
	}
}
