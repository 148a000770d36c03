package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	customers "github.com/orderapi/orderapi/internal/domain/customer"
)

func TestOnlyStaffErasePersonalData(t *testing.T) {
	t.Parallel()
	// Given a service that erases
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{Keyring: eventstoretest.Keyring(t, pool)})
	svc, err := app.NewService(store, store, app.Config{Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	c := uuid.New()
	// When a customer, even the customer itself, or a service asks
	for _, p := range []app.Principal{customer(c), service} {
		err := svc.ErasePersonalData(context.Background(), c, as(p))
		// Then it is forbidden
		if !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%v: %v", p.Roles, err)
		}
	}
	// And nothing was recorded; staff's request is
	if err := svc.ErasePersonalData(context.Background(), c, apptest.AsStaff); err != nil {
		t.Fatal(err)
	}
	page, err := svc.Feed(context.Background(), app.FeedQuery{Types: []string{customers.TypePersonalDataErased}})
	if err != nil || len(page.Events) != 1 || page.Events[0].Metadata.Principal.Subject != apptest.Staff.Subject {
		t.Errorf("erasures on record %+v, %v", page.Events, err)
	}
}

func TestAnErasureDropsTheStatesKeptOfTheCustomersOrders(t *testing.T) {
	t.Parallel()
	// Given a service that keeps the states of two customers' orders
	pool := pgtest.New(t)
	store := &countingStore{Store: eventstore.New(pool, eventstore.Config{Keyring: eventstoretest.Keyring(t, pool)})}
	svc, err := app.NewService(store, store, app.Config{Eraser: erasure.New(store.Store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	erased, kept := uuid.New(), uuid.New()
	var ids []uuid.UUID
	for _, c := range []uuid.UUID{erased, kept} {
		res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: c}, apptest.AsStaff)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Order.ID)
		// A command keeps the state it leaves.
		if _, err := svc.AddItem(ctx, app.Target{OrderID: res.Order.ID, Metadata: apptest.AsStaff}, item("cup")); err != nil {
			t.Fatal(err)
		}
	}

	// When the first customer's personal data is erased
	if err := svc.ErasePersonalData(ctx, erased, apptest.AsStaff); err != nil {
		t.Fatal(err)
	}

	// Then the next command on its order loads it, since the kept state
	// may hold what was erased; the other customer's is still kept
	for i, want := range []int64{1, 0} {
		before := store.loads.Load()
		if _, err := svc.AddItem(ctx, app.Target{OrderID: ids[i], Metadata: apptest.AsStaff}, item("mug")); err != nil {
			t.Fatal(err)
		}
		if got := store.loads.Load() - before; got != want {
			t.Errorf("order %d: %d loads, want %d", i, got, want)
		}
	}
}
