package eventstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
)

// replicatedStores gives the test a store over a migrated database on a
// cluster of its own and one over the same database on a hot standby of
// that cluster, with their pools.
func replicatedStores(t *testing.T) (primary *eventstore.Store, primaryPool *pgxpool.Pool, standby *eventstore.Store, standbyCluster, primaryCluster *pgtest.Cluster) {
	t.Helper()
	pc, sc := pgtest.NewReplicated(t, "orderapi")
	open := func(url string) *pgxpool.Pool {
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return pool
	}
	primaryPool = open(pc.URL("orderapi"))
	return eventstore.New(primaryPool, eventstore.Config{}), primaryPool,
		eventstore.New(open(sc.URL("orderapi")), eventstore.Config{}), sc, pc
}

// TestFeedOnStandbyWaitsForLateCommit is TestFeedWaitsForLateCommit on a
// hot standby. There, the transactions still running on the primary are
// not in the snapshot's xip but in its subxip, which pg_current_snapshot
// does not copy: a watermark taken from xip alone is the snapshot's xmax,
// and the feed would skip the late writer's event for good.
func TestFeedOnStandbyWaitsForLateCommit(t *testing.T) {
	t.Parallel()
	// Given a reader of the standby's feed that has read it all
	primary, pool, standby, sc, pc := replicatedStores(t)
	svc := newFeedService(t, standby)
	create(t, primary, uuid.New(), uuid.New(), t0)
	sc.CatchUp(t, pc)
	_, cursor := readFeed(t, svc, app.FeedCursor{}, 1, 10)

	// When a writer on the primary has inserted an event but not committed
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	late := insertCreated(t, tx)
	// and others commit events at later positions meanwhile, which the
	// standby replays
	o1 := create(t, primary, uuid.New(), uuid.New(), t0)
	o2 := create(t, primary, uuid.New(), uuid.New(), t0)
	sc.CatchUp(t, pc)

	// Then the standby's feed stays before the open transaction's event
	page, err := svc.Feed(t.Context(), app.FeedQuery{After: cursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 || page.Next != cursor {
		t.Fatalf("while a writer is open on the primary, the standby's feed gave %d events and next %+v, want none and %+v",
			len(page.Events), page.Next, cursor)
	}

	// And once the late writer commits, the standby's feed gives its event
	// first, then the later ones
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	events, _ := readFeed(t, svc, cursor, 3, 10)
	if events[0].EventID != late.ID || events[1].OrderID != o1.ID || events[2].OrderID != o2.ID {
		t.Errorf("after the commit the standby's feed gave orders %v, want the late event %s first", ids(events), late.ID)
	}
}

// TestFeedOnStandbyConcurrentWritersExactlyOnce: writers append to the
// primary, some committing late or rolling back, while a reader tails the
// standby's feed: it reads every committed event exactly once.
func TestFeedOnStandbyConcurrentWritersExactlyOnce(t *testing.T) {
	t.Parallel()
	primary, pool, standby, _, _ := replicatedStores(t)
	concurrentWritersExactlyOnce(t, newFeedService(t, primary), pool, newFeedService(t, standby))
}
