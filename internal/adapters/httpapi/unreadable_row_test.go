package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// TestUnreadableReadModelRowIsTheServicesFault: a read model's row this
// build cannot read (a status it does not know) is a logged 500
// internal_error on every read that needs it, the order's and its
// customer's list, as a row whose items cannot be read is: the service's
// data is at fault, never the request, so never a 4xx naming a field the
// client did not send. Other orders read as usual.
func TestUnreadableReadModelRowIsTheServicesFault(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// Given two orders of a customer, one of whose rows holds a status no
	// build has written
	customer := uuid.New()
	broken, fine := a.create(customer), a.create(customer)
	for _, table := range []string{"order_details", "customer_orders"} {
		if _, err := a.pool.Exec(context.Background(), `UPDATE `+table+` SET status = 'bogus' WHERE order_id = $1`, broken.ID); err != nil {
			t.Fatal(err)
		}
	}
	// When they are read, the unreadable one is the service's fault
	for _, path := range []string{
		"/v1/orders/" + broken.ID,
		"/v1/customers/" + customer.String() + "/orders",
	} {
		a.do("GET", path, nil).wantProblem(t, http.StatusInternalServerError, problem.CodeInternal)
		if r := a.do("HEAD", path, nil); r.Status != http.StatusInternalServerError {
			t.Errorf("HEAD %s: %d, want 500", path, r.Status)
		}
	}
	// and logged, naming the order and what could not be read
	if logs := a.logs.String(); !strings.Contains(logs, broken.ID) || !strings.Contains(logs, `\"bogus\"`) {
		t.Errorf("the unreadable row was not logged by its order and status:\n%s", logs)
	}
	// while the other reads as usual
	a.do("GET", "/v1/orders/"+fine.ID, nil).want(t, http.StatusOK)
}
