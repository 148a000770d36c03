package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// analyticsWait bounds how long a test waits for the consumer to catch up.
const analyticsWait = 30 * time.Second

func newAnalytics(t *testing.T, s *eventstore.Store, cfg analytics.Config) *analytics.Projector {
	t.Helper()
	if cfg.LockRetry == 0 {
		cfg.LockRetry = 50 * time.Millisecond
	}
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	a, err := analytics.New(s, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runAnalytics runs the consumer until the returned stop is called (or the
// test ends); stop waits for Run to return.
func runAnalytics(t *testing.T, a *analytics.Projector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// feedHead is the last committed event in feed order.
func feedHead(t *testing.T, pool *pgxpool.Pool) app.FeedCursor {
	t.Helper()
	var c app.FeedCursor
	err := pool.QueryRow(context.Background(),
		`SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`).
		Scan(&c.TransactionID, &c.Position)
	if err != nil {
		t.Fatalf("feed head: %v", err)
	}
	return c
}

// waitCaughtUp waits until the projection has counted every committed
// event.
func waitCaughtUp(t *testing.T, pool *pgxpool.Pool, a *analytics.Projector) {
	t.Helper()
	head := feedHead(t, pool)
	deadline := time.Now().Add(analyticsWait)
	for {
		at, err := a.AnalyticsPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if at == head {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the projection is at %+v after %s, the feed at %+v", at, analyticsWait, head)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertExact fails the test unless the projection's figures equal a
// recomputation from the event store, and returns the number of days.
func assertExact(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	ctx := context.Background()
	want, err := analyticstest.Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	got, err := analyticstest.Projected(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := analyticstest.Diff(want, got); diff != "" {
		t.Errorf("analytics_daily differs from a recomputation from the events:\n%s", diff)
	}
	return len(want)
}

// testClock is an injected clock that tests move forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// tick moves the clock forward by up to 90 minutes, and now and then to
// the next midnight exactly or just before it, so that histories spread
// over several days and test both sides of each boundary.
func (c *testClock) tick(rng *rand.Rand) {
	c.mu.Lock()
	defer c.mu.Unlock()
	midnight := c.now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	switch rng.IntN(20) {
	case 0:
		c.now = midnight
	case 1:
		c.now = midnight.Add(-time.Microsecond)
	default:
		c.now = c.now.Add(time.Duration(rng.Int64N(int64(90*time.Minute))) + time.Microsecond)
	}
}

// randomHistory drives random, valid commands through the app over several
// orders, currencies and days.
type randomHistory struct {
	svc    *app.Service
	clock  *testClock
	rng    *rand.Rand
	orders []uuid.UUID
	// last is the X-Event-Position of the last command.
	last int64
}

func newRandomHistory(t *testing.T, s *eventstore.Store, seed uint64) *randomHistory {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 3, 1, 21, 0, 0, 0, time.UTC)}
	svc, err := app.NewService(s, s, app.Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &randomHistory{svc: svc, clock: clock, rng: rand.New(rand.NewPCG(seed, 0xa11a))}
}

var historyCurrencies = []order.Currency{"USD", "EUR", "JPY", "KWD"}

// run issues n random commands: a new order one time in six, otherwise a
// command its status allows on a random order.
func (h *randomHistory) run(ctx context.Context, n int) error {
	for range n {
		h.clock.tick(h.rng)
		if err := h.step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (h *randomHistory) step(ctx context.Context) error {
	meta := app.Metadata{RequestID: uuid.NewString(), Principal: apptest.Staff}
	if len(h.orders) == 0 || h.rng.IntN(6) == 0 {
		res, err := h.svc.CreateOrder(ctx, app.NewOrder{
			CustomerID: uuid.New(),
			Currency:   historyCurrencies[h.rng.IntN(len(historyCurrencies))],
		}, meta)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		h.orders = append(h.orders, res.Order.ID)
		h.last = res.Position
		return nil
	}
	id := h.orders[h.rng.IntN(len(h.orders))]
	o, err := h.svc.GetOrder(ctx, apptest.Staff, id)
	if err != nil {
		return err
	}
	actions := o.AllowedActions()
	if len(actions) == 0 {
		return nil // delivered or cancelled: nothing more to do
	}
	target := app.Target{OrderID: id, Metadata: meta}
	var res app.Result
	switch a := actions[h.rng.IntN(len(actions))]; {
	case a == order.ActionAddItem || (a == order.ActionRemoveItem && len(o.Items) == 0):
		if len(o.Items) >= 8 {
			return nil
		}
		prices := []string{"19.99", "0.0001", "4.50", "1000", "0.10", "12345.6789", "7"}
		res, err = h.svc.AddItem(ctx, target, order.NewItem{
			ProductID:   uuid.New(),
			ProductName: "Thing",
			Quantity:    int64(h.rng.IntN(5) + 1),
			UnitPrice:   dec(prices[h.rng.IntN(len(prices))]),
		})
	case a == order.ActionRemoveItem:
		res, err = h.svc.RemoveItem(ctx, target, o.Items[h.rng.IntN(len(o.Items))].ProductID)
	case a == order.ActionPlace:
		if len(o.Items) == 0 {
			return nil
		}
		res, err = h.svc.PlaceOrder(ctx, target, address)
	case a == order.ActionShip:
		res, err = h.svc.ShipOrder(ctx, target, "1Z"+uuid.NewString()[:8], "UPS")
	case a == order.ActionDeliver:
		res, err = h.svc.DeliverOrder(ctx, target, time.Time{}, "")
	case a == order.ActionCancel:
		res, err = h.svc.CancelOrder(ctx, target, "changed mind", "")
	}
	if err != nil {
		return fmt.Errorf("%s on order %s: %w", o.Status, id, err)
	}
	h.last = res.Position
	return nil
}
