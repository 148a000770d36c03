package memory_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/memory"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/storetest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(*testing.T) app.EventStore { return memory.NewStore() })
}

// TestReads covers the reads the Service's commands make, beyond the
// contract: the details a commit stated, and past states.
func TestReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memory.NewStore()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	// Given an order created at t0 and given an item a minute later
	id := uuid.New()
	var o order.Order
	var states []order.Order
	for i, decide := range []func() ([]order.Event, error){
		func() ([]order.Event, error) { return order.Create(id, uuid.New(), "EUR") },
		func() ([]order.Event, error) {
			return o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: "Mug", Quantity: 1, UnitPrice: order.MustParseAmount("2.50")})
		},
	} {
		events, err := decide()
		if err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		c := app.Commit{OrderID: id, ExpectedVersion: o.Version}
		for _, e := range events {
			c.Events = append(c.Events, app.NewEvent{ID: uuid.New(), Event: e, OccurredAt: at})
			o.Apply(e, at)
		}
		c.State = o.Clone()
		if _, err := s.Append(ctx, c); err != nil {
			t.Fatal(err)
		}
		states = append(states, o.Clone())
	}

	t.Run("GetOrder gives the last commit's state", func(t *testing.T) {
		if got, err := s.GetOrder(ctx, id); err != nil || !reflect.DeepEqual(got, states[1]) {
			t.Errorf("got %+v, %v; want %+v", got, err, states[1])
		}
		if _, err := s.GetOrder(ctx, uuid.New()); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("a missing order: %v, want %v", err, order.ErrNotFound)
		}
	})
	t.Run("LoadVersion folds up to the version, or the whole stream", func(t *testing.T) {
		for version, want := range map[int]order.Order{1: states[0], 2: states[1], 9: states[1]} {
			if got, err := s.LoadVersion(ctx, id, version); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("version %d: %+v, %v; want %+v", version, got, err, want)
			}
		}
		if _, err := s.LoadVersion(ctx, uuid.New(), 1); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("a missing order: %v, want %v", err, order.ErrNotFound)
		}
		if _, err := s.LoadVersion(ctx, id, 0); err == nil {
			t.Error("version 0 was loaded")
		}
	})
	t.Run("LoadAsOf folds the events that occurred by then", func(t *testing.T) {
		for _, c := range []struct {
			at   time.Time
			want order.Order
		}{{t0, states[0]}, {t0.Add(59 * time.Second), states[0]}, {t0.Add(time.Minute), states[1]}} {
			if got, err := s.LoadAsOf(ctx, id, c.at); err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("as of %s: %+v, %v; want %+v", c.at, got, err, c.want)
			}
		}
		if _, err := s.LoadAsOf(ctx, id, t0.Add(-time.Second)); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("before its creation: %v, want %v", err, order.ErrNotFound)
		}
	})
	t.Run("the reads it does not serve say so", func(t *testing.T) {
		if _, err := s.OrderEvents(ctx, app.EventQuery{OrderID: id}); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("OrderEvents: %v, want %v", err, errors.ErrUnsupported)
		}
		if _, err := s.ListCustomerOrders(ctx, app.ListQuery{}); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("ListCustomerOrders: %v, want %v", err, errors.ErrUnsupported)
		}
		if _, err := s.ReadFeed(ctx, app.FeedQuery{}); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("ReadFeed: %v, want %v", err, errors.ErrUnsupported)
		}
	})
}
