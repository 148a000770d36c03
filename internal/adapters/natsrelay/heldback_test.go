package natsrelay_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
)

// TestAFeedHeldBelowTheStreamIsNoMismatch: the feed's watermark can fall
// below events it already showed, and the relay published: a transaction
// of another database, which the watermark passes while it runs, holds it
// back once it has no session (prepared, as here), or for a moment as it
// ends during a read. Messages after the checkpoint that name events the
// store holds after it, but the feed does not show yet, are waited for,
// not reported as a mismatch; once the feed shows them, they are checked
// as ever.
func TestAFeedHeldBelowTheStreamIsNoMismatch(t *testing.T) {
	t.Parallel()
	pg := pgtest.NewCluster(t, "max_prepared_transactions = 5")
	url := natstest.URL(t)
	for _, c := range []struct {
		name string
		// message is the body and Nats-Msg-Id of the stream's message for
		// the feed's event i, as someone published it.
		message func(i int, e app.RecordedEvent, body []byte) ([]byte, string)
		// stopsWhileHeld: the stream's messages can be told foreign
		// before the feed shows the events after the checkpoint.
		stopsWhileHeld bool
		// mismatch: they are not the feed's events.
		mismatch bool
	}{
		{name: "the relay's own messages", message: func(_ int, e app.RecordedEvent, body []byte) ([]byte, string) {
			return body, e.EventID.String()
		}},
		{name: "an altered copy", mismatch: true, message: func(i int, e app.RecordedEvent, body []byte) ([]byte, string) {
			if i == 3 {
				body = bytes.Replace(body, []byte(`"quantity":1`), []byte(`"quantity":2`), 1)
			}
			return body, e.EventID.String()
		}},
		{name: "a message of no event", mismatch: true, stopsWhileHeld: true, message: func(i int, e app.RecordedEvent, body []byte) ([]byte, string) {
			if i == 2 {
				return body, "foreign"
			}
			return body, e.EventID.String()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Given a relay that published and recorded an order's 2 events
			f := newFixtureOn(t, url, clusterPool(t, pg))
			f.orders(1, 1)
			_, stop := f.start(f.config(), f.lock(0))
			f.stream(2)
			stop()
			recorded := f.record()
			// and a transaction of another database that took an id, and
			// then 2 more events, which the feed shows past it
			other := pgtest.Connect(t, pg.URL("postgres"))
			if _, err := other.Exec(context.Background(), "BEGIN; SELECT pg_current_xact_id()"); err != nil {
				t.Fatal(err)
			}
			f.orders(1, 1)
			all := f.feed(4)
			// and their messages stored after the checkpoint, unrecorded
			for i, e := range all[2:] {
				body, err := encode(e)
				if err != nil {
					t.Fatal(err)
				}
				sent, id := c.message(i+2, e, body)
				if c.mismatch && !c.stopsWhileHeld && i+2 == 3 && bytes.Equal(sent, body) {
					t.Fatalf("event 4 %s is unaltered: the test proves nothing", body)
				}
				f.publishRaw(f.names.Prefix+"."+e.Type+"."+e.OrderID.String(), sent, id)
			}

			// When that transaction is prepared: it holds the feed back
			// below them, without a session
			gid := "orderapi-held-" + f.names.Stream
			if _, err := other.Exec(context.Background(), "PREPARE TRANSACTION '"+gid+"'"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _ = other.Exec(context.Background(), "ROLLBACK PREPARED '"+gid+"'")
			})
			if page, err := f.store.ReadFeed(context.Background(), app.FeedQuery{After: recorded.Checkpoint.Cursor, Limit: 2}); err != nil || len(page) != 0 {
				t.Fatalf("the feed shows %d events after the checkpoint (%v): nothing holds it back, the test proves nothing", len(page), err)
			}
			// and the relay starts again
			r, _ := f.start(f.config(), f.lock(0))

			// Then a message of no stored event stops it at once
			if c.stopsWhileHeld {
				f.waitStopped(r, natsrelay.StopStreamMismatch)
				f.streamHolds(4)
				return
			}
			// and others do not, while the feed is held: it publishes
			// nothing and records no stop
			for until := time.Now().Add(time.Second); time.Now().Before(until); time.Sleep(20 * time.Millisecond) {
				if st := f.record(); st.Stopped != nil || st.Checkpoint != recorded.Checkpoint {
					t.Fatalf("while the feed is held back, the relay recorded %+v (stopped: %+v); want its checkpoint and no stop", st.Checkpoint, st.Stopped)
				}
			}
			f.streamHolds(4)

			// When the prepared transaction ends
			if _, err := other.Exec(context.Background(), "COMMIT PREPARED '"+gid+"'"); err != nil {
				t.Fatal(err)
			}

			// Then an altered copy stops the relay, once the feed shows
			// what it alters
			if c.mismatch {
				if st := f.waitStopped(r, natsrelay.StopStreamMismatch); !strings.Contains(st.Stalled.Reason, "message 4 has a different body") {
					t.Errorf("reason %q, want it to name message 4's body", st.Stalled.Reason)
				}
				time.Sleep(300 * time.Millisecond)
				f.streamHolds(4)
				return
			}
			// and the relay's own messages are taken as published: it
			// goes on after them, publishing nothing twice
			f.waitCheckpointAt(4)
			f.orders(1, 0)
			f.sameAsFeed(f.stream(5), f.feed(5))
			if r.Published() != 1 {
				t.Errorf("published %d, want 1", r.Published())
			}
		})
	}
}

// clusterPool is a pool over a new, migrated database of the cluster,
// closed when the test ends.
func clusterPool(t *testing.T, pg *pgtest.Cluster) *pgxpool.Pool {
	t.Helper()
	name := "orderapi_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	pool, err := pgxpool.New(context.Background(), pg.NewDatabase(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestAMomentaryDipOfTheFeedIsNoMismatch: a feed read that stops short of
// the messages after the checkpoint for a moment (a transaction of
// another database ends as the watermark is read) records no stop, not
// even for StalledRetry: the relay reads again and takes them as its own.
func TestAMomentaryDipOfTheFeedIsNoMismatch(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and recorded 2 of them
	f := newFixture(t)
	f.orders(1, 1)
	_, stop := f.start(f.config(), f.lock(0))
	f.stream(2)
	stop()
	recorded := f.record()
	f.orders(1, 1)
	_, stop = f.start(f.config(), f.lock(0))
	f.stream(4)
	stop()
	f.setCheckpoint(recorded.Checkpoint)

	// When the relay starts again on a feed whose first reads after the
	// checkpoint show nothing, then show the events again
	feed := &dippingFeed{Store: f.store, after: recorded.Checkpoint.Cursor}
	feed.dips.Store(3)
	cfg := f.config()
	cfg.StalledRetry = time.Minute
	r, _ := f.startOn(feed, cfg, f.lock(0))

	// Then it records no stop, and goes on after the 4 messages,
	// publishing nothing twice
	f.waitCheckpointAt(4)
	if feed.dips.Load() > 0 {
		t.Fatal("the feed never dipped: the test proves nothing")
	}
	f.orders(1, 0)
	f.sameAsFeed(f.stream(5), f.feed(5))
	if r.Published() != 1 {
		t.Errorf("published %d, want 1", r.Published())
	}
}

// dippingFeed is the store's feed, but that its next dips reads after
// the cursor after show nothing, as when its watermark falls below them.
type dippingFeed struct {
	*eventstore.Store
	after app.FeedCursor
	dips  atomic.Int32
}

func (d *dippingFeed) ReadFeed(ctx context.Context, q app.FeedQuery) ([]app.RecordedEvent, error) {
	if q.After == d.after && d.dips.Add(-1) >= 0 {
		return nil, nil
	}
	return d.Store.ReadFeed(ctx, q)
}
