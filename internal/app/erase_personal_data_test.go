package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	customers "github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
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

func TestAReplicaThatMissedAnErasureAnswersWithoutTheErasedDataWithinItsBounds(t *testing.T) {
	t.Parallel()
	// Given two replicas over one database: one that trusts a key for
	// 300ms and uses a kept state for 300ms after its load, and hears of
	// no erasure; and one that erases
	const trust, maxAge = 300 * time.Millisecond, 300 * time.Millisecond
	pool := pgtest.New(t)
	keyrings := eventstoretest.KeyringsTrusting(t, pool, trust)
	unheard := eventstore.New(pool, eventstore.Config{Keyring: keyrings()})
	replica, err := app.NewService(unheard, unheard, app.Config{StateMaxAge: maxAge})
	if err != nil {
		t.Fatal(err)
	}
	erasing := eventstore.New(pool, eventstore.Config{Keyring: keyrings()})
	eraser, err := app.NewService(erasing, erasing, app.Config{Eraser: erasure.New(erasing, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	// and a customer's orders that the first replica placed, keeping
	// their states, shipping address and all
	ctx := context.Background()
	c := uuid.New()
	addr := order.Address{Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"}
	ids := make([]uuid.UUID, 40)
	for i := range ids {
		res, err := replica.CreateOrder(ctx, app.NewOrder{CustomerID: c}, apptest.AsStaff)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.Order.ID
		target := app.Target{OrderID: ids[i], Metadata: apptest.AsStaff}
		if _, err := replica.AddItem(ctx, target, item("cup")); err != nil {
			t.Fatal(err)
		}
		if _, err := replica.PlaceOrder(ctx, target, addr); err != nil {
			t.Fatal(err)
		}
	}

	// When the other replica erases the customer
	erased := time.Now()
	if err := eraser.ErasePersonalData(ctx, c, apptest.AsStaff); err != nil {
		t.Fatal(err)
	}

	// Then the first replica's command answers show the address no longer
	// once the key's trust and the state's age have passed, and then
	// read it as erased
	for i, id := range ids {
		asked := time.Now()
		res, err := replica.ShipOrder(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, "TRACK-1", "carrier")
		if err != nil {
			t.Fatal(err)
		}
		if res.Order.ShippingAddress == nil {
			if !res.Order.Erased {
				t.Errorf("order %d: no address, and not marked erased", i)
			}
			return
		}
		if late := asked.Sub(erased); late > trust+maxAge {
			t.Fatalf("order %d: the erased address answered %s after the erasure, past %s", i, late, trust+maxAge)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("every answer showed the erased address")
}
