package app_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestOrderAt(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()

	// Given an order at version 3, each command's answer kept
	res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Order.ID
	states := []order.Order{res.Order}
	for _, name := range []string{"Mug", "Tea"} {
		res, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item(name))
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, res.Order)
	}

	t.Run("each version is what its command answered", func(t *testing.T) {
		for i, want := range states {
			got, err := svc.OrderAt(ctx, apptest.Staff, id, app.AtVersion(i+1))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("version %d: %+v, %v\nwant %+v", i+1, got, err, want)
			}
		}
	})

	t.Run("a version not reached says how many there are", func(t *testing.T) {
		_, err := svc.OrderAt(ctx, apptest.Staff, id, app.AtVersion(4))
		var vr *app.VersionOutOfRangeError
		if !errors.As(err, &vr) || vr.Latest != 3 || vr.Version != 4 || vr.OrderID != id {
			t.Errorf("version 4: %v, want a *VersionOutOfRangeError with Latest 3", err)
		}
	})

	t.Run("version 0 is invalid", func(t *testing.T) {
		_, err := svc.OrderAt(ctx, apptest.Staff, id, app.PointInTime{})
		if e, ok := errors.AsType[*order.Error](err); !ok || e.Kind != order.KindInvalid || e.Fields[0].Field != "version" {
			t.Errorf("version 0: %v, want a validation error on version", err)
		}
	})

	t.Run("as of now is the latest", func(t *testing.T) {
		got, err := svc.OrderAt(ctx, apptest.Staff, id, app.AsOf(time.Now().Add(time.Second)))
		if err != nil || !reflect.DeepEqual(got, states[2]) {
			t.Errorf("as of now: %+v, %v", got, err)
		}
	})

	t.Run("before the order, or of no order, is not found", func(t *testing.T) {
		for _, at := range []struct {
			id uuid.UUID
			pt app.PointInTime
		}{
			{id, app.AsOf(states[0].CreatedAt.Add(-time.Hour))},
			{uuid.New(), app.AsOf(time.Now())},
			{uuid.New(), app.AtVersion(1)},
		} {
			if _, err := svc.OrderAt(ctx, apptest.Staff, at.id, at.pt); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("order %s %s: %v, want order.ErrNotFound", at.id, at.pt, err)
			}
		}
	})
}

func TestOrderEventPage(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Order.ID
	for _, name := range []string{"Mug", "Tea", "Pot", "Cup"} {
		if _, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item(name)); err != nil {
			t.Fatal(err)
		}
	}

	// versions lists a page's versions, and next its Next (0 for none).
	page := func(after, limit int) (versions []int, next int) {
		t.Helper()
		p, err := svc.OrderEventPage(ctx, apptest.Staff, app.EventQuery{OrderID: id, AfterVersion: after, Limit: limit})
		if err != nil {
			t.Fatalf("after %d limit %d: %v", after, limit, err)
		}
		for _, e := range p.Events {
			versions = append(versions, e.Version)
		}
		if p.Next != nil {
			next = *p.Next
		}
		return versions, next
	}
	tests := []struct {
		after, limit int
		versions     []int
		next         int
	}{
		{0, 2, []int{1, 2}, 2},
		{2, 2, []int{3, 4}, 4},
		{4, 2, []int{5}, 0},
		{3, 2, []int{4, 5}, 0}, // exactly the rest: no next page
		{0, 0, []int{1, 2, 3, 4, 5}, 0},
		{5, 2, nil, 0},
		{9, 2, nil, 0},
	}
	for _, tt := range tests {
		versions, next := page(tt.after, tt.limit)
		if !reflect.DeepEqual(versions, tt.versions) || next != tt.next {
			t.Errorf("after %d limit %d: versions %v next %d; want %v next %d", tt.after, tt.limit, versions, next, tt.versions, tt.next)
		}
	}

	_, err = svc.OrderEventPage(ctx, apptest.Staff, app.EventQuery{OrderID: id, AfterVersion: -1, Limit: app.MaxEventPage + 1})
	if e, ok := errors.AsType[*order.Error](err); !ok || len(e.Fields) != 2 {
		t.Errorf("bad after version and limit: %v, want both named", err)
	}
	if _, err := svc.OrderEventPage(ctx, apptest.Staff, app.EventQuery{OrderID: uuid.New()}); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("unknown order: %v, want order.ErrNotFound", err)
	}
}
