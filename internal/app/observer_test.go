package app_test

import (
	"context"
	"crypto/sha256"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// recorder is an app.Observer that remembers what it was told.
type recorder struct {
	mu       sync.Mutex
	commands []commandDone
	events   []string
	states   []app.StateSource
}

type commandDone struct {
	Command string
	Outcome app.Outcome
	Retries int
}

func (r *recorder) CommandDone(command string, outcome app.Outcome, retries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, commandDone{command, outcome, retries})
}

func (r *recorder) EventsAppended(events []app.NewEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		r.events = append(r.events, e.Event.EventType())
	}
}

func (r *recorder) StateUsed(source app.StateSource) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, source)
}

// takeStates returns the state sources recorded since the last call.
func (r *recorder) takeStates() []app.StateSource {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.states
	r.states = nil
	return s
}

// take returns what was recorded since the last take.
func (r *recorder) take() ([]commandDone, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, e := r.commands, r.events
	r.commands, r.events = nil, nil
	return c, e
}

// losingStore loses every append to another writer.
type losingStore struct{ app.EventStore }

func (losingStore) Append(context.Context, app.Commit) (app.Appended, error) {
	return app.Appended{}, app.ErrAppendConflict
}

func TestObserverIsToldHowCommandsEnd(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{})
	rec := &recorder{}
	svc, err := app.NewService(store, store, app.Config{Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	losing, err := app.NewService(losingStore{store}, store, app.Config{Observer: rec, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	rec.take()
	id := created.Order.ID
	mug := item("Mug")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	key := app.Idempotency{Key: "tea", Fingerprint: sha256.Sum256([]byte("tea"))}
	tea := item("Tea")

	tests := []struct {
		name       string
		when       func() error
		want       commandDone
		wantEvents []string
	}{
		{"a created order", func() error {
			_, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
			return err
		}, commandDone{"create_order", app.OutcomeOK, 0}, []string{order.TypeCreated}},
		{"an added item", func() error {
			_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, mug)
			return err
		}, commandDone{"add_item", app.OutcomeOK, 0}, []string{order.TypeItemAdded}},
		{"the same product again", func() error {
			_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, mug)
			return err
		}, commandDone{"add_item", app.OutcomeRejected, 0}, nil},
		{"a quantity of zero", func() error {
			it := item("Cup")
			it.Quantity = 0
			_, err := svc.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, it)
			return err
		}, commandDone{"add_item", app.OutcomeInvalid, 0}, nil},
		{"an unknown order", func() error {
			_, err := svc.CancelOrder(ctx, app.Target{OrderID: uuid.New(), Metadata: apptest.AsStaff}, "changed my mind", "")
			return err
		}, commandDone{"cancel_order", app.OutcomeNotFound, 0}, nil},
		{"a stale version", func() error {
			_, err := svc.RemoveItem(ctx, app.Target{OrderID: id, ExpectedVersion: 1, Metadata: apptest.AsStaff}, mug.ProductID)
			return err
		}, commandDone{"remove_item", app.OutcomePreconditionFailed, 0}, nil},
		{"a keyed request", func() error {
			_, err := svc.AddItem(ctx, app.Target{OrderID: id, Idempotency: key, Metadata: apptest.AsStaff}, tea)
			return err
		}, commandDone{"add_item", app.OutcomeOK, 0}, []string{order.TypeItemAdded}},
		{"the keyed request again", func() error {
			_, err := svc.AddItem(ctx, app.Target{OrderID: id, Idempotency: key, Metadata: apptest.AsStaff}, tea)
			return err
		}, commandDone{"add_item", app.OutcomeReplayed, 0}, nil},
		{"every append lost to another writer", func() error {
			_, err := losing.AddItem(ctx, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Jug"))
			return err
		}, commandDone{"add_item", app.OutcomeConflict, 2}, nil},
		{"a request already ended", func() error {
			_, err := svc.AddItem(cancelled, app.Target{OrderID: id, Metadata: apptest.AsStaff}, item("Pot"))
			return err
		}, commandDone{"add_item", app.OutcomeError, 0}, nil},
	}
	for _, tt := range tests {
		// Given the order so far; when the command runs
		err := tt.when()
		if (tt.want.Outcome == app.OutcomeOK || tt.want.Outcome == app.OutcomeReplayed) != (err == nil) {
			t.Errorf("%s: error %v", tt.name, err)
		}
		// Then the observer is told once how it ended, and of its events
		commands, events := rec.take()
		if !reflect.DeepEqual(commands, []commandDone{tt.want}) {
			t.Errorf("%s: observed %+v, want %+v", tt.name, commands, tt.want)
		}
		if !reflect.DeepEqual(events, tt.wantEvents) {
			t.Errorf("%s: events %v, want %v", tt.name, events, tt.wantEvents)
		}
	}
}
