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
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func customer(id uuid.UUID) app.Principal {
	return app.Principal{Subject: id.String(), Roles: app.RolesOf(app.RoleCustomer), CustomerID: id}
}

var service = app.Principal{Subject: "svc:warehouse", Roles: app.RolesOf(app.RoleService), ClientID: "warehouse"}

func as(p app.Principal) app.Metadata { return app.Metadata{Principal: p} }

// newServiceOn is newService with its database, for tests that look at
// what is stored, and with the event store as wrap makes it (nil: as is)
// and cfg.
func newServiceOn(t *testing.T, wrap func(app.EventStore) app.EventStore, cfg app.Config) (*app.Service, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{})
	var events app.EventStore = store
	if wrap != nil {
		events = wrap(store)
	}
	svc, err := app.NewService(events, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, pool
}

// notFoundMessage is what a client is told of an error: the domain
// error's message, never the wrapping, which names internals.
func notFoundMessage(t *testing.T, err error) string {
	t.Helper()
	var oe *order.Error
	if !errors.As(err, &oe) || oe.Kind != order.KindNotFound {
		t.Fatalf("error = %v, want an order not found", err)
	}
	return oe.Message
}

func TestCustomersCreateOrdersForThemselvesOnly(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	alice, bob := customer(uuid.New()), customer(uuid.New())

	// When a customer creates an order without naming a customer
	res, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice))

	// Then it is the customer's own
	if err != nil || res.Order.CustomerID != alice.CustomerID {
		t.Fatalf("create = %+v, %v; want an order of %s", res.Order, err, alice.CustomerID)
	}

	// And naming another customer is forbidden, and creates nothing
	if _, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: bob.CustomerID}, as(alice)); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("create for another customer = %v, want ErrForbidden", err)
	}
	page, err := svc.ListCustomerOrders(ctx, bob, app.ListQuery{CustomerID: bob.CustomerID})
	if err != nil || len(page.Orders) != 0 {
		t.Errorf("the other customer's orders = %+v, %v; want none", page.Orders, err)
	}

	// And staff create orders for anyone, a service for no one
	if _, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: bob.CustomerID}, apptest.AsStaff); err != nil {
		t.Errorf("staff create for a customer: %v", err)
	}
	if _, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: bob.CustomerID}, as(service)); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("service create = %v, want ErrForbidden", err)
	}
}

// Another customer's order must be indistinguishable from a missing one,
// for every read and every command: the same kind of error, the same
// message.
func TestAnotherCustomersOrderIsNotFound(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	alice, mallory := customer(uuid.New()), customer(uuid.New())
	created, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice))
	if err != nil {
		t.Fatal(err)
	}
	theirs, missing := created.Order.ID, uuid.New()
	at := time.Now().Add(time.Hour)

	reads := []struct {
		name string
		do   func(id uuid.UUID) error
	}{
		{"get", func(id uuid.UUID) error { _, err := svc.GetOrder(ctx, mallory, id); return err }},
		{"history", func(id uuid.UUID) error {
			_, err := svc.OrderEvents(ctx, mallory, app.EventQuery{OrderID: id})
			return err
		}},
		{"history page", func(id uuid.UUID) error {
			_, err := svc.OrderEventPage(ctx, mallory, app.EventQuery{OrderID: id})
			return err
		}},
		{"a version it has", func(id uuid.UUID) error { _, err := svc.OrderAt(ctx, mallory, id, app.AtVersion(1)); return err }},
		{"a version it has not", func(id uuid.UUID) error { _, err := svc.OrderAt(ctx, mallory, id, app.AtVersion(9)); return err }},
		{"as of a time", func(id uuid.UUID) error { _, err := svc.OrderAt(ctx, mallory, id, app.AsOf(at)); return err }},
		{"add an item", func(id uuid.UUID) error {
			_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: as(mallory)}, item("Mug"))
			return err
		}},
		{"remove an item", func(id uuid.UUID) error {
			_, err := svc.RemoveItem(ctx, app.Target{OrderID: id, Metadata: as(mallory)}, uuid.New())
			return err
		}},
		{"cancel", func(id uuid.UUID) error {
			_, err := svc.CancelOrder(ctx, app.Target{OrderID: id, Metadata: as(mallory)}, "mine now", "")
			return err
		}},
	}
	for _, r := range reads {
		// When another customer reads or changes the order, and an order
		// that does not exist
		errTheirs, errMissing := r.do(theirs), r.do(missing)

		// Then both are not found, told in the same words
		got := notFoundMessage(t, errTheirs)
		want := notFoundMessage(t, errMissing)
		if got != want {
			// as_of names the order: compare with the ids swapped.
			if r.name != "as of a time" || got != replaceID(want, missing, theirs) {
				t.Errorf("%s: another's order says %q, a missing one %q", r.name, got, want)
			}
		}
	}

	// And the order is unchanged: still the owner's, at version 1
	o, err := svc.GetOrder(ctx, alice, theirs)
	if err != nil || o.Version != 1 || o.Status != order.StatusDraft {
		t.Errorf("owner's order = %+v, %v; want the untouched draft", o, err)
	}
	// And the owner, staff and services read it
	for _, p := range []app.Principal{alice, apptest.Staff, service} {
		if _, err := svc.OrderAt(ctx, p, theirs, app.AtVersion(1)); err != nil {
			t.Errorf("%s reads the order at version 1: %v", p.Subject, err)
		}
	}
	// And a service sends no command, even on an order it may read
	if _, err := svc.AddItem(ctx, app.Target{OrderID: theirs, Metadata: as(service)}, item("Mug")); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("service add item = %v, want not found", err)
	}
}

func replaceID(s string, from, to uuid.UUID) string {
	out := []byte(s)
	f, tt := from.String(), to.String()
	for i := 0; i+len(f) <= len(out); i++ {
		if string(out[i:i+len(f)]) == f {
			copy(out[i:], tt)
		}
	}
	return string(out)
}

func TestCustomersListTheirOwnOrdersOnly(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	alice, bob := customer(uuid.New()), customer(uuid.New())
	if _, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice)); err != nil {
		t.Fatal(err)
	}

	// When a customer lists its own orders, then another's
	own, errOwn := svc.ListCustomerOrders(ctx, alice, app.ListQuery{CustomerID: alice.CustomerID})
	_, errOther := svc.ListCustomerOrders(ctx, bob, app.ListQuery{CustomerID: alice.CustomerID})

	// Then its own are listed, another's are forbidden whatever they hold
	if errOwn != nil || len(own.Orders) != 1 {
		t.Errorf("own list = %+v, %v; want one order", own.Orders, errOwn)
	}
	if !errors.Is(errOther, app.ErrForbidden) {
		t.Errorf("another's list = %v, want ErrForbidden", errOther)
	}
	// And staff and services list anyone's
	for _, p := range []app.Principal{apptest.Staff, service} {
		if page, err := svc.ListCustomerOrders(ctx, p, app.ListQuery{CustomerID: alice.CustomerID}); err != nil || len(page.Orders) != 1 {
			t.Errorf("%s lists = %+v, %v", p.Subject, page.Orders, err)
		}
	}
}

func TestCancellationRecordsTheVerifiedCanceller(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	alice := customer(uuid.New())
	created, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice))
	if err != nil {
		t.Fatal(err)
	}
	target := app.Target{OrderID: created.Order.ID, Metadata: as(alice)}

	// When the customer names someone else as the canceller
	_, err = svc.CancelOrder(ctx, target, "changed my mind", "support")

	// Then it is refused on cancelled_by, and nothing is written
	var oe *order.Error
	if !errors.As(err, &oe) || len(oe.Fields) != 1 || oe.Fields[0].Field != "cancelled_by" || oe.Fields[0].Code != order.FieldNotCaller {
		t.Fatalf("cancel naming another = %v, want a not_caller error on cancelled_by", err)
	}

	// When it cancels without naming anyone
	res, err := svc.CancelOrder(ctx, target, "changed my mind", "")

	// Then the order and its event name the principal, verified
	if err != nil || res.Order.CancelledBy != alice.Subject {
		t.Fatalf("cancel = %+v, %v; want cancelled by %s", res.Order, err, alice.Subject)
	}
	events, err := svc.OrderEvents(ctx, alice, app.EventQuery{OrderID: created.Order.ID})
	if err != nil || len(events) != 2 {
		t.Fatalf("events = %v, %v", events, err)
	}
	last := events[1]
	if string(last.Data) != `{"order_id":"`+created.Order.ID.String()+`","reason":"changed my mind","cancelled_by":"`+alice.Subject+`","cancelled_by_verified":true}` {
		t.Errorf("cancellation data = %s", last.Data)
	}
	// And every event's metadata records the principal with its roles
	for _, e := range events {
		if e.Metadata.Principal.Subject != alice.Subject || e.Metadata.Principal.Roles != alice.Roles {
			t.Errorf("event %d metadata principal = %+v, want %+v", e.Version, e.Metadata.Principal, alice)
		}
	}
}

func TestIdempotencyKeysAreScopedByPrincipal(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	alice, bob := customer(uuid.New()), customer(uuid.New())
	key := app.Idempotency{Key: "checkout-1", Fingerprint: sha256.Sum256([]byte("POST /v1/orders {}"))}

	// Given a customer's order made with a key
	first, err := svc.CreateOrder(ctx, app.NewOrder{Idempotency: key}, as(alice))
	if err != nil {
		t.Fatal(err)
	}

	// When another customer sends the very same request with that key
	second, err := svc.CreateOrder(ctx, app.NewOrder{Idempotency: key}, as(bob))

	// Then it is its own request: a new order of its own, not a replay of
	// the first customer's answer
	if err != nil || second.Replayed || second.Order.ID == first.Order.ID || second.Order.CustomerID != bob.CustomerID {
		t.Fatalf("second principal's request = %+v, %v; want a new order of its own", second, err)
	}
	// And each principal's retry replays its own answer
	for _, tt := range []struct {
		p    app.Principal
		want uuid.UUID
	}{{alice, first.Order.ID}, {bob, second.Order.ID}} {
		res, err := svc.CreateOrder(ctx, app.NewOrder{Idempotency: key}, as(tt.p))
		if err != nil || !res.Replayed || res.Order.ID != tt.want {
			t.Errorf("retry as %s = %+v, %v; want a replay of %s", tt.p.Subject, res, err, tt.want)
		}
		if res, found, err := svc.Replay(ctx, tt.p, key); err != nil || !found || res.Order.ID != tt.want {
			t.Errorf("Replay as %s = %+v, %v, %v; want %s", tt.p.Subject, res, found, err, tt.want)
		}
	}
}

// A key claimed before requests had principals answers the same request's
// retry, to a principal who may see its order, and no one else.
func TestUnscopedKeysReplayOnlyToThoseWhoSeeTheOrder(t *testing.T) {
	t.Parallel()
	svc, pool := newServiceOn(t, nil, app.Config{})
	ctx := context.Background()
	alice, bob := customer(uuid.New()), customer(uuid.New())
	key := app.Idempotency{Key: "old-key", Fingerprint: sha256.Sum256([]byte("add mug"))}

	// Given an order of alice's with an item added under a key claimed
	// before keys were scoped
	created, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice))
	if err != nil {
		t.Fatal(err)
	}
	mug := item("Mug")
	added, err := svc.AddItem(ctx, app.Target{OrderID: created.Order.ID, Idempotency: key, Metadata: as(alice)}, mug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET principal = '' WHERE key = $1`, key.Key); err != nil {
		t.Fatal(err)
	}

	// When the owner retries it
	res, found, err := svc.Replay(ctx, alice, key)

	// Then the first answer is replayed
	if err != nil || !found || !res.Replayed || res.Order.Version != added.Order.Version {
		t.Errorf("owner's retry = %+v, %v, %v; want a replay at version %d", res, found, err, added.Order.Version)
	}
	// And to another customer the key is free: nothing is told of it
	if _, found, err := svc.Replay(ctx, bob, key); found || err != nil {
		t.Errorf("another customer's Replay = %v, %v; want not found", found, err)
	}
	// And a different request with the key is no replay either, and not
	// refused as a reuse: the unscoped claim is not the principal's
	other := app.Idempotency{Key: key.Key, Fingerprint: sha256.Sum256([]byte("add jug"))}
	if _, found, err := svc.Replay(ctx, alice, other); found || err != nil {
		t.Errorf("a different request's Replay = %v, %v; want not found", found, err)
	}
}

// What a service tells its observer (and so the public metrics) of a
// command on another customer's order must be what it tells of one on a
// missing order, even when the order's state is kept from a recent
// command.
func TestAnotherCustomersOrderLooksMissingToTheObserver(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	svc, _ := newServiceOn(t, nil, app.Config{Observer: rec})
	ctx := context.Background()
	alice, mallory := customer(uuid.New()), customer(uuid.New())

	// Given alice's order, kept by the service after her last command
	created, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddItem(ctx, app.Target{OrderID: created.Order.ID, Metadata: as(alice)}, item("Mug")); err != nil {
		t.Fatal(err)
	}
	rec.take()
	rec.takeStates()

	for _, id := range []uuid.UUID{created.Order.ID, uuid.New()} {
		// When mallory sends a command on it, and on a missing order
		_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: as(mallory)}, item("Jug"))

		// Then both are not found, and the observer hears the same of each:
		// the command's outcome and no state used
		if !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("add item = %v, want not found", err)
		}
		commands, _ := rec.take()
		if want := []commandDone{{"add_item", app.OutcomeNotFound, 0}}; !reflect.DeepEqual(commands, want) {
			t.Errorf("observed %+v, want %+v", commands, want)
		}
		if states := rec.takeStates(); len(states) != 0 {
			t.Errorf("states used %v, want none", states)
		}
	}
}

// loadCounter counts the streams a service loads.
type loadCounter struct {
	app.EventStore
	mu    sync.Mutex
	loads int
}

func (l *loadCounter) Load(ctx context.Context, id uuid.UUID) (order.Order, error) {
	l.mu.Lock()
	l.loads++
	l.mu.Unlock()
	return l.EventStore.Load(ctx, id)
}

func (l *loadCounter) take() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.loads
	l.loads = 0
	return n
}

// A command on another customer's order never loads its stream: what a
// load does (snapshot reads, events folded) shows in the store's metrics,
// and would tell the order from a missing one.
func TestCommandsOnAnotherCustomersOrderLoadNothing(t *testing.T) {
	t.Parallel()
	var counted *loadCounter
	svc, _ := newServiceOn(t, func(s app.EventStore) app.EventStore {
		counted = &loadCounter{EventStore: s}
		return counted
	}, app.Config{StateCacheSize: -1})
	ctx := context.Background()
	alice, mallory := customer(uuid.New()), customer(uuid.New())
	created, err := svc.CreateOrder(ctx, app.NewOrder{}, as(alice))
	if err != nil {
		t.Fatal(err)
	}

	for _, id := range []uuid.UUID{created.Order.ID, uuid.New()} {
		// When another customer sends a command on it, and on a missing
		// order
		_, err := svc.CancelOrder(ctx, app.Target{OrderID: id, Metadata: as(mallory)}, "mine now", "")

		// Then neither is found, and neither stream is loaded
		if !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("cancel = %v, want not found", err)
		}
		if n := counted.take(); n != 0 {
			t.Errorf("order %s: %d loads, want none", id, n)
		}
	}
	// And the owner's command loads it, as ever
	if _, err := svc.CancelOrder(ctx, app.Target{OrderID: created.Order.ID, Metadata: as(alice)}, "changed my mind", ""); err != nil {
		t.Fatal(err)
	}
	if n := counted.take(); n != 1 {
		t.Errorf("owner's command: %d loads, want 1", n)
	}
}
