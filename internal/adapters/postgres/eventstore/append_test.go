package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestAppendLoadLifeCycle(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order taken through its whole life, one commit per command
	o := create(t, s, uuid.New(), uuid.New(), t0)
	o = do(t, s, o, t0.Add(1*time.Second), addItem("Mug", "19.99", 3))
	o = do(t, s, o, t0.Add(2*time.Second), addItem("Tea «日本» 🍵", "0.0001", 7))
	o = do(t, s, o, t0.Add(3*time.Second), addItem("Gold", "9999999.9999", 1))
	gold := o.Items[2].ProductID
	o = do(t, s, o, t0.Add(4*time.Second), func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(gold) })
	o = do(t, s, o, t0.Add(5*time.Second), place)
	o = do(t, s, o, t0.Add(6*time.Second), func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") })
	o = do(t, s, o, t0.Add(7*time.Second), func(o *order.Order) ([]order.Event, error) {
		return o.Deliver(t0.Add(time.Hour), t0.Add(time.Hour), "A. Lovelace")
	})

	// When it is loaded
	got, err := s.Load(ctx, o.ID)
	if err != nil {
		t.Fatalf("load: %v", err)
	}

	// Then the replay is exactly the state the commands built
	if !sameOrder(got, o) {
		t.Errorf("load =\n%+v\nwant\n%+v", got, o)
	}
	if got.Version != 8 || got.Status != order.StatusDelivered || got.Total().String() != "59.9707" {
		t.Errorf("version %d status %s total %s, want 8 delivered 59.9707", got.Version, got.Status, got.Total())
	}
	// And the stream is versions 1..8 with positions rising with them
	assertStream(t, pool, o.ID, 8)
}

func TestAppendLoadCancel(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)

	// Given a placed order that is then cancelled
	o := create(t, s, uuid.New(), uuid.New(), t0)
	o = do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 1))
	o = do(t, s, o, t0.Add(2*time.Second), place)
	o = do(t, s, o, t0.Add(3*time.Second), func(o *order.Order) ([]order.Event, error) {
		return o.Cancel("changed mind", "customer")
	})

	// When it is loaded
	got, err := s.Load(context.Background(), o.ID)

	// Then it is the cancelled state, with who and why
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !sameOrder(got, o) || got.Status != order.StatusCancelled || got.CancelledAt != t0.Add(3*time.Second) {
		t.Errorf("load =\n%+v\nwant\n%+v", got, o)
	}
}

func TestAppendSeveralEventsInOneCommit(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given a new order
	id := uuid.New()
	created, err := order.Create(id, uuid.New(), "EUR")
	if err != nil {
		t.Fatal(err)
	}
	var o order.Order
	o.Apply(created[0], t0) // the state after Created, to decide the next events on
	added, err := o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: "Mug", Quantity: 2, UnitPrice: price("4.50")})
	if err != nil {
		t.Fatal(err)
	}

	// When Created and ItemAdded are appended in one commit
	c := commitOf(t, order.Order{ID: id}, t0, created[0], added[0])
	appended, err := s.Append(ctx, c)
	if err != nil {
		t.Fatalf("append: %v", err)
	}

	// Then both are stored, in order, and LastPosition is the second's
	positions := assertStream(t, pool, id, 2)
	if appended.LastPosition != positions[1] {
		t.Errorf("LastPosition %d, want %d", appended.LastPosition, positions[1])
	}
	got, err := s.Load(ctx, id)
	if err != nil || !sameOrder(got, c.State) {
		t.Errorf("load = %+v, %v\nwant %+v", got, err, c.State)
	}
}

func TestLoadUnknownOrder(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)

	_, err := s.Load(context.Background(), uuid.New())

	if !errors.Is(err, order.ErrNotFound) {
		t.Errorf("load unknown order: %v, want order.ErrNotFound", err)
	}
}

// assertStream checks that the order's stream is versions 1..n with
// positions rising with the versions, and returns the positions.
func assertStream(t *testing.T, pool *pgxpool.Pool, id uuid.UUID, n int) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT stream_version, position FROM events WHERE stream_id = $1 ORDER BY position`, id)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	type entry struct {
		Version  int
		Position int64
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	if len(entries) != n {
		t.Fatalf("stream has %d events, want %d: %v", len(entries), n, entries)
	}
	positions := make([]int64, n)
	for i, e := range entries {
		if e.Version != i+1 {
			t.Errorf("event %d in position order has version %d: %v", i, e.Version, entries)
		}
		positions[i] = e.Position
	}
	return positions
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	// Given a store whose database does not answer (nothing listens on
	// port 1)
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := eventstore.New(pool, eventstore.Config{})
	ctx := context.Background()

	// When it is asked anything, then it says "unavailable", not a bare error
	_, err = store.Load(ctx, uuid.New())
	if !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Load: %v, want %v", err, app.ErrUnavailable)
	}
	_, err = store.GetOrder(ctx, uuid.New())
	if !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("GetOrder: %v, want %v", err, app.ErrUnavailable)
	}
	_, err = store.ListCustomerOrders(ctx, app.ListQuery{CustomerID: uuid.New(), Limit: 1})
	if !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("ListCustomerOrders: %v, want %v", err, app.ErrUnavailable)
	}
}
