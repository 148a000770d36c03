package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// These tests hold transactions open on purpose. The feed passes over
// transactions it can see belong to other databases, but one it cannot
// place (one that ended between the snapshot and the look at
// pg_stat_activity) still holds it back a moment. So no test here expects
// an event at once unless it says why; each polls for it with a deadline.

const feedWait = 20 * time.Second

func newFeedService(t *testing.T, store *eventstore.Store) *app.Service {
	t.Helper()
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// lateEvent is an event written by a transaction the test controls.
type lateEvent struct {
	ID       uuid.UUID
	Position int64
	XID      uint64
}

// insertCreated writes the first event of a new order's stream in tx, as
// a writer in the middle of its transaction: the row has its position, and
// nobody else sees it until tx commits.
func insertCreated(t testing.TB, tx pgx.Tx) lateEvent {
	t.Helper()
	e, err := tryInsertCreated(tx)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	return e
}

func tryInsertCreated(tx pgx.Tx) (lateEvent, error) {
	const sql = `
INSERT INTO events (event_id, stream_id, stream_version, event_type, data, occurred_at)
VALUES ($1, $2, 1, 'OrderCreated', $3::jsonb, now())
RETURNING position, transaction_id`
	orderID := uuid.New()
	e := lateEvent{ID: uuid.Must(uuid.NewV7())}
	data := fmt.Sprintf(`{"order_id":%q,"customer_id":%q,"currency":"USD"}`, orderID, uuid.New())
	err := tx.QueryRow(context.Background(), sql, e.ID, orderID, data).Scan(&e.Position, &e.XID)
	return e, err
}

// readFeed reads the feed after c, in pages of limit, until it has n
// events, and returns them and the cursor after them.
func readFeed(t testing.TB, svc *app.Service, c app.FeedCursor, n, limit int) ([]app.RecordedEvent, app.FeedCursor) {
	t.Helper()
	var got []app.RecordedEvent
	deadline := time.Now().Add(feedWait)
	for len(got) < n {
		page, err := svc.Feed(context.Background(), app.FeedQuery{After: c, Limit: limit})
		if err != nil {
			t.Fatalf("feed after %+v: %v", c, err)
		}
		got = append(got, page.Events...)
		c = page.Next
		if len(page.Events) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the feed gave %d events, want %d", len(got), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return got, c
}

// naiveRead is the reader this feed is built not to be: it takes what is
// visible after the last position it saw. It returns the positions read.
func naiveRead(t testing.TB, pool *pgxpool.Pool, after int64) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT position FROM events WHERE position > $1 ORDER BY position`, after)
	if err != nil {
		t.Fatal(err)
	}
	positions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return positions
}

func ids(events []app.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.EventID
	}
	return out
}

// TestFeedWaitsForLateCommit is the bug that ordering by position alone
// has: PostgreSQL hands out positions at insert, but rows become visible
// at commit, so a transaction that commits after a later position was
// read is skipped for good.
func TestFeedWaitsForLateCommit(t *testing.T) {
	t.Parallel()
	// Given a reader, and a naive one, that have read the whole feed
	store, pool := newStore(t)
	svc := newFeedService(t, store)
	create(t, store, uuid.New(), uuid.New(), t0)
	_, cursor := readFeed(t, svc, app.FeedCursor{}, 1, 10)
	naive := slices.Max(naiveRead(t, pool, 0))

	// When a writer has inserted an event but not committed
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	late := insertCreated(t, tx)
	// and others commit events at later positions meanwhile
	o1 := create(t, store, uuid.New(), uuid.New(), t0)
	o2 := create(t, store, uuid.New(), uuid.New(), t0)

	// Then the naive reader moves past the open transaction's position
	seen := naiveRead(t, pool, naive)
	if len(seen) != 2 || seen[0] <= late.Position {
		t.Fatalf("naive reader read positions %v, want the 2 after %d", seen, late.Position)
	}
	naive = slices.Max(seen)
	// while ours stays before it: nothing is readable past it yet
	page, err := svc.Feed(t.Context(), app.FeedQuery{After: cursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 || page.Next != cursor {
		t.Fatalf("while a writer is open, the feed gave %d events and next %+v, want none and %+v", len(page.Events), page.Next, cursor)
	}
	if lateCursor := (app.FeedCursor{TransactionID: late.XID, Position: late.Position}); !page.Next.Before(lateCursor) {
		t.Fatalf("cursor %+v passed the open transaction's event at %+v", page.Next, lateCursor)
	}

	// When the late writer commits
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Then our reader gets its event next, then the later ones
	events, _ := readFeed(t, svc, cursor, 3, 10)
	if events[0].EventID != late.ID || events[1].OrderID != o1.ID || events[2].OrderID != o2.ID {
		t.Errorf("after the commit the feed gave orders %v, want the late event %s first", ids(events), late.ID)
	}
	// and the naive reader never will: it has skipped it
	if more := naiveRead(t, pool, naive); len(more) != 0 || late.Position > naive {
		t.Fatalf("naive reader: late position %d, last read %d, then %v", late.Position, naive, more)
	}
}

// TestFeedPassesRolledBackHoles: a rolled-back or failed append consumes
// positions that no event will ever have; the feed neither stalls nor
// fails on them.
func TestFeedPassesRolledBackHoles(t *testing.T) {
	t.Parallel()
	// Given committed events with holes between them: rolled-back
	// transactions, and appends that lost a version race
	store, pool := newStore(t)
	svc := newFeedService(t, store)
	var want []uuid.UUID
	rollback := func() {
		tx, err := pool.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		insertCreated(t, tx)
		insertCreated(t, tx)
		if err := tx.Rollback(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		rollback()
		id := uuid.New()
		o := create(t, store, id, uuid.New(), t0)
		want = append(want, id)
		events, _ := order.Create(id, uuid.New(), "USD")
		if _, err := store.Append(t.Context(), commitOf(t, order.Order{ID: id}, t0, events...)); !errors.Is(err, app.ErrAppendConflict) {
			t.Fatalf("second create of %s: %v, want a version conflict", id, err)
		}
		do(t, store, o, t0, addItem("Cup", "1.00", 1))
		want = append(want, id)
	}
	rollback()
	var count, maxPos int64
	if err := pool.QueryRow(t.Context(), "SELECT count(*), max(position) FROM events").Scan(&count, &maxPos); err != nil {
		t.Fatal(err)
	}
	if count != 10 || maxPos <= count {
		t.Fatalf("%d events up to position %d: want 10, with holes", count, maxPos)
	}

	// When a reader pages through in small pages
	events, c := readFeed(t, svc, app.FeedCursor{}, 10, 3)

	// Then it gets every committed event once, in order
	for i, e := range events {
		if e.OrderID != want[i] {
			t.Fatalf("event %d is of order %s, want %s", i, e.OrderID, want[i])
		}
	}
	// and at the end, past more holes, it continues with the next commit
	rollback()
	next := create(t, store, uuid.New(), uuid.New(), t0)
	rollback()
	events, _ = readFeed(t, svc, c, 1, 3)
	if events[0].OrderID != next.ID {
		t.Errorf("after the holes the feed gave order %s, want %s", events[0].OrderID, next.ID)
	}
}

// TestFeedConcurrentWritersExactlyOnce tails the feed while writers
// append through the service, to their own orders and to shared ones, and
// others commit late or roll back: the reader must see every committed
// event exactly once, each order's in version order.
func TestFeedConcurrentWritersExactlyOnce(t *testing.T) {
	t.Parallel()
	store, pool := newStore(t)
	svc := newFeedService(t, store)
	concurrentWritersExactlyOnce(t, svc, pool, svc)
}

// concurrentWritersExactlyOnce writes through svc, and over pool, from
// several writers while reader tails the feed, and checks that reader
// reads every event stored exactly once.
func concurrentWritersExactlyOnce(t *testing.T, svc *app.Service, pool *pgxpool.Pool, reader *app.Service) {
	t.Helper()
	const (
		writers  = 8
		commands = 50
		pageSize = 7
	)
	ctx := t.Context()
	customer := uuid.New()
	var shared [2]uuid.UUID
	for i := range shared {
		res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: customer}, apptest.AsStaff)
		if err != nil {
			t.Fatal(err)
		}
		shared[i] = res.Order.ID
	}

	// Writers: each creates an order, then adds and removes items, 50
	// commands, on it and on a shared order.
	errs := make(chan error, writers+1)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: customer}, apptest.AsStaff)
			if err != nil {
				errs <- err
				return
			}
			orders := []uuid.UUID{res.Order.ID, shared[w%2]}
			for i := 0; i < commands; i += 2 {
				target := app.Target{OrderID: orders[(i/2)%2], Metadata: apptest.AsStaff}
				product := uuid.New()
				if _, err := svc.AddItem(ctx, target, order.NewItem{ProductID: product, ProductName: "Cup", Quantity: 1, UnitPrice: price("2.50")}); err != nil {
					errs <- fmt.Errorf("writer %d: add: %w", w, err)
					return
				}
				if _, err := svc.RemoveItem(ctx, target, product); err != nil {
					errs <- fmt.Errorf("writer %d: remove: %w", w, err)
					return
				}
			}
		})
	}
	// A slow writer: transactions that stay open a few milliseconds, while
	// the others commit later positions, then commit or roll back.
	wg.Go(func() {
		for i := range 40 {
			tx, err := pool.Begin(ctx)
			if err != nil {
				errs <- err
				return
			}
			if _, err := tryInsertCreated(tx); err != nil {
				errs <- err
				return
			}
			time.Sleep(time.Duration(i%4) * time.Millisecond)
			if i%3 == 0 {
				err = tx.Rollback(ctx)
			} else {
				err = tx.Commit(ctx)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	})
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	// The reader tails the feed in small pages until the writers are done
	// and it has caught up with what they committed.
	var (
		seen     = map[uuid.UUID]bool{}
		versions = map[uuid.UUID]int{}
		c        app.FeedCursor
		total    = -1
		deadline = time.Now().Add(time.Minute)
	)
	for total < 0 || len(seen) < total {
		if total < 0 {
			select {
			case <-writing:
				if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&total); err != nil {
					t.Fatal(err)
				}
			default:
			}
		}
		page, err := reader.Feed(ctx, app.FeedQuery{After: c, Limit: pageSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if seen[e.EventID] {
				t.Fatalf("event %s read twice", e.EventID)
			}
			seen[e.EventID] = true
			if e.Version != versions[e.OrderID]+1 {
				t.Fatalf("order %s: version %d after %d", e.OrderID, e.Version, versions[e.OrderID])
			}
			versions[e.OrderID] = e.Version
		}
		c = page.Next
		if len(page.Events) < pageSize {
			if time.Now().After(deadline) {
				t.Fatalf("read %d events of %d", len(seen), total)
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Then what it read is exactly what is stored
	rows, err := pool.Query(ctx, "SELECT event_id FROM events")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(seen) {
		t.Fatalf("read %d events, %d stored", len(seen), len(stored))
	}
	for _, id := range stored {
		if !seen[id] {
			t.Errorf("event %s was never read", id)
		}
	}
	if least := writers*(1+commands) + len(shared); len(stored) < least {
		t.Errorf("%d events stored, want at least %d", len(stored), least)
	}
}

// TestFeedIgnoresOtherDatabases: a write transaction held open in another
// database of the same server cannot write this database's events, so it
// must not hold this feed back (the snapshot's xmin alone would).
func TestFeedIgnoresOtherDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := newStore(t)
	svc := newFeedService(t, store)
	start := feedEnd(t, svc)

	// Given a transaction holding an xid open in another database
	other := pgtest.New(t)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	insertCreated(t, tx)

	// When this database commits an event
	o := create(t, store, uuid.New(), uuid.New(), time.Now())

	// Then the feed returns it at once, not when the other commits
	page, err := svc.Feed(ctx, app.FeedQuery{After: start, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].OrderID != o.ID {
		t.Fatalf("feed after the commit: %d events, want this database's one event at once", len(page.Events))
	}
}

// feedEnd is the cursor after every event the feed returns now.
func feedEnd(t *testing.T, svc *app.Service) app.FeedCursor {
	t.Helper()
	var c app.FeedCursor
	for {
		page, err := svc.Feed(context.Background(), app.FeedQuery{After: c, Limit: app.MaxFeedPage})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 {
			return c
		}
		c = page.Next
	}
}
