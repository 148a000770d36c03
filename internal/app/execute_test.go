package app_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/memory"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// scriptedStore is a store in memory whose races a test scripts: it
// counts the loads and appends that reach it; the next rivals appends
// each lose to another replica, which adds an item just before; the next
// twins lose to a twin request with the same key on another replica; and
// the next append fails with failNext, if set.
type scriptedStore struct {
	*memory.Store
	mu             sync.Mutex
	loads, appends int
	rivals, twins  int
	failNext       error
}

func (s *scriptedStore) Load(ctx context.Context, id uuid.UUID) (order.Order, error) {
	s.mu.Lock()
	s.loads++
	s.mu.Unlock()
	return s.Store.Load(ctx, id)
}

func (s *scriptedStore) Append(ctx context.Context, c app.Commit) (app.Appended, error) {
	s.mu.Lock()
	s.appends++
	rival, twin, fail := s.rivals > 0, s.twins > 0, s.failNext
	s.rivals, s.twins, s.failNext = max(s.rivals-1, 0), max(s.twins-1, 0), nil
	s.mu.Unlock()
	switch {
	case fail != nil:
		return app.Appended{}, fail
	case rival:
		if err := addStraight(ctx, s.Store, c.OrderID, item("Rival")); err != nil {
			return app.Appended{}, err
		}
	case twin:
		// The same decision, on the same state, with the same key: the
		// events alone are its own.
		twin := c
		twin.Events = make([]app.NewEvent, len(c.Events))
		for i, e := range c.Events {
			e.ID = uuid.Must(uuid.NewV7())
			twin.Events[i] = e
		}
		if _, err := s.Store.Append(ctx, twin); err != nil {
			return app.Appended{}, err
		}
	}
	return s.Store.Append(ctx, c)
}

// counts returns the loads and appends so far, and starts counting anew.
func (s *scriptedStore) counts() (loads, appends int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loads, appends = s.loads, s.appends
	s.loads, s.appends = 0, 0
	return loads, appends
}

// addStraight adds an item to the order as another replica would: on the
// state in the store, without the service.
func addStraight(ctx context.Context, s app.EventStore, id uuid.UUID, it order.NewItem) error {
	o, err := s.Load(ctx, id)
	if err != nil {
		return err
	}
	events, err := o.AddItem(it)
	if err != nil {
		return err
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	c := app.Commit{OrderID: id, ExpectedVersion: o.Version, Metadata: apptest.AsStaff}
	for _, e := range events {
		c.Events = append(c.Events, app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: at})
		o.Apply(e, at)
	}
	c.State = o
	_, err = s.Append(ctx, c)
	return err
}

// scripted returns a service over a scripted store in memory, observed,
// and an order it created; the counts and the observer start empty.
func scripted(t *testing.T, cfg app.Config) (*app.Service, *scriptedStore, *recorder, uuid.UUID) {
	t.Helper()
	store := &scriptedStore{Store: memory.NewStore()}
	rec := &recorder{}
	cfg.Observer = rec
	svc, err := app.NewService(store, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	created, err := svc.CreateOrder(context.Background(), app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	store.counts()
	rec.take()
	rec.takeStates()
	return svc, store, rec, created.Order.ID
}

// itemNames lists the order's lines by product name.
func itemNames(t *testing.T, s app.EventStore, id uuid.UUID) []string {
	t.Helper()
	o, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range o.Items {
		names = append(names, it.ProductName)
	}
	return names
}

func wantCommands(t *testing.T, rec *recorder, want ...commandDone) {
	t.Helper()
	if got, _ := rec.take(); !reflect.DeepEqual(got, want) {
		t.Errorf("observed %+v, want %+v", got, want)
	}
}

func wantStates(t *testing.T, rec *recorder, want ...app.StateSource) {
	t.Helper()
	if got := rec.takeStates(); !reflect.DeepEqual(got, want) {
		t.Errorf("states came from %v, want %v", got, want)
	}
}

func TestExecuteRetriesALostRaceOnFreshState(t *testing.T) {
	t.Parallel()
	// Given an order, and another replica that adds an item just before
	// the command's first append
	svc, store, rec, id := scripted(t, app.Config{})
	store.rivals = 1

	// When an item is added without a precondition
	res, err := svc.AddItem(context.Background(), app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Mug"))

	// Then the lost append is retried once, decided on a fresh load
	if err != nil || res.Order.Version != 3 {
		t.Fatalf("add item: version %d, %v; want 3", res.Order.Version, err)
	}
	if loads, appends := store.counts(); loads != 2 || appends != 2 {
		t.Errorf("%d loads and %d appends, want 2 and 2", loads, appends)
	}
	if got := itemNames(t, store, id); !reflect.DeepEqual(got, []string{"Rival", "Mug"}) {
		t.Errorf("items %v, want [Rival Mug]", got)
	}
	wantCommands(t, rec, commandDone{"add_item", app.OutcomeOK, 1})
	wantStates(t, rec, app.StateLoaded, app.StateLoaded)
}

func TestExecuteGivesUpWhenRetriesAreExhausted(t *testing.T) {
	t.Parallel()
	// Given another replica that wins every race
	svc, store, rec, id := scripted(t, app.Config{MaxAttempts: 3})
	store.rivals = 100

	// When an item is added
	_, err := svc.AddItem(context.Background(), app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Mug"))

	// Then after MaxAttempts appends the command gives up, having written
	// nothing
	if !errors.Is(err, app.ErrRetriesExhausted) {
		t.Fatalf("add item: %v, want %v", err, app.ErrRetriesExhausted)
	}
	if _, appends := store.counts(); appends != 3 {
		t.Errorf("%d appends, want 3", appends)
	}
	if got := itemNames(t, store, id); !reflect.DeepEqual(got, []string{"Rival", "Rival", "Rival"}) {
		t.Errorf("items %v, want the rivals' only", got)
	}
	wantCommands(t, rec, commandDone{"add_item", app.OutcomeConflict, 2})
}

func TestExecuteFailsAPreconditionWithoutRetrying(t *testing.T) {
	t.Parallel()
	t.Run("the order is past the expected version", func(t *testing.T) {
		t.Parallel()
		// Given an order at version 2
		svc, store, rec, id := scripted(t, app.Config{StateCacheSize: -1})
		if err := addStraight(context.Background(), store, id, item("Tea")); err != nil {
			t.Fatal(err)
		}
		store.counts()

		// When a client that saw version 1 adds an item
		_, err := svc.AddItem(context.Background(), app.Target{OrderID: id, ExpectedVersion: 1, Metadata: apptest.AsStaff}, item("Mug"))

		// Then the precondition fails before anything is appended
		if !errors.Is(err, app.ErrPreconditionFailed) {
			t.Fatalf("add item: %v, want %v", err, app.ErrPreconditionFailed)
		}
		if loads, appends := store.counts(); loads != 1 || appends != 0 {
			t.Errorf("%d loads and %d appends, want 1 and 0", loads, appends)
		}
		wantCommands(t, rec, commandDone{"add_item", app.OutcomePreconditionFailed, 0})
	})
	t.Run("another replica wins the race", func(t *testing.T) {
		t.Parallel()
		// Given an order at version 1, and another replica that adds an
		// item just before the command's append
		svc, store, rec, id := scripted(t, app.Config{StateCacheSize: -1})
		store.rivals = 1

		// When a client that saw version 1 adds an item
		_, err := svc.AddItem(context.Background(), app.Target{OrderID: id, ExpectedVersion: 1, Metadata: apptest.AsStaff}, item("Mug"))

		// Then the precondition fails after the one append, not retried
		if !errors.Is(err, app.ErrPreconditionFailed) {
			t.Fatalf("add item: %v, want %v", err, app.ErrPreconditionFailed)
		}
		if loads, appends := store.counts(); loads != 1 || appends != 1 {
			t.Errorf("%d loads and %d appends, want 1 and 1", loads, appends)
		}
		if got := itemNames(t, store, id); !reflect.DeepEqual(got, []string{"Rival"}) {
			t.Errorf("items %v, want the rival's only", got)
		}
		wantCommands(t, rec, commandDone{"add_item", app.OutcomePreconditionFailed, 0})
	})
}

func TestExecuteKeepsStates(t *testing.T) {
	t.Parallel()
	svc, store, rec, id := scripted(t, app.Config{})
	ctx := context.Background()
	add := func(name string, expected int) (app.Result, error) {
		return svc.AddItem(ctx, app.Target{OrderID: id, ExpectedVersion: expected, Metadata: apptest.AsStaff}, item(name))
	}
	steps := []struct {
		name         string
		given        func()
		when         func() (app.Result, error)
		wantErr      bool
		wantLoads    int
		wantStates   []app.StateSource
		wantRetries  int
		wantVersions int
	}{
		{"nothing kept yet: loaded", nil,
			func() (app.Result, error) { return add("Mug", 0) }, false, 1,
			[]app.StateSource{app.StateLoaded}, 0, 2},
		{"kept by the last command: not loaded", nil,
			func() (app.Result, error) { return add("Tea", 0) }, false, 0,
			[]app.StateSource{app.StateCached}, 0, 3},
		{"kept, and another replica appends first: loaded again, not a retry",
			func() { store.rivals = 1 },
			func() (app.Result, error) { return add("Cup", 0) }, false, 1,
			[]app.StateSource{app.StateCached, app.StateStale, app.StateLoaded}, 0, 5},
		{"kept after the retry", nil,
			func() (app.Result, error) { return add("Pot", 0) }, false, 0,
			[]app.StateSource{app.StateCached}, 0, 6},
		{"kept, behind the precondition: checked on a fresh load",
			func() {
				if err := addStraight(ctx, store, id, item("Jug")); err != nil {
					t.Fatal(err)
				}
			},
			func() (app.Result, error) { return add("Pan", 7) }, false, 1,
			[]app.StateSource{app.StateCached, app.StateStale, app.StateLoaded}, 0, 8},
		{"a store failing: forgotten", func() { store.failNext = errors.New("disk on fire") },
			func() (app.Result, error) { return add("Lid", 0) }, true, 0,
			[]app.StateSource{app.StateCached}, 0, 8},
		{"after the failure: loaded", nil,
			func() (app.Result, error) { return add("Lid", 0) }, false, 1,
			[]app.StateSource{app.StateLoaded}, 0, 9},
	}
	for _, s := range steps {
		// Given what the steps so far left, and what this one adds
		if s.given != nil {
			s.given()
		}
		store.counts()

		// When an item is added
		res, err := s.when()

		// Then the state came from where the step says
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: %v", s.name, err)
		}
		if loads, _ := store.counts(); loads != s.wantLoads {
			t.Errorf("%s: %d loads, want %d", s.name, loads, s.wantLoads)
		}
		if err == nil && res.Order.Version != s.wantVersions {
			t.Errorf("%s: version %d, want %d", s.name, res.Order.Version, s.wantVersions)
		}
		if got := rec.takeStates(); !reflect.DeepEqual(got, s.wantStates) {
			t.Errorf("%s: states came from %v, want %v", s.name, got, s.wantStates)
		}
		if got, _ := rec.take(); len(got) != 1 || got[0].Retries != s.wantRetries {
			t.Errorf("%s: observed %+v, want %d retries", s.name, got, s.wantRetries)
		}
	}
}

func TestExecuteReplaysAnIdempotentRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mug := item("Mug")
	key := app.Idempotency{Key: "add-mug", Fingerprint: sha256.Sum256([]byte("add mug"))}

	t.Run("a retry after the answer", func(t *testing.T) {
		t.Parallel()
		// Given an item added with a key
		svc, store, rec, id := scripted(t, app.Config{})
		target := app.Target{OrderID: id, Idempotency: key, Metadata: apptest.AsStaff}
		first, err := svc.AddItem(ctx, target, mug)
		if err != nil {
			t.Fatal(err)
		}
		store.counts()

		// When the request comes again
		again, err := svc.AddItem(ctx, target, mug)

		// Then it is answered as the first was, and nothing is appended
		if err != nil || !again.Replayed || again.Position != first.Position || !reflect.DeepEqual(again.Order, first.Order) {
			t.Errorf("again: %+v, %v; want the first answer %+v, replayed", again, err, first)
		}
		if _, appends := store.counts(); appends != 0 {
			t.Errorf("%d appends, want 0", appends)
		}
		wantCommands(t, rec, commandDone{"add_item", app.OutcomeOK, 0}, commandDone{"add_item", app.OutcomeReplayed, 0})

		// And the key with another request is refused
		other := target
		other.Idempotency.Fingerprint = sha256.Sum256([]byte("add tea"))
		if _, err := svc.AddItem(ctx, other, item("Tea")); !errors.Is(err, app.ErrIdempotencyKeyReused) {
			t.Errorf("another request with the key: %v, want %v", err, app.ErrIdempotencyKeyReused)
		}
	})
	t.Run("a twin request that wins the race", func(t *testing.T) {
		t.Parallel()
		// Given a twin request, with the same key, that another replica
		// appends just before this one's append
		svc, store, rec, id := scripted(t, app.Config{})
		store.twins = 1

		// When the request appends
		res, err := svc.AddItem(ctx, app.Target{OrderID: id, Idempotency: key, Metadata: apptest.AsStaff}, mug)

		// Then it answers as the twin did, and the item is added once
		if err != nil || !res.Replayed || res.Order.Version != 2 {
			t.Fatalf("add item: %+v, %v; want the twin's answer at version 2", res, err)
		}
		if got := itemNames(t, store, id); !reflect.DeepEqual(got, []string{"Mug"}) {
			t.Errorf("items %v, want [Mug]", got)
		}
		wantCommands(t, rec, commandDone{"add_item", app.OutcomeReplayed, 0})
	})
}

// gatedStore holds every load until its gate opens, telling entered.
type gatedStore struct {
	*memory.Store
	entered, gate chan struct{}
}

func (g gatedStore) Load(ctx context.Context, id uuid.UUID) (order.Order, error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.Store.Load(ctx, id)
}

func TestExecuteStopsWaitingForTheLockWhenTheRequestEnds(t *testing.T) {
	t.Parallel()
	// Given an order, and a command on it that holds its lock, held up in
	// its load
	mem := memory.NewStore()
	rec := &recorder{}
	store := gatedStore{Store: mem, entered: make(chan struct{}, 2), gate: make(chan struct{})}
	svc, err := app.NewService(store, mem, app.Config{Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	id := created.Order.ID
	release := sync.OnceFunc(func() { close(store.gate) })
	t.Cleanup(release)
	first := make(chan error, 1)
	go func() {
		_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Mug"))
		first <- err
	}()
	<-store.entered

	// When a second command on the order waits for the lock, and its
	// request ends
	waiting, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	second := make(chan error, 1)
	go func() {
		_, err := svc.AddItem(waiting, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Tea"))
		second <- err
	}()

	// Then it gives up with the request's end, without loading the order
	select {
	case err := <-second:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiting command: %v, want %v", err, context.Canceled)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting command still waits after its request ended")
	}
	select {
	case <-store.entered:
		t.Error("the waiting command loaded the order")
	default:
	}
	// and the first goes on once its load does
	release()
	if err := <-first; err != nil {
		t.Errorf("first command: %v", err)
	}
	commands, _ := rec.take()
	want := []commandDone{{"create_order", app.OutcomeOK, 0}, {"add_item", app.OutcomeError, 0}, {"add_item", app.OutcomeOK, 0}}
	if !reflect.DeepEqual(commands, want) {
		t.Errorf("observed %+v, want %+v", commands, want)
	}
}
