package bulkload_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/bulkload"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// until has microseconds, as every time the store keeps.
var until = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

// TestLoadWritesWhatTheStoreReadsBack: a small load, written by several
// connections in batches smaller than it, reads back through every path
// the service has: verification finds no difference, the feed returns
// every event once and in order, each order loads to the state the load
// decided, and analytics counts the feed.
func TestLoadWritesWhatTheStoreReadsBack(t *testing.T) {
	t.Parallel()
	// Given a fresh store
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{})

	// When 2,000 events of 200 orders are loaded, 150 per transaction,
	// by three writers
	built := make(map[uuid.UUID]order.Order)
	cfg := bulkload.Config{Orders: 200, Events: 2000, Customers: 40, Seed: 7, Until: until, Span: 30 * 24 * time.Hour,
		Writers: 3, BatchEvents: 150, Built: func(o order.Order) { built[o.ID] = o }}
	rep, err := bulkload.Load(t.Context(), pool, cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Then the rows are those of the orders the aggregate decided
	if rep.Orders != 200 || rep.Events != 2000 || len(built) != 200 || !rep.TriggersSkipped {
		t.Fatalf("report %+v, %d orders built", rep, len(built))
	}
	checkReadsBack(t, pool, store, built, 2000)
}

// TestLoadAsAnOrdinaryRoleKeepsTheTriggers: a role that may not skip the
// events table's triggers loads the same store, each batch committed
// before the next is written, so that the contiguity trigger sees the
// versions before.
func TestLoadAsAnOrdinaryRoleKeepsTheTriggers(t *testing.T) {
	t.Parallel()
	// Given a store whose tables an ordinary role owns
	dbURL := pgtest.NewURL(t)
	roleURL := ownerRole(t, dbURL)
	pc, err := pgxpool.ParseConfig(roleURL)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	// When it loads orders whose histories span several batches
	built := make(map[uuid.UUID]order.Order)
	rep, err := bulkload.Load(t.Context(), pool, bulkload.Config{Orders: 40, Events: 400, Seed: 3, Until: until,
		Span: 24 * time.Hour, Writers: 2, BatchEvents: 50, Built: func(o order.Order) { built[o.ID] = o }})
	if err != nil {
		t.Fatal(err)
	}

	// Then it went with the triggers, and the store reads back
	if rep.TriggersSkipped {
		t.Fatal("an ordinary role skipped the triggers")
	}
	checkReadsBack(t, pool, eventstore.New(pool, eventstore.Config{}), built, 400)
}

// checkReadsBack checks that the store holds exactly the built orders,
// in events events.
func checkReadsBack(t *testing.T, pool *pgxpool.Pool, store *eventstore.Store, built map[uuid.UUID]order.Order, events int) {
	t.Helper()
	ctx := t.Context()

	// The projections are those the events make
	v, err := projections.Verify(ctx, store, 5)
	if err != nil {
		t.Fatal(err)
	}
	if v.Total != 0 || v.Orders != int64(len(built)) || v.Events != int64(events) {
		t.Fatalf("verify: %d differences in %d orders, %d events: %v", v.Total, v.Orders, v.Events, v.Differences)
	}

	// Each order loads to the state the load decided
	for id, want := range built {
		got, err := store.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !sameState(t, got, want) {
			t.Fatalf("order %s loads as\n%+v\nwant\n%+v", id, got, want)
		}
	}

	// The feed returns every event once, in a cursor order that keeps
	// each order's versions and the times they were recorded in order;
	// the positions are the identity's, 1 to events
	checkFeed(t, store, built, events)
	var minPos, maxPos, count int64
	if err := pool.QueryRow(ctx, `SELECT min(position), max(position), count(DISTINCT position) FROM events`).Scan(&minPos, &maxPos, &count); err != nil {
		t.Fatal(err)
	}
	if minPos != 1 || maxPos != int64(events) || count != int64(events) {
		t.Fatalf("positions %d to %d, %d distinct, want 1 to %d", minPos, maxPos, count, events)
	}

	// And analytics counts the whole feed, to the figures verify
	// recounts
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, running, err := analytics.Reset(ctx, store, conn.Conn())
	conn.Release()
	if err != nil || running || n != events {
		t.Fatalf("analytics counted %d events (consumer running %t): %v", n, running, err)
	}
	if v, err = projections.Verify(ctx, store, 5); err != nil || v.Total != 0 || v.AnalyticsAt.Position == 0 {
		t.Fatalf("verify after analytics: %v, %d differences at %+v: %v", err, v.Total, v.AnalyticsAt, v.Differences)
	}
}

// checkFeed reads the whole feed, a page at a time, as a consumer does.
func checkFeed(t *testing.T, store *eventstore.Store, built map[uuid.UUID]order.Order, events int) {
	t.Helper()
	var (
		at       app.FeedCursor
		seen     = make(map[uuid.UUID]bool)
		versions = make(map[uuid.UUID]int)
		position = make(map[uuid.UUID]int64)
		recorded time.Time
	)
	// A page comes back empty while a transaction the feed cannot tell
	// from one of this database's is in flight (other tests share the
	// server): read on until every event is seen, as a consumer polls.
	for deadline := time.Now().Add(30 * time.Second); len(seen) < events; {
		page, err := store.ReadFeed(t.Context(), app.FeedQuery{After: at, Limit: 97})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, e := range page {
			c := app.FeedCursor{TransactionID: e.TransactionID, Position: e.Position}
			if c.TransactionID < at.TransactionID || c.TransactionID == at.TransactionID && c.Position <= at.Position {
				t.Fatalf("feed goes from %+v back to %+v", at, c)
			}
			at = c
			if seen[e.EventID] {
				t.Fatalf("event %s read twice", e.EventID)
			}
			seen[e.EventID] = true
			if _, ok := built[e.OrderID]; !ok {
				t.Fatalf("event %s of an order the load did not build", e.EventID)
			}
			if e.Version != versions[e.OrderID]+1 || e.Position <= position[e.OrderID] {
				t.Fatalf("order %s: version %d at position %d after version %d at %d", e.OrderID, e.Version, e.Position, versions[e.OrderID], position[e.OrderID])
			}
			versions[e.OrderID], position[e.OrderID] = e.Version, e.Position
			if e.RecordedAt.Before(recorded) || e.RecordedAt.Before(e.OccurredAt) {
				t.Fatalf("event %s recorded at %s, after an event recorded at %s, having occurred at %s", e.EventID, e.RecordedAt, recorded, e.OccurredAt)
			}
			recorded = e.RecordedAt
			if p := e.Metadata.Principal; p.Subject != bulkload.Principal.Subject || p.Roles != bulkload.Principal.Roles || e.Metadata.RequestID == "" {
				t.Fatalf("event %s: metadata %+v", e.EventID, e.Metadata)
			}
		}
	}
	if len(seen) != events {
		t.Fatalf("the feed has %d events, want %d", len(seen), events)
	}
	for id, o := range built {
		if versions[id] != o.Version {
			t.Fatalf("order %s: the feed has %d events, the order %d", id, versions[id], o.Version)
		}
	}
}

// sameState compares two states by their projection rows, which show
// every field as the store keeps it (amounts keep their scale).
func sameState(t *testing.T, a, b order.Order) bool {
	t.Helper()
	ra, err := eventstore.DetailsFromOrder(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := eventstore.DetailsFromOrder(b)
	if err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(ra, rb)
}

// ownerRole creates a login role that owns every table of dbURL's
// database and returns dbURL as that role. The role is dropped when the
// test ends (roles belong to the whole server).
func ownerRole(t *testing.T, dbURL string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	role := pgx.Identifier{"orderapi_test_" + hex.EncodeToString(b)}
	pgtest.Exec(t, dbURL, "CREATE ROLE "+role.Sanitize()+" LOGIN")
	t.Cleanup(func() {
		pgtest.Exec(t, dbURL, "REASSIGN OWNED BY "+role.Sanitize()+" TO postgres; DROP OWNED BY "+role.Sanitize())
		pgtest.Exec(t, dbURL, "DROP ROLE "+role.Sanitize())
	})
	pgtest.Exec(t, dbURL, `DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE %I OWNER TO %I', r.tablename, '`+role[0]+`');
  END LOOP;
END $$`)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role[0])
	return u.String()
}
