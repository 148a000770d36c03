package feedhub_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// feedWait bounds every wait for the feed: it shows an event only once
// every older transaction on the server has ended, and other tests'
// transactions run meanwhile.
const feedWait = 20 * time.Second

// fixture is a service over a fresh database, and a feed reader that
// counts its reads. Its hubs poll often instead of being woken (the HTTP
// tests wire wake-ups as the binary does).
type fixture struct {
	t    *testing.T
	svc  *app.Service
	feed *countingFeed
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := eventstore.New(pgtest.New(t), eventstore.Config{})
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, svc: svc, feed: &countingFeed{svc: svc}}
}

// hub is a Hub over the fixture's counting reader, polling every 20ms
// unless cfg says otherwise, closed when the test ends (before the pool).
func (f *fixture) hub(cfg feedhub.Config) *feedhub.Hub {
	f.t.Helper()
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	h, err := feedhub.New(f.feed, zerolog.New(zerolog.NewTestWriter(f.t)), cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(h.Close)
	return h
}

// create appends n orders' creations, one event each.
func (f *fixture) create(n int) {
	f.t.Helper()
	for range n {
		if _, err := f.svc.CreateOrder(context.Background(), app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff); err != nil {
			f.t.Fatal(err)
		}
	}
}

// all pages through the whole feed until it holds n events.
func (f *fixture) all(n int) []app.RecordedEvent { return apptest.Feed(f.t, f.svc, n, feedWait) }

// countingFeed counts reads of the feed, and how many run at once.
type countingFeed struct {
	svc     *app.Service
	reads   atomic.Int64
	running atomic.Int64
	most    atomic.Int64
	delay   time.Duration // each read's extra time, to make overlaps visible
	fail    atomic.Int64  // how many reads to fail yet, as unavailable
}

func (c *countingFeed) Feed(ctx context.Context, q app.FeedQuery) (app.FeedPage, error) {
	c.reads.Add(1)
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	time.Sleep(c.delay)
	if c.fail.Add(-1) >= 0 {
		return app.FeedPage{}, fmt.Errorf("read feed: %w", app.ErrUnavailable)
	}
	return c.svc.Feed(ctx, q)
}

// subscribe subscribes to the hub, closing the subscription when the
// test ends.
func subscribe(t *testing.T, hub *feedhub.Hub, q feedhub.Query) *feedhub.Subscription {
	t.Helper()
	s, err := hub.Subscribe(q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// joined subscribes and takes the first read, which joins the tail when
// there is nothing to catch up.
func joined(t *testing.T, hub *feedhub.Hub, q feedhub.Query) *feedhub.Subscription {
	t.Helper()
	s := subscribe(t, hub, q)
	<-s.Ready()
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// take follows a subscription as a consumer would until it has n events
// or ends, and returns their cursors and the error that ended it, or
// that they did not come in time. Any goroutine may call it.
func take(s *feedhub.Subscription, n int) ([]app.FeedCursor, error) {
	var got []app.FeedCursor
	timeout := time.After(feedWait)
	for len(got) < n {
		select {
		case <-s.Ready():
		case <-timeout:
			return got, fmt.Errorf("%d events within %s, want %d", len(got), feedWait, n)
		}
		batch, err := s.Next(context.Background())
		for _, e := range batch {
			got = append(got, e.Cursor())
		}
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// cursors are the cursors of the events of the types (all without any).
func cursors(events []app.RecordedEvent, types ...string) []app.FeedCursor {
	var cs []app.FeedCursor
	for _, e := range events {
		if len(types) == 0 || slices.Contains(types, e.Type) {
			cs = append(cs, app.CursorOf(e))
		}
	}
	return cs
}
