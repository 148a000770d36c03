package feedhub_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/orderapi/orderapi/internal/feedhub"
)

// TestSubscribersGetEveryEventOnceInOrder: subscribers that start behind
// the tail, at different places and times while writers commit
// concurrently, each get exactly the events after their cursor, of their
// types, in feed order, across the hand-over from catching up to the tail.
func TestSubscribersGetEveryEventOnceInOrder(t *testing.T) {
	t.Parallel()
	// Given a feed of 30 events, and a hub reading pages of 7
	f := newFixture(t)
	f.create(30)
	history := f.all(30)
	hub := f.hub(feedhub.Config{Page: 7})

	// When four writers each append five orders of four events
	const writers, orders = 4, 5
	var writing sync.WaitGroup
	for range writers {
		writing.Add(1)
		go func() {
			defer writing.Done()
			for range orders {
				f.orderWithItems(3)
			}
		}()
	}
	// while subscribers join at different places, some for one type
	type sub struct {
		s     *feedhub.Subscription
		after app.FeedCursor
		types []string
	}
	var subs []sub
	for i := range 12 {
		q := feedhub.Query{}
		if i%3 > 0 {
			q.After = app.CursorOf(history[i*2])
		}
		if i%4 == 3 {
			q.Types = []string{"OrderItemAdded"}
		}
		subs = append(subs, sub{subscribe(t, hub, q), q.After, q.Types})
		time.Sleep(5 * time.Millisecond)
	}
	writing.Wait()
	all := f.all(30 + writers*orders*4)

	// Then each gets exactly the events after its cursor, of its types
	for i, s := range subs {
		var want []app.FeedCursor
		for _, c := range cursors(all, s.types...) {
			if s.after.Before(c) {
				want = append(want, c)
			}
		}
		got, err := take(s.s, len(want))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("subscriber %d after %+v %v: got %d events %v (%v), want %d %v", i, s.after, s.types, len(got), got, err, len(want), want)
		}
	}
}

// TestIdleSubscribersCostNoReads: a hundred subscribers at the tail cost
// the reads of one: the tail's polls.
func TestIdleSubscribersCostNoReads(t *testing.T) {
	t.Parallel()
	// Given a hub that polls every 100ms and a hundred joined subscribers
	f := newFixture(t)
	f.create(3)
	f.all(3)
	hub := f.hub(feedhub.Config{Poll: 100 * time.Millisecond})
	for range 100 {
		if got, err := take(subscribe(t, hub, feedhub.Query{}), 3); err != nil || len(got) != 3 {
			t.Fatalf("catching up: %v, %v", got, err)
		}
	}
	// When nothing is appended for a second
	time.Sleep(200 * time.Millisecond) // the joins' own looks are over
	before := f.feed.reads.Load()
	time.Sleep(time.Second)
	reads := f.feed.reads.Load() - before

	// Then the feed was read about ten times, not a thousand
	t.Logf("%d reads in a second with 100 idle subscribers: %.3f per subscriber per second", reads, float64(reads)/100)
	if reads > 20 {
		t.Errorf("%d reads in a second of 100 idle subscribers polling every 100ms; want the tail's polls only", reads)
	}
}

// TestSubscriberAheadDoesNotHideEvents: a cursor beyond the feed's end
// (one not issued here) joins the tail without moving it forward: the
// others still get every event.
func TestSubscriberAheadDoesNotHideEvents(t *testing.T) {
	t.Parallel()
	// Given a subscriber far ahead of the feed, joined first
	f := newFixture(t)
	hub := f.hub(feedhub.Config{})
	ahead := joined(t, hub, feedhub.Query{After: app.FeedCursor{TransactionID: 1 << 62}})
	// and one from the start
	s := subscribe(t, hub, feedhub.Query{})

	// When events are appended
	f.create(3)
	all := f.all(3)

	// Then the one from the start gets them all
	if got, err := take(s, 3); err != nil || !slices.Equal(got, cursors(all)) {
		t.Errorf("got %v, %v; want %v", got, err, cursors(all))
	}
	// and the one ahead none
	select {
	case <-ahead.Ready():
		if batch, err := ahead.Next(context.Background()); len(batch) > 0 || err != nil {
			t.Errorf("ahead of the feed: %d events, %v", len(batch), err)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

// TestCatchUpRetriesAfterAFailure: a read that finds the database away
// is reported, and tried again after the poll interval.
func TestCatchUpRetriesAfterAFailure(t *testing.T) {
	t.Parallel()
	// Given two events, and a database away for the next read
	f := newFixture(t)
	f.create(2)
	all := f.all(2)
	hub := f.hub(feedhub.Config{})
	f.feed.fail.Store(1)

	// When a subscriber reads
	s := subscribe(t, hub, feedhub.Query{})
	<-s.Ready()
	_, err := s.Next(context.Background())

	// Then it is told the database is away
	if !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("first read: %v, want unavailable", err)
	}
	// and, woken again, gets the events
	if got, err := take(s, 2); err != nil || !slices.Equal(got, cursors(all)) {
		t.Errorf("after the failure: %v, %v; want %v", got, err, cursors(all))
	}
}

// TestTailOutlivesAnOutage: while the tail's reads find the database
// away, its subscribers wait, and then get what was appended.
func TestTailOutlivesAnOutage(t *testing.T) {
	t.Parallel()
	// Given a joined subscriber
	f := newFixture(t)
	hub := f.hub(feedhub.Config{})
	s := joined(t, hub, feedhub.Query{})
	// When the tail's next reads find the database away, while an event
	// is appended
	f.feed.fail.Store(3)
	f.create(1)
	all := f.all(1)

	// Then the subscriber gets it once the database answers again
	if got, err := take(s, 1); err != nil || !slices.Equal(got, cursors(all)) {
		t.Errorf("after the outage: %v, %v; want %v", got, err, cursors(all))
	}
}

// TestCloseEndsSubscriptions: closing the hub ends its subscriptions as
// unavailable, refuses new ones, and stops its reads.
func TestCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	// Given a joined subscriber
	f := newFixture(t)
	hub := f.hub(feedhub.Config{Poll: 10 * time.Millisecond})
	s := joined(t, hub, feedhub.Query{})

	// When the hub closes
	hub.Close()
	reads := f.feed.reads.Load()

	// Then the subscription ends, unavailable
	if _, err := take(s, 1); !errors.Is(err, feedhub.ErrClosed) || !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	// and new ones are refused
	if _, err := hub.Subscribe(feedhub.Query{}); !errors.Is(err, feedhub.ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	// and nothing reads the feed any more
	time.Sleep(50 * time.Millisecond)
	if n := f.feed.reads.Load(); n != reads {
		t.Errorf("%d reads after Close", n-reads)
	}
}

// orderWithItems appends an order's creation and n items.
func (f *fixture) orderWithItems(n int) {
	f.t.Helper()
	ctx := context.Background()
	res, err := f.svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		f.t.Error(err)
		return
	}
	for range n {
		item := order.NewItem{ProductID: uuid.New(), ProductName: "Cup", Quantity: 1, UnitPrice: order.MustParseAmount("1.50")}
		if _, err := f.svc.AddItem(ctx, app.Target{OrderID: res.Order.ID, Metadata: apptest.AsStaff}, item); err != nil {
			f.t.Error(err)
			return
		}
	}
}
