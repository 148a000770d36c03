package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newService returns a service over a fresh database, and a constructor
// for more services over the same database: each stands for one replica.
func newService(t *testing.T) (*app.Service, func() *app.Service) {
	t.Helper()
	pool := pgtest.New(t)
	replica := func() *app.Service {
		store := eventstore.New(pool, eventstore.Config{})
		svc, err := app.NewService(store, store, app.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	return replica(), replica
}

func item(name string) order.NewItem {
	return order.NewItem{ProductID: uuid.New(), ProductName: name, Quantity: 1, UnitPrice: order.MustParseAmount("1.25")}
}

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	customer := uuid.New()

	t.Run("defaults the currency and answers version 1", func(t *testing.T) {
		res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: customer}, app.Metadata{RequestID: "r1", Principal: apptest.Staff})
		if err != nil {
			t.Fatal(err)
		}
		if res.Order.Currency != "USD" || res.Order.Version != 1 || res.Order.Status != order.StatusDraft || res.Position <= 0 {
			t.Errorf("created %+v at position %d", res.Order, res.Position)
		}
		got, err := svc.GetOrder(ctx, apptest.Staff, res.Order.ID)
		if err != nil || got.Version != 1 {
			t.Errorf("read after write: %+v, %v", got, err)
		}
	})

	t.Run("a client-chosen id that exists is ErrExists", func(t *testing.T) {
		id := uuid.New()
		if _, err := svc.CreateOrder(ctx, app.NewOrder{ID: id, CustomerID: customer, Currency: "EUR"}, apptest.AsStaff); err != nil {
			t.Fatal(err)
		}
		_, err := svc.CreateOrder(ctx, app.NewOrder{ID: id, CustomerID: customer}, apptest.AsStaff)
		if !errors.Is(err, app.ErrExists) {
			t.Fatalf("second create: %v, want %v", err, app.ErrExists)
		}
		events, err := svc.OrderEvents(ctx, apptest.Staff, app.EventQuery{OrderID: id})
		if err != nil || len(events) != 1 {
			t.Errorf("stream after the refused create: %d events, %v", len(events), err)
		}
	})
}

func TestCommandOnUnknownOrder(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	_, err := svc.AddItem(context.Background(), app.Target{OrderID: uuid.New(), Metadata: apptest.AsStaff}, item("Mug"))
	if !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("error = %v, want %v", err, order.ErrNotFound)
	}
}

func TestExpectedVersion(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Order.ID

	// Given the order at version 2
	if _, err := svc.AddItem(ctx, app.Target{OrderID: id, ExpectedVersion: 1, Metadata: apptest.AsStaff}, item("Mug")); err != nil {
		t.Fatal(err)
	}
	// When a client still expects version 1
	_, err = svc.AddItem(ctx, app.Target{OrderID: id, ExpectedVersion: 1, Metadata: apptest.AsStaff}, item("Tea"))
	// Then the precondition fails and nothing is written
	if !errors.Is(err, app.ErrPreconditionFailed) {
		t.Fatalf("error = %v, want %v", err, app.ErrPreconditionFailed)
	}
	if got, _ := svc.GetOrder(ctx, apptest.Staff, id); got.Version != 2 {
		t.Errorf("version = %d after a failed precondition, want 2", got.Version)
	}
}

// TestReplicasRacing: writers in different processes do not share the
// service's in-process lock; the store's expected-version check and the
// retries on fresh state must still let every command through, in order.
func TestReplicasRacing(t *testing.T) {
	t.Parallel()
	first, replica := newService(t)
	ctx := context.Background()
	res, err := first.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Order.ID

	const replicas, perReplica = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, replicas*perReplica)
	for r := range replicas {
		svc := replica()
		for i := range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item(fmt.Sprintf("r%d-%d", r, i)))
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("add item: %v", err)
		}
	}

	events, err := first.OrderEvents(ctx, apptest.Staff, app.EventQuery{OrderID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1+replicas*perReplica {
		t.Fatalf("%d events, want %d", len(events), 1+replicas*perReplica)
	}
	for i, e := range events {
		if e.Version != i+1 {
			t.Fatalf("event %d has version %d: a gap or duplicate", i, e.Version)
		}
	}
	got, err := first.GetOrder(ctx, apptest.Staff, id)
	if err != nil || len(got.Items) != replicas*perReplica || got.Version != len(events) {
		t.Errorf("read model: %d items version %d, %v", len(got.Items), got.Version, err)
	}
}

func TestCancelledContextStopsWaiting(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := svc.AddItem(ctx, app.Target{OrderID: uuid.New(), Metadata: apptest.AsStaff}, item("Mug")); err == nil {
		t.Fatal("a command with an ended context succeeded")
	}
}
