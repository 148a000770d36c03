package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestOrderEvents(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	cd := codec.New(codec.Config{})

	// Given an order with five events, each commit remembered
	var commits []app.Commit
	record := func(c app.Commit) order.Order {
		commits = append(commits, c)
		return mustAppend(t, s, c)
	}
	id := uuid.New()
	createdEvents, err := order.Create(id, uuid.New(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	o := record(commitOf(t, order.Order{ID: id}, t0, createdEvents...))
	o = record(commitOf(t, o, t0.Add(1*time.Second), mustDecide(t, o, addItem("Mug «日本»", "19.99", 3))...))
	o = record(commitOf(t, o, t0.Add(2*time.Second), mustDecide(t, o, place)...))
	o = record(commitOf(t, o, t0.Add(3*time.Second), mustDecide(t, o, func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z", "UPS") })...))
	record(commitOf(t, o, t0.Add(4*time.Second), mustDecide(t, o, func(o *order.Order) ([]order.Event, error) {
		return o.Deliver(t0.Add(90*time.Minute), t0.Add(90*time.Minute), "")
	})...))

	t.Run("whole history with its envelope", func(t *testing.T) {
		events, err := s.OrderEvents(ctx, app.EventQuery{OrderID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != len(commits) {
			t.Fatalf("%d events, want %d", len(events), len(commits))
		}
		var lastPosition int64
		for i, got := range events {
			c := commits[i]
			wantSchema, wantData, err := cd.Encode(c.Events[0].Event)
			if err != nil {
				t.Fatal(err)
			}
			if got.EventID != c.Events[0].ID || got.OrderID != id || got.Version != i+1 ||
				got.Type != c.Events[0].Event.EventType() || got.SchemaVersion != wantSchema ||
				string(got.Data) != string(wantData) || got.Metadata != c.Metadata ||
				got.OccurredAt != c.Events[0].OccurredAt || got.RecordedAt.IsZero() || got.Position <= lastPosition {
				t.Errorf("event %d = %+v (data %s)\nwant %+v (data %s)", i, got, got.Data, c.Events[0], wantData)
			}
			lastPosition = got.Position
		}
	})

	t.Run("after a version, limited", func(t *testing.T) {
		events, err := s.OrderEvents(ctx, app.EventQuery{OrderID: id, AfterVersion: 2, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[0].Version != 3 || events[1].Version != 4 || events[0].Type != order.TypePlaced {
			t.Errorf("events %+v, want versions 3 and 4", events)
		}
	})

	t.Run("after the last version", func(t *testing.T) {
		events, err := s.OrderEvents(ctx, app.EventQuery{OrderID: id, AfterVersion: 5})
		if err != nil || events == nil || len(events) != 0 {
			t.Errorf("events %v, %v; want an empty, non-nil slice", events, err)
		}
	})

	t.Run("unknown order", func(t *testing.T) {
		_, err := s.OrderEvents(ctx, app.EventQuery{OrderID: uuid.New(), AfterVersion: 3})
		if !errors.Is(err, order.ErrNotFound) {
			t.Errorf("events of unknown order: %v, want order.ErrNotFound", err)
		}
	})
}
