package projections_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestARebuildSwappedInAfterAnErasureCarriesIt: a customer erased while
// a rebuild replays (after its snapshot, the customer's key still in the
// rebuild's cache), or whose events were then still stored in clear, is
// erased in the tables swapped in: the rows say so and hold no personal
// data, every replica reads them erased, and verify finds them clean.
// Another customer's rows are untouched.
func TestARebuildSwappedInAfterAnErasureCarriesIt(t *testing.T) {
	t.Parallel()
	// Given a service sealing personal data, and a rebuild run by another
	// process, under the same master key
	pool := pgtest.New(t)
	newKeyring := eventstoretest.Keyrings(t, pool)
	s := eventstore.New(pool, eventstore.Config{Keyring: newKeyring()})
	rebuilder := eventstore.New(pool, eventstore.Config{Keyring: newKeyring()})
	// And a customer whose orders are sealed, one whose orders were stored
	// in clear (before sealing began), and a bystander
	sealed, inClear, bystander := uuid.New(), uuid.New(), uuid.New()
	clear := eventstore.New(pool, eventstore.Config{})
	orders := map[uuid.UUID][]order.Order{
		sealed:    {delivered(t, s, sealed), cancelled(t, s, sealed)},
		inClear:   {delivered(t, clear, inClear), cancelled(t, clear, inClear)},
		bystander: {delivered(t, s, bystander)},
	}
	// And the rebuild's process has read the sealed customer's order, its
	// key now in its cache
	if _, err := rebuilder.GetOrder(t.Context(), orders[sealed][0].ID); err != nil {
		t.Fatal(err)
	}

	// When the read models are rebuilt, and both customers are erased once
	// the rebuild's snapshot is taken, before it replays them
	eraser := erasure.New(s, erasure.Config{})
	_, err := projections.RebuildFilling(t.Context(), rebuilder, []string{app.ProjectionOrderDetails, app.ProjectionCustomerOrders}, func() {
		for _, c := range []uuid.UUID{sealed, inClear} {
			e := app.Erasure{EventID: uuid.Must(uuid.NewV7()), Event: customer.PersonalDataErased{CustomerID: c},
				Metadata: app.Metadata{RequestID: "req-erase", Principal: app.Principal{Subject: "staff-1", Roles: app.RolesOf(app.RoleStaff)}}}
			if _, err := eraser.ErasePersonalData(t.Context(), e); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Then the erased customers' rows swapped in say they are erased, and
	// hold no personal data; the bystander's are as they were
	for c, os := range orders {
		for _, o := range os {
			var erased bool
			var personal int
			if err := pool.QueryRow(t.Context(), `
SELECT erased, num_nonnulls(shipping_address, signature, cancel_reason) FROM order_details WHERE order_id = $1`, o.ID).Scan(&erased, &personal); err != nil {
				t.Fatal(err)
			}
			if want := c != bystander; erased != want || (personal == 0) != want {
				t.Errorf("order %s of customer %s: erased %t with %d personal columns, want erased %t", o.ID, c, erased, personal, want)
			}
		}
	}
	// And every replica, the rebuild's too, reads them erased, and the
	// bystander's as written
	fresh := eventstore.New(pool, eventstore.Config{Keyring: newKeyring()})
	for name, r := range map[string]*eventstore.Store{"service": s, "rebuild": rebuilder, "fresh replica": fresh} {
		for c, os := range orders {
			for _, o := range os {
				got, err := r.GetOrder(t.Context(), o.ID)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				personal := got.ShippingAddress != nil || got.Signature != "" || got.CancelReason != ""
				if erased := c != bystander; got.Erased != erased || personal == erased || got.Status != o.Status {
					t.Errorf("%s: order %s of customer %s reads %+v", name, o.ID, c, got)
				}
			}
		}
	}
	// And the read models verify clean
	if rep := verifyProjections(t, s); rep.Total != 0 {
		t.Fatalf("differences after the rebuild:\n%s", strings.Join(rep.Differences, "\n"))
	}
}

// delivered is an order of the customer, placed, shipped and delivered
// with a signature.
func delivered(t *testing.T, s *eventstore.Store, c uuid.UUID) order.Order {
	t.Helper()
	o := do(t, s, create(t, s, uuid.New(), c, t0), t0, addItem("Tea", "4.50", 2))
	o = do(t, s, o, t0, place)
	o = do(t, s, o, t0, func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") })
	return do(t, s, o, t0, func(o *order.Order) ([]order.Event, error) { return o.Deliver(t0, t0, "Zebulon Thornquist") })
}

// cancelled is an order of the customer, placed and cancelled with a
// reason.
func cancelled(t *testing.T, s *eventstore.Store, c uuid.UUID) order.Order {
	t.Helper()
	o := do(t, s, create(t, s, uuid.New(), c, t0), t0, addItem("Tea", "4.50", 1))
	o = do(t, s, o, t0, place)
	return do(t, s, o, t0, func(o *order.Order) ([]order.Event, error) { return o.Cancel("moving to Zanzibar", "ada") })
}
