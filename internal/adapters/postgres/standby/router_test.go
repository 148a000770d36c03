package standby_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestReadsWithAPositionAreNeverOlder: while the standby's replay is
// paused, a read that names the position of a write the standby lacks
// gets the written state, from the primary; one that names none gets the
// standby's older state, and says so. Commands right after a create
// succeed: their ownership check reads the primary.
func TestReadsWithAPositionAreNeverOlder(t *testing.T) {
	t.Parallel()
	// Given a standby that has replayed an order A, then stopped replaying
	f := newFixture(t, standby.Config{MaxLag: time.Minute, ReplayWait: -1, PositionWait: 200 * time.Millisecond})
	ctx := t.Context()
	p, meta := customer()
	a, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)
	f.standby.PauseReplay(t)

	// When the customer creates order B and at once adds an item to it,
	// and adds one to A
	b, _ := f.createOrder(t, p, meta)
	bItem := f.addItem(t, b, meta)
	aItem := f.addItem(t, a, meta)
	f.waitFor(t, func(s standby.StandbyStats) bool { return s.Lag > 0 && s.LagBytes > 0 }, "lagging")

	// Then a read of A without a position is the standby's: A without
	// its item, from a standby that says it lags
	o, src, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: a})
	if err != nil {
		t.Fatal(err)
	}
	if o.Version != 1 || src.Name != "standby-1" || !src.Standby || src.Lag <= 0 {
		t.Errorf("A without a position: version %d from %+v, want version 1 from the lagging standby-1", o.Version, src)
	}
	if _, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: b}); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("B without a position: %v, want not found on the standby", err)
	}
	// And every read that names the position of a write has it, from the
	// primary
	o, src, err = f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: a, MinPosition: aItem})
	if err != nil || o.Version != 2 || src.Name != "primary" || src.Standby {
		t.Errorf("A at position %d: version %d from %+v (%v), want version 2 from the primary", aItem, o.Version, src, err)
	}
	if o, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: b, MinPosition: bItem}); err != nil || len(o.Items) != 1 {
		t.Errorf("B at position %d: %d items (%v), want its item", bItem, len(o.Items), err)
	}
	v2 := app.AtVersion(2)
	if o, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: a, At: &v2, MinPosition: aItem}); err != nil || o.Version != 2 {
		t.Errorf("A at version 2, position %d: version %d (%v)", aItem, o.Version, err)
	}
	asOf := app.AsOf(time.Now().Add(time.Hour))
	if o, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: a, At: &asOf, MinPosition: aItem}); err != nil || o.Version != 2 {
		t.Errorf("A as of now, position %d: version %d (%v)", aItem, o.Version, err)
	}
	if _, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: a, At: &v2}); !errors.As(err, new(*app.VersionOutOfRangeError)) {
		t.Errorf("A at version 2 without a position: %v, want the standby's answer that A has 1 version", err)
	}
	page, err := f.svc.ListCustomerOrders(ctx, p, app.ListQuery{CustomerID: p.CustomerID, MinPosition: bItem})
	if err != nil || len(page.Orders) != 2 || page.Source.Name != "primary" {
		t.Errorf("the list at position %d: %d orders from %+v (%v), want both from the primary", bItem, len(page.Orders), page.Source, err)
	}
	if page, err := f.svc.ListCustomerOrders(ctx, p, app.ListQuery{CustomerID: p.CustomerID}); err != nil || len(page.Orders) != 1 || !page.Source.Standby {
		t.Errorf("the list without a position: %d orders from %+v (%v), want A alone from the standby", len(page.Orders), page.Source, err)
	}
	history, err := f.svc.OrderEventPage(ctx, p, app.EventQuery{OrderID: a, MinPosition: aItem})
	if err != nil || len(history.Events) != 2 {
		t.Errorf("A's history at position %d: %d events (%v), want 2", aItem, len(history.Events), err)
	}
	feed, err := f.svc.Feed(ctx, app.FeedQuery{MinPosition: aItem})
	if err != nil || len(feed.Events) != 4 || feed.Source.Name != "primary" {
		t.Errorf("the feed at position %d: %d events from %+v (%v), want all 4 from the primary", aItem, len(feed.Events), feed.Source, err)
	}
	if feed, err := f.svc.Feed(ctx, app.FeedQuery{}); err != nil || len(feed.Events) != 1 {
		t.Errorf("the feed without a position: %d events (%v), want the standby's 1", len(feed.Events), err)
	}

	// And a position no database has is refused, never answered older
	if _, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: a, MinPosition: aItem + 1000}); !errors.Is(err, app.ErrUnknownPosition) {
		t.Errorf("A at a position not written yet: %v, want ErrUnknownPosition", err)
	}
	if st := f.state(); st.FellBehind == 0 || !st.InRotation {
		t.Errorf("standby %+v: want reads it fell behind on counted, and still in rotation", st)
	}
}

// TestReadWithAPositionWaitsForReplay: a standby that replays the
// position within the wait answers the read itself.
func TestReadWithAPositionWaitsForReplay(t *testing.T) {
	t.Parallel()
	// Given a standby whose replay is paused, and an order it lacks
	f := newFixture(t, standby.Config{MaxLag: time.Minute, ReplayWait: time.Minute})
	p, meta := customer()
	f.standby.PauseReplay(t)
	id, position := f.createOrder(t, p, meta)

	// When replay resumes while a read of it, with its position, waits
	resumed := make(chan struct{})
	go func() {
		defer close(resumed)
		time.Sleep(100 * time.Millisecond)
		f.standby.ResumeReplay(t)
	}()
	o, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id, MinPosition: position})
	<-resumed

	// Then the standby answers it, with the order
	if err != nil || o.ID != id || !src.Standby {
		t.Fatalf("read at position %d: order %s from %+v (%v), want it from the standby", position, o.ID, src, err)
	}
}

// TestStoppedStandbyLeavesRotationAndComesBack: reads go on, from the
// primary, when the standby stops, and return to it once it is back.
func TestStoppedStandbyLeavesRotationAndComesBack(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation that has an order
	f := newFixture(t, standby.Config{})
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)

	// When it stops
	if err := f.standby.Stop("fast"); err != nil {
		t.Fatal(err)
	}

	// Then every read succeeds, from the primary, and it leaves rotation
	for i := range 20 {
		o, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id})
		if err != nil || o.ID != id || src.Standby {
			t.Fatalf("read %d after the standby stopped: %s from %+v (%v), want the order from the primary", i, o.ID, src, err)
		}
	}
	f.waitRotation(t, false)

	// And once it is back, it is in rotation and answers again
	if err := f.standby.Start(); err != nil {
		t.Fatal(err)
	}
	f.waitRotation(t, true)
	if _, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id}); err != nil || !src.Standby {
		t.Errorf("read once the standby is back: from %+v (%v), want the standby", src, err)
	}
}

// TestReadFailingOnStandbyIsAnsweredByPrimary: a read that finds the
// standby gone is answered by the primary, and takes the standby out of
// rotation, before any check has noticed.
func TestReadFailingOnStandbyIsAnsweredByPrimary(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation whose next check is an hour away
	f := newFixture(t, standby.Config{CheckEvery: time.Hour})
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)

	// When it stops
	if err := f.standby.Stop("immediate"); err != nil {
		t.Fatal(err)
	}

	// Then a read succeeds, from the primary, and the standby is out
	o, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id})
	if err != nil || o.ID != id || src.Name != "primary" {
		t.Fatalf("read after the standby stopped: %s from %+v (%v), want the order from the primary", o.ID, src, err)
	}
	if st := f.state(); st.InRotation || st.Failed != 1 {
		t.Errorf("standby %+v: want it out of rotation, with the failed read counted", st)
	}
}

// TestPromotedStandbyLeavesRotation: a standby promoted to a primary of
// its own may take writes the primary never sees: it is never read again.
func TestPromotedStandbyLeavesRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, standby.Config{})
	if err := f.standby.Promote(); err != nil {
		t.Fatal(err)
	}
	f.waitRotation(t, false)
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	if _, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id}); err != nil || src.Name != "primary" {
		t.Errorf("read after the promotion: from %+v (%v), want the primary", src, err)
	}
}

// TestLaggingStandbyLeavesRotation: a standby further behind than
// MaxLag is out of rotation until it catches up.
func TestLaggingStandbyLeavesRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, standby.Config{MaxLag: 300 * time.Millisecond})
	p, meta := customer()
	f.standby.PauseReplay(t)
	f.createOrder(t, p, meta)
	f.waitRotation(t, false)
	f.standby.ResumeReplay(t)
	f.waitRotation(t, true)
	if st := f.state(); st.Lag > 300*time.Millisecond {
		t.Errorf("back in rotation with lag %s", st.Lag)
	}
}

// TestPositionsWithoutStandbys: without standbys, a read at a position
// the primary has committed answers at once, unnamed, as reads always
// did; a position no event has is refused as unknown.
func TestPositionsWithoutStandbys(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.New(t), eventstore.Config{})
	router, err := standby.New(store, standby.Config{PositionWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.NewService(store, store, app.Config{ReadModels: router})
	if err != nil {
		t.Fatal(err)
	}
	p, meta := customer()
	res, err := svc.CreateOrder(t.Context(), app.NewOrder{CustomerID: p.CustomerID}, meta)
	if err != nil {
		t.Fatal(err)
	}
	o, src, err := svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: res.Order.ID, MinPosition: res.Position})
	if err != nil || o.ID != res.Order.ID || src != (app.ReadSource{}) {
		t.Errorf("read at a committed position: %s from %+v (%v), want it from the only database, unnamed", o.ID, src, err)
	}
	_, _, err = svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: res.Order.ID, MinPosition: res.Position + 1})
	if ae, ok := errors.AsType[*app.Error](err); !ok || ae.Code != app.ErrUnknownPosition.Code || !strings.Contains(ae.Message, "beyond every event") {
		t.Errorf("a position not written: %v, want ErrUnknownPosition, beyond every event", err)
	}
}

// TestPositionWaitBoundsTheReplayWait: a position never committed is
// refused within PositionWait, however long the replay wait is: a standby
// is waited for no longer, and the primary then says the position is
// unknown.
func TestPositionWaitBoundsTheReplayWait(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation, a replay wait of an hour and a
	// position wait of 200ms
	f := newFixture(t, standby.Config{ReplayWait: time.Hour, PositionWait: 200 * time.Millisecond})
	p, meta := customer()
	id, position := f.createOrder(t, p, meta)

	// When a read names a position no transaction has committed, within
	// a request that may last 20s
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, _, err := f.svc.ReadOrder(ctx, p, app.OrderQuery{ID: id, MinPosition: position + 1000})

	// Then it is refused as unknown, before the request's deadline
	if !errors.Is(err, app.ErrUnknownPosition) {
		t.Errorf("read at a position never committed: %v, want ErrUnknownPosition", err)
	}
}
