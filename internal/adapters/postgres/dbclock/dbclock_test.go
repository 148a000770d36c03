package dbclock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/dbclock"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fast is the clock of a replica 90s ahead of the database's.
func fast() time.Time { return time.Now().Add(90 * time.Second) }

// tolerance is how far a measured time may be from the database's: the
// uncertainty of a local round trip, with room for a busy machine.
const tolerance = time.Second

func TestAFastReplicaTellsTheDatabasesTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	// Given a replica whose clock is 90s fast
	clock := dbclock.New(pool, dbclock.Config{Local: fast})

	// When it has measured the database's clock
	if err := clock.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// Then it tells the database's time, and reports its own skew
	got := clock.Now()
	db := dbNow(t, pool)
	if d := db.Sub(got); d < 0 || d > tolerance {
		t.Errorf("Now = %s, the database's clock just after = %s", got, db)
	}
	t.Logf("skew %s; Now %s behind the database's clock read just after it", clock.Skew(), db.Sub(got))
	if skew := clock.Skew(); skew < 90*time.Second-tolerance || skew > 90*time.Second+tolerance {
		t.Errorf("Skew = %s, want about 90s", skew)
	}
}

func TestNowNeverGoesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	// Given a clock measured against a local clock that then steps back
	// (times without a monotonic reading, so the step shows)
	var mu sync.Mutex
	local := time.Now().Round(0)
	clock := dbclock.New(pool, dbclock.Config{Local: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return local
	}})
	if err := clock.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	before := clock.Now()
	mu.Lock()
	local = local.Add(-10 * time.Second)
	mu.Unlock()

	// When it is read again
	after := clock.Now()

	// Then it has not gone back
	if after.Before(before) {
		t.Errorf("Now went back from %s to %s", before, after)
	}
}

// TestReplicasWithSkewedClocksAgreeOnEventTimes runs an order's life on
// two replicas, one with a clock 90s fast: every event carries the
// database's time, and delivering (at the default time) on the correct
// replica right after shipping on the fast one succeeds.
func TestReplicasWithSkewedClocksAgreeOnEventTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	fastReplica, correctReplica := replica(t, pool, fast), replica(t, pool, time.Now)

	// Given an order created on the fast replica, filled and placed on
	// the correct one, and shipped on the fast one
	created, err := fastReplica.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	target := app.Target{OrderID: created.Order.ID, Metadata: apptest.AsStaff}
	item := order.NewItem{ProductID: uuid.New(), ProductName: "Mug", Quantity: 1, UnitPrice: order.MustParseAmount("4.50")}
	address := order.Address{Name: "Ada Lovelace", Line1: "1 Analytical Way", City: "London", PostalCode: "N1 9GU", Country: "GB"}
	steps := []func() (app.Result, error){
		func() (app.Result, error) { return correctReplica.AddItem(ctx, target, item) },
		func() (app.Result, error) { return correctReplica.PlaceOrder(ctx, target, address) },
		func() (app.Result, error) { return fastReplica.ShipOrder(ctx, target, "TRACK-1", "UPS") },
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}

	// When the correct replica records the delivery at once, at the
	// default time
	delivered, err := correctReplica.DeliverOrder(ctx, target, time.Time{}, "")

	// Then it succeeds, delivered no earlier than shipped
	if err != nil {
		t.Fatalf("deliver after a ship on the fast replica: %v", err)
	}
	o := delivered.Order
	if o.DeliveredAt.Before(o.ShippedAt) || o.UpdatedAt.Before(o.CreatedAt) {
		t.Errorf("created %s, shipped %s, delivered %s, updated %s", o.CreatedAt, o.ShippedAt, o.DeliveredAt, o.UpdatedAt)
	}
	// And every event occurred at the database's time (when it was
	// recorded), in order
	events, err := correctReplica.OrderEvents(ctx, apptest.Staff, app.EventQuery{OrderID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, e := range events {
		if d := e.RecordedAt.Sub(e.OccurredAt); d < -tolerance || d > tolerance {
			t.Errorf("%s occurred at %s, recorded at %s", e.Type, e.OccurredAt, e.RecordedAt)
		}
		if e.OccurredAt.Before(last) {
			t.Errorf("%s occurred at %s, before the event ahead of it (%s)", e.Type, e.OccurredAt, last)
		}
		last = e.OccurredAt
	}
}

// replica is a service whose clock is the database's, measured from a
// local clock of its own.
func replica(t *testing.T, pool *pgxpool.Pool, local func() time.Time) *app.Service {
	t.Helper()
	clock := dbclock.New(pool, dbclock.Config{Local: local})
	if err := clock.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, eventstore.Config{})
	svc, err := app.NewService(store, store, app.Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func dbNow(t *testing.T, pool *pgxpool.Pool) time.Time {
	t.Helper()
	var now time.Time
	if err := pool.QueryRow(context.Background(), `SELECT clock_timestamp()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}
