package analytics_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The consumer, run as every test runs it: see analyticstest.
const analyticsWait = analyticstest.Wait

var (
	newAnalytics = analyticstest.NewProjector
	runAnalytics = analyticstest.Run
	feedHead     = analyticstest.FeedHead
	waitCaughtUp = analyticstest.WaitCaughtUp
	assertExact  = analyticstest.AssertExact
)

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
			UnitPrice:   price(prices[h.rng.IntN(len(prices))]),
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
