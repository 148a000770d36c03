package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// newCoalescingStore is a store whose reads run one statement at a time,
// so that every read arriving meanwhile waits and joins the next: the
// most coalescing a store does.
func newCoalescingStore(t *testing.T) *eventstore.Store {
	t.Helper()
	s := eventstore.New(pgtest.New(t), eventstore.Config{Reads: coalesce.Config{MaxInFlight: 1}})
	t.Cleanup(s.Close)
	return s
}

func TestOneStatementAnswersEachOrderOfABatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a placed order (its shipping address set), a new one (its
	// nullable columns NULL), an order whose row this build cannot read,
	// and an id of no order
	s, pool := newStore(t)
	placed := create(t, s, uuid.New(), uuid.New(), t0)
	placed = do(t, s, placed, t0.Add(time.Second), addItem("Mug", "19.99", 2))
	placed = do(t, s, placed, t0.Add(2*time.Second), place)
	fresh := create(t, s, uuid.New(), uuid.New(), t0)
	broken := create(t, s, uuid.New(), uuid.New(), t0)
	if _, err := pool.Exec(ctx, `UPDATE order_details SET status = 'lost' WHERE order_id = $1`, broken.ID); err != nil {
		t.Fatal(err)
	}
	missing := uuid.New()

	// When they are read in one batch, in either order
	for _, ids := range [][]uuid.UUID{
		{placed.ID, missing, fresh.ID, broken.ID},
		{broken.ID, fresh.ID, missing, placed.ID},
	} {
		rs, err := s.ReadOrders(ctx, ids)
		if err != nil || len(rs) != len(ids) {
			t.Fatalf("ReadOrders = %d results, %v", len(rs), err)
		}
		// Then each id has its own answer, at its place
		for i, id := range ids {
			r := rs[i]
			switch id {
			case placed.ID, fresh.ID:
				want := map[uuid.UUID]order.Order{placed.ID: placed, fresh.ID: fresh}[id]
				if r.Err != nil || !sameOrder(r.Value, want) {
					t.Errorf("order %s: %+v, %v\nwant %+v", id, r.Value, r.Err, want)
				}
			case missing:
				if !errors.Is(r.Err, order.ErrNotFound) {
					t.Errorf("missing order: %+v, %v; want order.ErrNotFound", r.Value, r.Err)
				}
			case broken.ID:
				if r.Err == nil || errors.Is(r.Err, order.ErrNotFound) {
					t.Errorf("unreadable order: %+v, %v; want an error of its own", r.Value, r.Err)
				}
			}
		}
	}
}

func TestBatchesOfEverySizeAreRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given 40 orders, and as many ids of no order, interleaved
	s, _ := newStore(t)
	orders := make(map[uuid.UUID]order.Order)
	var ids []uuid.UUID
	for range 40 {
		o := create(t, s, uuid.New(), uuid.New(), t0)
		orders[o.ID] = o
		ids = append(ids, o.ID, uuid.New())
	}

	// When batches of 1 to 64 of them are read
	for n := 1; n <= 64; n++ {
		rs, err := s.ReadOrders(ctx, ids[:n])
		if err != nil || len(rs) != n {
			t.Fatalf("ReadOrders of %d = %d results, %v", n, len(rs), err)
		}
		// Then each id has its own answer
		for i, id := range ids[:n] {
			want, found := orders[id]
			if found && (rs[i].Err != nil || !sameOrder(rs[i].Value, want)) ||
				!found && !errors.Is(rs[i].Err, order.ErrNotFound) {
				t.Errorf("batch of %d, order %s: %+v, %v", n, id, rs[i].Value, rs[i].Err)
			}
		}
	}
}

// A batch's statement is planned once per connection, not at every
// execution as "order_id = ANY($1)" with an array was: planning cost the
// database more than the read.
func TestReadsOfOrdersKeepTheirPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a store on one connection, and orders
	pool, err := pgxpool.New(ctx, pgtest.NewURL(t)+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := eventstore.New(pool, eventstore.Config{})
	var ids []uuid.UUID
	for range 3 {
		ids = append(ids, create(t, s, uuid.New(), uuid.New(), t0).ID)
	}

	// When batches of one and of three are read ten times each
	for range 10 {
		for _, batch := range [][]uuid.UUID{ids[:1], ids} {
			if _, err := s.ReadOrders(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Then both statements were run on plans kept from earlier runs
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE $1`,
		"%FROM order_details%")
	if err != nil {
		t.Fatal(err)
	}
	type prepared struct {
		Statement       string
		Generic, Custom int64
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[prepared])
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 2 {
		t.Fatalf("%d statements prepared, want 2: %+v", len(stmts), stmts)
	}
	for _, p := range stmts {
		if p.Generic < 5 {
			t.Errorf("%d of %d runs on a kept plan, want 5 or more: %s", p.Generic, p.Generic+p.Custom, p.Statement)
		}
	}
}

func TestConcurrentReadsOfFoundAndMissingOrdersAreEachAnswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given ten orders, one of them placed, and ten ids of no order
	s := newCoalescingStore(t)
	orders := make(map[uuid.UUID]order.Order)
	var ids []uuid.UUID
	for i := range 10 {
		o := create(t, s, uuid.New(), uuid.New(), t0)
		if i == 0 {
			o = do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 2))
			o = do(t, s, o, t0.Add(2*time.Second), place)
		}
		orders[o.ID] = o
		ids = append(ids, o.ID, uuid.New())
	}

	// When 32 readers read them all, over and over, at once
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 40 {
				id := ids[(g+i)%len(ids)]
				got, err := s.GetOrder(ctx, id)

				// Then each found order is its own, each missing one
				// not found
				want, found := orders[id]
				switch {
				case found && (err != nil || !sameOrder(got, want)):
					t.Errorf("GetOrder(%s) = %+v, %v\nwant %+v", id, got, err, want)
				case !found && !errors.Is(err, order.ErrNotFound):
					t.Errorf("GetOrder(%s) = %+v, %v; want order.ErrNotFound", id, got, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestAReadAfterACommitSeesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given readers keeping the store's reads busy, so that a read waits
	// behind one that started earlier
	s := newCoalescingStore(t)
	others := create(t, s, uuid.New(), uuid.New(), t0)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.GetOrder(ctx, others.ID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}

	// When writers change their orders and read each back at once
	var writers sync.WaitGroup
	for range 4 {
		writers.Go(func() {
			o := create(t, s, uuid.New(), uuid.New(), t0)
			for i := range 25 {
				o = do(t, s, o, t0.Add(time.Duration(i+1)*time.Second), addItem("Pin", "1.00", 1))
				got, err := s.GetOrder(ctx, o.ID)

				// Then every read shows the write just committed
				if err != nil || got.Version != o.Version {
					t.Errorf("GetOrder after version %d committed = version %d, %v", o.Version, got.Version, err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
}

func TestAClosedStoreRefusesReads(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	o := create(t, s, uuid.New(), uuid.New(), t0)

	s.Close()

	if _, err := s.GetOrder(context.Background(), o.ID); !errors.Is(err, coalesce.ErrClosed) {
		t.Errorf("GetOrder after Close = %v, want coalesce.ErrClosed", err)
	}
}
