package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func loadMissing(t *testing.T, s app.EventStore) {
	// Given an empty store, when an order is loaded
	_, err := s.Load(context.Background(), uuid.New())
	// Then it is not found
	if !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("load of a missing stream: %v, want %v", err, order.ErrNotFound)
	}
}

func appendCreates(t *testing.T, s app.EventStore) {
	// Given an empty store, when an order's first event is appended at 0
	c := creation(t)
	appended, err := s.Append(context.Background(), c)
	// Then the stream exists at version 1
	if err != nil {
		t.Fatalf("append at 0: %v", err)
	}
	if appended.LastPosition <= 0 {
		t.Errorf("last position %d, want above 0", appended.LastPosition)
	}
	got := mustLoad(t, s, c.OrderID)
	if got.Version != 1 {
		t.Errorf("version %d after the first append, want 1", got.Version)
	}
	sameState(t, got, c.State)
}

func eventsInOrder(t *testing.T, s app.EventStore) {
	// Given an order taken through its life in commits of one event and
	// of several
	o := create(t, s)
	o, _ = mustAppend(t, s, commitOf(t, o, t0.Add(time.Second), addItem("Mug")))
	mug := o.Items[0].ProductID
	o, _ = mustAppend(t, s, commitOf(t, o, t0.Add(2*time.Second), addItem("Tea"), addItem("Cup"),
		func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(mug) }))
	want, _ := mustAppend(t, s, commitOf(t, o, t0.Add(3*time.Second), place,
		func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") }))

	// When it is loaded
	got := mustLoad(t, s, want.ID)

	// Then it is folded from every event, in order: the state the last
	// commit stated
	if got.Version != 7 || got.Status != order.StatusShipped || len(got.Items) != 2 || got.Items[0].ProductName != "Tea" {
		t.Errorf("loaded version %d, %s, items %+v; want version 7, shipped, Tea then Cup", got.Version, got.Status, got.Items)
	}
	sameState(t, got, want)
}

func appendConflict(t *testing.T, s app.EventStore) {
	ctx := context.Background()
	// Given an order at version 2
	o := create(t, s)
	o, _ = mustAppend(t, s, commitOf(t, o, t0.Add(time.Second), addItem("Mug")))
	at1 := order.Order{ID: o.ID}
	at1.Apply(order.Created{OrderID: o.ID, CustomerID: o.CustomerID, Currency: o.Currency}, t0)
	ahead := o.Clone()
	ahead.Version = 3
	recreate := func(*order.Order) ([]order.Event, error) { return order.Create(o.ID, o.CustomerID, "EUR") }
	for _, c := range []struct {
		name   string
		commit app.Commit
	}{
		{"behind", commitOf(t, at1, t0.Add(2*time.Second), addItem("Tea"))},
		{"ahead", commitOf(t, ahead, t0.Add(2*time.Second), addItem("Tea"))},
		{"creating it again", commitOf(t, order.Order{ID: o.ID}, t0.Add(2*time.Second), recreate)},
	} {
		// When a commit expects another version, claiming a key
		commit := c.commit
		commit.Idempotency, commit.IdempotencyTTL = claim("conflict-"+c.name, "storetest"), time.Hour
		_, err := s.Append(ctx, commit)

		// Then it is ErrAppendConflict, and neither its events nor its
		// claim are written
		if !errors.Is(err, app.ErrAppendConflict) {
			t.Errorf("%s: append at version %d: %v, want %v", c.name, commit.ExpectedVersion, err, app.ErrAppendConflict)
		}
		sameState(t, mustLoad(t, s, o.ID), o)
		if _, found, err := s.LookupIdempotency(ctx, "storetest", "conflict-"+c.name); found || err != nil {
			t.Errorf("%s: the refused commit's key: found %v, %v", c.name, found, err)
		}
	}
}

func racingWriters(t *testing.T, s app.EventStore) {
	// Given an order at version 1
	o := create(t, s)

	// When writers race to append at version 1
	const writers = 8
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		c := commitOf(t, o, t0.Add(time.Second), addItem("Mug"))
		wg.Go(func() {
			<-start
			_, errs[i] = s.Append(context.Background(), c)
		})
	}
	close(start)
	wg.Wait()

	// Then one wins and the others are told they lost
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, app.ErrAppendConflict):
			t.Errorf("writer %d: %v, want %v", i, err, app.ErrAppendConflict)
		}
	}
	if got := mustLoad(t, s, o.ID); won != 1 || got.Version != 2 || len(got.Items) != 1 {
		t.Errorf("%d writers won; the order is at version %d with %d items; want 1, 2, 1", won, got.Version, len(got.Items))
	}
}

func positionsIncrease(t *testing.T, s app.EventStore) {
	// Given two orders
	a, b := create(t, s), create(t, s)

	// When commits of one and of several events go to either in turn
	var last int64
	for i, step := range []struct {
		o    *order.Order
		cmds []command
	}{
		{&a, []command{addItem("Mug")}},
		{&b, []command{addItem("Tea"), addItem("Cup")}},
		{&a, []command{addItem("Pot"), addItem("Jug"), place}},
		{&b, []command{addItem("Pan")}},
	} {
		c := commitOf(t, *step.o, t0.Add(time.Duration(i+1)*time.Second), step.cmds...)
		var appended app.Appended
		*step.o, appended = mustAppend(t, s, c)

		// Then each lands after the last, one position per event
		if appended.LastPosition < last+int64(len(c.Events)) {
			t.Errorf("commit %d of %d events ends at position %d, after %d", i, len(c.Events), appended.LastPosition, last)
		}
		last = appended.LastPosition
	}
}

func incoherentCommit(t *testing.T, s app.EventStore) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		spoil func(*app.Commit)
	}{
		{"no events", func(c *app.Commit) { c.Events = nil; c.State.Version = 0 }},
		{"a nil event", func(c *app.Commit) { c.Events[0].Event = nil }},
		{"a state not after the events", func(c *app.Commit) { c.State.Version = 2 }},
		{"a state of another order", func(c *app.Commit) { c.State.ID = uuid.New() }},
		{"a key with no time to live", func(c *app.Commit) { c.Idempotency, c.IdempotencyTTL = claim("no-ttl", "x"), 0 }},
	} {
		// Given a commit creating an order, spoilt
		commit := creation(t)
		c.spoil(&commit)

		// When it is appended, then it is refused and nothing is written
		if _, err := s.Append(ctx, commit); err == nil {
			t.Errorf("%s: the append succeeded", c.name)
		}
		if _, err := s.Load(ctx, commit.OrderID); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("%s: load after the refused append: %v, want %v", c.name, err, order.ErrNotFound)
		}
	}
	if _, found, err := s.LookupIdempotency(ctx, "", "no-ttl"); found || err != nil {
		t.Errorf("the refused commit's key: found %v, %v", found, err)
	}
}

func loadReturnsACopy(t *testing.T, s app.EventStore) {
	// Given an order with an item, appended from a state its caller
	// goes on to change
	o := create(t, s)
	c := commitOf(t, o, t0.Add(time.Second), addItem("Mug"))
	want := c.State.Clone()
	mustAppend(t, s, c)
	c.State.Items[0].Quantity = 99

	// When a loaded state is changed too
	first := mustLoad(t, s, o.ID)
	first.Items[0].ProductName = "changed"

	// Then the next load does not show either change
	sameState(t, mustLoad(t, s, o.ID), want)
}

func endedContext(t *testing.T, s app.EventStore) {
	// Given a context that has ended
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	// When a commit is appended with it, then it fails, and nothing is
	// written
	c := creation(t)
	if _, err := s.Append(ctx, c); err == nil {
		t.Fatal("an append with an ended context succeeded")
	}
	if _, err := s.Load(context.Background(), c.OrderID); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("load after the failed append: %v, want %v", err, order.ErrNotFound)
	}
}
