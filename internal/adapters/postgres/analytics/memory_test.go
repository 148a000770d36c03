package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// The consumer remembers the states of the orders it counted while it
// holds the lock. These tests move the lock, fail batches, count behind
// its back and empty the projection under it, and hold both the daily
// figures and every order's stored state to a recount from the events:
// what it remembers must never make either differ.

// TestAnalyticsMemoryAcrossHandovers hands the lock from one replica to
// the other and back, mid-stream, while the same orders keep changing:
// a replica that takes the lock again must not count from what it
// remembered of its last holding.
func TestAnalyticsMemoryAcrossHandovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	s2 := eventstore.New(secondPool(t, pool), eventstore.Config{})
	a := newAnalytics(t, s, analytics.Config{BatchSize: 4})
	b := newAnalytics(t, s2, analytics.Config{BatchSize: 4})
	h := newRandomHistory(t, s, 11)

	// Given a holds the lock and has counted part of the history
	stopA := runAnalytics(t, a)
	waitFor(t, "a to take the lock", a.HoldsLock)
	for round := range 6 {
		if err := h.run(ctx, 40); err != nil {
			t.Fatal(err)
		}
		// When the holder stops mid-stream and the other takes over,
		// then the first runs again to take it back next round
		stopB := runAnalytics(t, b)
		stopA()
		waitFor(t, "b to take the lock", b.HoldsLock)
		if err := h.run(ctx, 40); err != nil {
			t.Fatal(err)
		}
		stopA = runAnalytics(t, a)
		stopB()
		waitFor(t, fmt.Sprintf("a to take the lock back (round %d)", round), a.HoldsLock)
	}
	waitCaughtUp(t, pool, a)

	// Then the figures and every order's state are exact
	assertExact(t, pool)
	assertStates(t, s, pool)
}

// TestAnalyticsMemoryAfterFailedBatches kills the consumer's session
// inside batches, after the fold has changed what it remembers and before
// the commit, again and again while the same orders change: each retry
// counts from the database.
func TestAnalyticsMemoryAfterFailedBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	h := newRandomHistory(t, s, 12)
	var killed, batches atomic.Int32
	a := newAnalytics(t, s, analytics.Config{BatchSize: 3})
	a.SetBeforeCommit(func(context.Context) {
		if batches.Add(1)%5 == 0 {
			terminateLockHolder(t, pool)
			killed.Add(1)
		}
	})
	runAnalytics(t, a)
	if err := h.run(ctx, 300); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, pool, a)
	if killed.Load() < 5 {
		t.Fatalf("killed %d batches, want at least 5", killed.Load())
	}
	assertExact(t, pool)
	assertStates(t, s, pool)
}

// TestAnalyticsMemoryWithASecondConsumerCounting lets a second consumer,
// bypassing the lock as if it had failed, count what the holder has not
// read yet: the holder's next batch is refused, and it must forget what
// it remembered, since the other changed stored states it never saw.
func TestAnalyticsMemoryWithASecondConsumerCounting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)

	// Given a holder that has counted five draft orders of one item each
	// and remembers them, and reads again only when the test wakes it
	orders := make([]order.Order, 5)
	for i := range orders {
		orders[i] = create(t, s, uuid.New(), uuid.New(), t0)
		orders[i] = do(t, s, orders[i], t0, addItem("Cup", "2.50", 2))
	}
	wake := manualWaker(make(chan struct{}, 1))
	a := newAnalytics(t, s, analytics.Config{BatchSize: 2, Poll: time.Hour, Wake: wake})
	runAnalytics(t, a)
	waitCaughtUp(t, pool, a)

	// When each order gets a second item, and a second consumer counts
	// those
	for i := range orders {
		orders[i] = do(t, s, orders[i], t0, addItem("Saucer", "1.25", 3))
	}
	bypass := newAnalytics(t, s, analytics.Config{BatchSize: 20})
	at, err := a.AnalyticsPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := bypass.CountBatch(ctx, acquire(t, pool).Conn(), at); err != nil || n != len(orders) {
		t.Fatalf("the second consumer counted %d events: %v", n, err)
	}

	// And the orders are placed, and the holder woken
	for i := range orders {
		orders[i] = do(t, s, orders[i], t0, func(o *order.Order) ([]order.Event, error) { return o.Place(address) })
	}
	wake <- struct{}{}
	waitCaughtUp(t, pool, a)

	// Then the holder counted each order's five units when it was placed
	assertExact(t, pool)
	assertStates(t, s, pool)
}

// manualWaker wakes a consumer when the test sends on it.
type manualWaker chan struct{}

func (w manualWaker) Subscribe() (<-chan struct{}, func()) { return w, func() {} }

// TestAnalyticsMemoryAcrossResets empties the projection and moves its
// checkpoint back (a rebuild) while the consumer runs, several times:
// it counts everything again from the events, remembering nothing from
// before.
func TestAnalyticsMemoryAcrossResets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	h := newRandomHistory(t, s, 14)
	a := newAnalytics(t, s, analytics.Config{BatchSize: 5})
	runAnalytics(t, a)
	waitFor(t, "the consumer to take the lock", a.HoldsLock)
	conn := acquire(t, pool)
	for range 4 {
		if err := h.run(ctx, 60); err != nil {
			t.Fatal(err)
		}
		// Sometimes while it is idle, sometimes mid-stream
		if h.rng.IntN(2) == 0 {
			waitCaughtUp(t, pool, a)
		}
		if _, runs, err := analytics.Reset(ctx, s, conn.Conn()); err != nil || !runs {
			t.Fatalf("Reset = %v, consumer runs %v", err, runs)
		}
	}
	if err := h.run(ctx, 60); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, pool, a)
	assertExact(t, pool)
	assertStates(t, s, pool)
}

// TestAnalyticsMemoryUnderATinyCap counts with room for one or two
// orders, or none, so that it forgets orders all the time and reads them
// again.
func TestAnalyticsMemoryUnderATinyCap(t *testing.T) {
	t.Parallel()
	for _, cached := range []int{-1, 1, 2} {
		t.Run(fmt.Sprintf("%d orders", cached), func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			a := newAnalytics(t, s, analytics.Config{BatchSize: 4, CachedOrders: cached})
			runAnalytics(t, a)
			h := newRandomHistory(t, s, 15)
			if err := h.run(context.Background(), 300); err != nil {
				t.Fatal(err)
			}
			waitCaughtUp(t, pool, a)
			assertExact(t, pool)
			assertStates(t, s, pool)
		})
	}
}

// assertStates fails the test unless analytics_orders holds, for every
// order of the store, the state its events lead to: its currency, the
// quantity of each line, and the total it was placed at, if it was.
func assertStates(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	type state struct {
		currency string
		items    map[string]int64
		placed   string
	}
	stored := map[uuid.UUID]state{}
	rows, err := pool.Query(ctx, `SELECT order_id, currency, items::text, coalesce(placed_total::text, '') FROM analytics_orders`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			id    uuid.UUID
			st    state
			items string
		)
		if err := rows.Scan(&id, &st.currency, &items, &st.placed); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(items), &st.items); err != nil {
			t.Fatal(err)
		}
		stored[id] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	rows, err = pool.Query(ctx, `SELECT DISTINCT stream_id FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(ids) {
		t.Errorf("analytics_orders has %d orders, the store %d", len(stored), len(ids))
	}
	for _, id := range ids {
		o, err := s.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := stored[id]
		if !ok {
			t.Errorf("order %s: no analytics state", id)
			continue
		}
		want := state{currency: string(o.Currency), items: map[string]int64{}}
		for _, it := range o.Items {
			want.items[it.ProductID.String()] = it.Quantity
		}
		if !o.PlacedAt.IsZero() {
			want.placed = o.Total().String()
		}
		if got.currency != want.currency || fmt.Sprint(got.items) != fmt.Sprint(want.items) || !sameTotal(got.placed, want.placed) {
			t.Errorf("order %s (%s): analytics state %+v, want %+v", id, o.Status, got, want)
		}
	}
}

// sameTotal compares two placed totals as numbers, "" meaning none.
func sameTotal(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	return decimal.RequireFromString(a).Equal(decimal.RequireFromString(b))
}
