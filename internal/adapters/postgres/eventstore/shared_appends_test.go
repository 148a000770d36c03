package eventstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// sharedStore is a store that runs one append statement at a time, so
// that the appends arriving meanwhile share the next.
func sharedStore(t *testing.T) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	s := eventstore.New(pool, eventstore.Config{Appends: coalesce.Config{MaxInFlight: 1}, Keyring: eventstoretest.Keyring(t, pool)})
	t.Cleanup(s.Close)
	return s, pool
}

// holdAppends starts an append to a fresh order and keeps it waiting on
// that order's projection row until the returned func is called, which
// then waits for the append's outcome: while it waits, the store's one
// statement is in flight and every other append queues for the next.
func holdAppends(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool) (release func()) {
	t.Helper()
	ctx := context.Background()
	o := create(t, s, uuid.New(), uuid.New(), t0)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM order_details WHERE order_id = $1 FOR UPDATE`, o.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Held", "1.00", 1))...))
		done <- err
	}()
	waitUntil(t, func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO events%')`).Scan(&waiting)
		return err == nil && waiting
	})
	return func() {
		t.Helper()
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("held append: %v", err)
		}
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func TestAppendsArrivingTogetherShareOneStatement(t *testing.T) {
	t.Parallel()
	s, pool := sharedStore(t)
	ctx := context.Background()

	// Given orders of several lengths, and a commit for each, half of
	// them claiming an idempotency key
	const n = 12
	commits := make([]app.Commit, n)
	for i := range commits {
		o := create(t, s, uuid.New(), uuid.New(), t0)
		for j := range i % 3 {
			o = do(t, s, o, t0.Add(time.Duration(j+1)*time.Second), addItem("Mug", "19.99", 1))
		}
		c := commitOf(t, o, t0.Add(time.Minute), mustDecide(t, o, addItem("Tea", "4.50", int64(i+1)))...)
		if i%2 == 0 {
			c.Idempotency = app.Idempotency{Key: uuid.NewString(), Fingerprint: sha256.Sum256([]byte{byte(i)}), Principal: "p"}
			c.IdempotencyTTL = time.Hour
		}
		commits[i] = c
	}

	// When they are appended while another append is in flight
	release := holdAppends(t, s, pool)
	appended := make([]app.Appended, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range commits {
		wg.Go(func() { appended[i], errs[i] = s.Append(ctx, commits[i]) })
	}
	time.Sleep(100 * time.Millisecond) // they queue behind the held one
	release()
	wg.Wait()

	// Then each is appended as it would have been alone
	for i, c := range commits {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		positions := assertStream(t, pool, c.OrderID, c.State.Version)
		if last := positions[len(positions)-1]; appended[i].LastPosition != last {
			t.Errorf("append %d: last position %d, the stream's last is %d", i, appended[i].LastPosition, last)
		}
		if got, err := s.Load(ctx, c.OrderID); err != nil || !sameOrder(got, c.State) {
			t.Errorf("load %d = %+v, %v\nwant %+v", i, got, err, c.State)
		}
		if got, err := s.GetOrder(ctx, c.OrderID); err != nil || !sameOrder(got, c.State) {
			t.Errorf("read model of %d = %+v, %v\nwant %+v", i, got, err, c.State)
		}
		rec, found, err := s.LookupIdempotency(ctx, c.Idempotency.Principal, c.Idempotency.Key)
		switch {
		case err != nil:
			t.Fatalf("look up key %d: %v", i, err)
		case c.Idempotency.Key == "" && found:
			t.Errorf("append %d claimed a key it did not have", i)
		case c.Idempotency.Key != "" && (!found || rec.OrderID != c.OrderID || rec.Version != c.State.Version ||
			rec.Position != appended[i].LastPosition || rec.Fingerprint != c.Idempotency.Fingerprint):
			t.Errorf("claim of append %d = %+v, %v; want order %s at version %d, position %d",
				i, rec, found, c.OrderID, c.State.Version, appended[i].LastPosition)
		}
	}
	// And they shared statements: fewer transactions than appends
	earlier := 0 // the creates and the items before, each alone
	for _, c := range commits {
		earlier += c.ExpectedVersion
	}
	var transactions int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT transaction_id) FROM events WHERE stream_id = ANY ($1)`,
		orderIDs(commits)).Scan(&transactions); err != nil {
		t.Fatal(err)
	}
	if shared := transactions - earlier; shared >= n {
		t.Errorf("%d appends made %d transactions", n, shared)
	}
}

func TestASharedStatementThatFailsSendsEachAppendAlone(t *testing.T) {
	t.Parallel()
	s, pool := sharedStore(t)
	ctx := context.Background()

	// Given good commits, a stale one, one whose key another commit
	// holds, and one whose caller gives up while it waits
	var good []app.Commit
	for range 4 {
		o := create(t, s, uuid.New(), uuid.New(), t0)
		good = append(good, commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 1))...))
	}
	o := create(t, s, uuid.New(), uuid.New(), t0)
	do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 1))
	stale := commitOf(t, o, t0.Add(2*time.Second), mustDecide(t, o, addItem("Tea", "4.50", 1))...)

	key := app.Idempotency{Key: "k", Fingerprint: sha256.Sum256([]byte("first")), Principal: "p"}
	holder := create(t, s, uuid.New(), uuid.New(), t0)
	first := commitOf(t, holder, t0.Add(time.Second), mustDecide(t, holder, addItem("Mug", "19.99", 1))...)
	first.Idempotency, first.IdempotencyTTL = key, time.Hour
	mustAppend(t, s, first)
	o = create(t, s, uuid.New(), uuid.New(), t0)
	claimed := commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 1))...)
	claimed.Idempotency, claimed.IdempotencyTTL = key, time.Hour

	o = create(t, s, uuid.New(), uuid.New(), t0)
	abandoned := commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 1))...)

	// When they are appended together
	release := holdAppends(t, s, pool)
	goodErrs := make([]error, len(good))
	var staleErr, claimedErr, abandonedErr error
	var wg sync.WaitGroup
	for i := range good {
		wg.Go(func() { _, goodErrs[i] = s.Append(ctx, good[i]) })
	}
	wg.Go(func() { _, staleErr = s.Append(ctx, stale) })
	wg.Go(func() { _, claimedErr = s.Append(ctx, claimed) })
	gone, giveUp := context.WithCancel(ctx)
	wg.Go(func() { _, abandonedErr = s.Append(gone, abandoned) })
	time.Sleep(100 * time.Millisecond)
	giveUp()
	release()
	wg.Wait()

	// Then each is told its own outcome
	for i, err := range goodErrs {
		if err != nil {
			t.Errorf("good append %d: %v", i, err)
		}
		assertStream(t, pool, good[i].OrderID, 2)
	}
	if !errors.Is(staleErr, app.ErrAppendConflict) {
		t.Errorf("stale append: %v, want app.ErrAppendConflict", staleErr)
	}
	assertStream(t, pool, stale.OrderID, 2)
	if !errors.Is(claimedErr, app.ErrKeyClaimed) {
		t.Errorf("append with a claimed key: %v, want app.ErrKeyClaimed", claimedErr)
	}
	assertStream(t, pool, claimed.OrderID, 1)
	// And an append given up before it was sent wrote nothing
	if !errors.Is(abandonedErr, context.Canceled) {
		t.Errorf("abandoned append: %v, want context.Canceled", abandonedErr)
	}
	assertStream(t, pool, abandoned.OrderID, 1)
}

func orderIDs(commits []app.Commit) []uuid.UUID {
	ids := make([]uuid.UUID, len(commits))
	for i, c := range commits {
		ids[i] = c.OrderID
	}
	return ids
}

func TestSharedAppendsSealEachCustomersPersonalData(t *testing.T) {
	t.Parallel()
	s, pool := sharedStore(t)
	ctx := context.Background()

	// Given orders of several customers ready to be placed, one customer
	// erased by another replica since this one last sealed for it
	const n = 6
	customers := make([]uuid.UUID, n)
	commits := make([]app.Commit, n)
	for i := range commits {
		customers[i] = uuid.New()
		o := create(t, s, uuid.New(), customers[i], t0)
		o = do(t, s, o, t0, addItem("Tea", "4.50", 1))
		commits[i] = commitOf(t, o, t0.Add(time.Minute), mustDecide(t, o, placeAt(secretAddress))...)
	}
	placed(t, s, customers[0])
	erase(t, pool, customers[0], eventstoretest.Keyring(t, pool))

	// When they are placed while another append is in flight
	release := holdAppends(t, s, pool)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range commits {
		wg.Go(func() { _, errs[i] = s.Append(ctx, commits[i]) })
	}
	time.Sleep(100 * time.Millisecond) // they queue behind the held one
	release()
	wg.Wait()

	// Then every order reads back with its address, sealed in the tables
	for i, c := range commits {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		for name, read := range map[string]func() (order.Order, error){
			"load":       func() (order.Order, error) { return s.Load(ctx, c.OrderID) },
			"projection": func() (order.Order, error) { return s.GetOrder(ctx, c.OrderID) },
		} {
			if got, err := read(); err != nil || got.Erased || got.ShippingAddress == nil || *got.ShippingAddress != secretAddress {
				t.Errorf("%s of %d: %+v, %v", name, i, got, err)
			}
		}
	}
	if dump := tablesText(t, pool); strings.Contains(dump, "Marrowfinch") {
		t.Error("an address is stored in clear")
	}
}
