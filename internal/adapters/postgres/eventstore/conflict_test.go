package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestAppendSameExpectedVersionOneWins(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order at version 1, and two commands decided on that version
	o := create(t, s, uuid.New(), uuid.New(), t0)
	first := commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 1))...)
	second := commitOf(t, o, t0.Add(2*time.Second), mustDecide(t, o, addItem("Tea", "4.50", 2))...)

	// When both are appended
	_, err1 := s.Append(ctx, first)
	_, err2 := s.Append(ctx, second)

	// Then the first wins and the second is a version conflict
	if err1 != nil {
		t.Fatalf("first append: %v", err1)
	}
	if !errors.Is(err2, app.ErrAppendConflict) {
		t.Fatalf("second append: %v, want app.ErrAppendConflict", err2)
	}
	// And the stream holds the winner's event once, without a gap
	assertStream(t, pool, o.ID, 2)
	if got, err := s.Load(ctx, o.ID); err != nil || !sameOrder(got, first.State) {
		t.Errorf("load = %+v, %v\nwant %+v", got, err, first.State)
	}
}

func TestAppendConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expected  func(current int) int
		wantState string // the SQLSTATE PostgreSQL refused with
	}{
		{"expected version ahead of the stream", func(current int) int { return current + 1 }, "OAGAP"},
		{"expected version far ahead of the stream", func(current int) int { return current + 10 }, "OAGAP"},
		{"expected version behind the stream", func(current int) int { return current - 1 }, "23505"},
		{"expected version 0 on an existing stream", func(int) int { return 0 }, "23505"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			ctx := context.Background()

			// Given an order at version 2
			o := create(t, s, uuid.New(), uuid.New(), t0)
			o = do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 1))
			before := snapshotTables(t, pool)

			// When a commit expects another version
			stale := o
			stale.Version = tt.expected(o.Version)
			c := commitOf(t, stale, t0.Add(2*time.Second), mustDecide(t, o, addItem("Tea", "4.50", 2))...)
			_, err := s.Append(ctx, c)

			// Then it is a version conflict, classified by SQLSTATE
			if !errors.Is(err, app.ErrAppendConflict) {
				t.Fatalf("append: %v, want app.ErrAppendConflict", err)
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.wantState {
				t.Errorf("cause %v, want SQLSTATE %s", err, tt.wantState)
			}
			// And nothing was written
			if after := snapshotTables(t, pool); after != before {
				t.Errorf("tables changed by a refused append:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestAppendCreateTwice(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)

	// Given an existing order
	o := create(t, s, uuid.New(), uuid.New(), t0)
	before := snapshotTables(t, pool)

	// When another create for the same id is appended
	events, err := order.Create(o.ID, uuid.New(), "EUR")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(context.Background(), commitOf(t, order.Order{ID: o.ID}, t0.Add(time.Second), events...))

	// Then it conflicts and changes nothing, projections included
	if !errors.Is(err, app.ErrAppendConflict) {
		t.Fatalf("append: %v, want app.ErrAppendConflict", err)
	}
	if after := snapshotTables(t, pool); after != before {
		t.Errorf("tables changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestAppendRace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, s *eventstore.Store) order.Order // the state every writer starts from
	}{
		{"to an existing stream", func(t *testing.T, s *eventstore.Store) order.Order {
			return create(t, s, uuid.New(), uuid.New(), t0)
		}},
		{"creating the same order", func(t *testing.T, _ *eventstore.Store) order.Order {
			return order.Order{ID: uuid.New()}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			o := tt.setup(t, s)
			const writers = 20

			// Given 20 writers that decided on the same version
			commits := make([]app.Commit, writers)
			for i := range commits {
				var events []order.Event
				if o.Version == 0 {
					events = mustDecide(t, o, func(*order.Order) ([]order.Event, error) {
						return order.Create(o.ID, uuid.New(), "USD")
					})
				} else {
					events = mustDecide(t, o, addItem("Item", "1.25", int64(i+1)))
				}
				commits[i] = commitOf(t, o, t0.Add(time.Minute), events...)
			}

			// When they all append at once
			errs := make([]error, writers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range commits {
				wg.Go(func() {
					<-start
					_, errs[i] = s.Append(context.Background(), commits[i])
				})
			}
			close(start)
			wg.Wait()

			// Then exactly one wins and every other gets a version conflict
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("writers %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, app.ErrAppendConflict):
					t.Errorf("writer %d: %v, want app.ErrAppendConflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			// And the stream and the projection hold the winner's state
			assertStream(t, pool, o.ID, o.Version+1)
			got, err := s.GetOrder(context.Background(), o.ID)
			if err != nil || !sameOrder(got, commits[winner].State) {
				t.Errorf("projection = %+v, %v\nwant %+v", got, err, commits[winner].State)
			}
		})
	}
}

// mustDecide runs a command on a copy of o and returns its events.
func mustDecide(t testing.TB, o order.Order, command func(*order.Order) ([]order.Event, error)) []order.Event {
	t.Helper()
	events, err := command(&o)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	return events
}
