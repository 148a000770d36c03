package eventstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func claim(key, request string) app.Idempotency {
	return app.Idempotency{Key: key, Fingerprint: sha256.Sum256([]byte(request))}
}

// withClaim makes c claim the key for a day.
func withClaim(c app.Commit, idem app.Idempotency) app.Commit {
	c.Idempotency, c.IdempotencyTTL = idem, 24*time.Hour
	return c
}

func countClaims(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM idempotency_keys`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppendClaimsTheKeyWithItsEvents(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()

	// Given an order at version 1
	o := create(t, s, uuid.New(), uuid.New(), t0)

	// When a commit claims a key
	idem := claim("key-1", "add mug")
	c := withClaim(commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 1))...), idem)
	appended, err := s.Append(ctx, c)
	if err != nil {
		t.Fatal(err)
	}

	// Then the key names the commit: the order, its version after it and
	// the position of its last event
	rec, found, err := s.LookupIdempotency(ctx, "", "key-1")
	if err != nil || !found {
		t.Fatalf("lookup = %v, %v", found, err)
	}
	want := app.IdempotencyRecord{Fingerprint: idem.Fingerprint, OrderID: o.ID, Version: 2, Position: appended.LastPosition}
	if rec != want {
		t.Errorf("record = %+v\nwant %+v", rec, want)
	}
	// And another key is free
	if _, found, err := s.LookupIdempotency(ctx, "", "key-2"); found || err != nil {
		t.Errorf("lookup of an unused key = %v, %v", found, err)
	}
}

func TestFailedAppendClaimsNothing(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order at version 2
	o := create(t, s, uuid.New(), uuid.New(), t0)
	stale := o
	o = do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 1))
	before := snapshotTables(t, pool)

	// When a commit with a key is decided on version 1
	c := withClaim(commitOf(t, stale, t0.Add(2*time.Second), mustDecide(t, stale, addItem("Tea", "4.50", 1))...), claim("key-1", "add tea"))
	_, err := s.Append(ctx, c)

	// Then it is a version conflict, and neither events nor the claim exist
	if !errors.Is(err, app.ErrAppendConflict) {
		t.Fatalf("append: %v, want app.ErrAppendConflict", err)
	}
	if after := snapshotTables(t, pool); after != before {
		t.Errorf("tables changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := countClaims(t, pool); n != 0 {
		t.Errorf("%d claims after a failed append", n)
	}
	// And the key is still free for a commit that succeeds
	c = withClaim(commitOf(t, o, t0.Add(3*time.Second), mustDecide(t, o, addItem("Tea", "4.50", 1))...), claim("key-1", "add tea"))
	if _, err := s.Append(ctx, c); err != nil {
		t.Fatalf("append with the key after the failure: %v", err)
	}
	assertStream(t, pool, o.ID, 3)
}

func TestAppendWithAClaimedKeyWritesNothing(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order created with a key
	id := uuid.New()
	events, err := order.Create(id, uuid.New(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, withClaim(commitOf(t, order.Order{ID: id}, t0, events...), claim("key-1", "create")))
	before := snapshotTables(t, pool)

	// When another order's creation claims the same key
	other := uuid.New()
	events, err = order.Create(other, uuid.New(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(ctx, withClaim(commitOf(t, order.Order{ID: other}, t0, events...), claim("key-1", "create")))

	// Then it is refused as claimed, classified by the constraint, and the
	// other order does not exist
	if !errors.Is(err, app.ErrKeyClaimed) || errors.Is(err, app.ErrAppendConflict) {
		t.Fatalf("append: %v, want app.ErrKeyClaimed", err)
	}
	if after := snapshotTables(t, pool); after != before {
		t.Errorf("tables changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := countClaims(t, pool); n != 1 {
		t.Errorf("%d claims, want 1", n)
	}
}

func TestConcurrentClaimsOfOneKeyOneWins(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	const writers = 20

	// Given 20 creations of different orders, all with one key
	commits := make([]app.Commit, writers)
	for i := range commits {
		id := uuid.New()
		events, err := order.Create(id, uuid.New(), "USD")
		if err != nil {
			t.Fatal(err)
		}
		commits[i] = withClaim(commitOf(t, order.Order{ID: id}, t0, events...), claim("key-1", "create"))
	}

	// When they append at once
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range commits {
		wg.Go(func() {
			<-start
			_, errs[i] = s.Append(context.Background(), commits[i])
		})
	}
	close(start)
	wg.Wait()

	// Then one wins, the others are refused as claimed, and only the
	// winner's order exists
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, app.ErrKeyClaimed):
			t.Errorf("writer %d: %v, want app.ErrKeyClaimed", i, err)
		}
	}
	var orders int
	if err := pool.QueryRow(context.Background(), `SELECT count(DISTINCT stream_id) FROM events`).Scan(&orders); err != nil {
		t.Fatal(err)
	}
	if won != 1 || orders != 1 || countClaims(t, pool) != 1 {
		t.Errorf("%d won, %d orders, %d claims; want 1 of each", won, orders, countClaims(t, pool))
	}
}

// expire makes every claim expired a second ago.
func expire(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(),
		`UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredKeyIsNew(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order created with a key whose claim has expired
	o := create(t, s, uuid.New(), uuid.New(), t0)
	o = do(t, s, o, t0, addItem("Mug", "19.99", 1))
	c := withClaim(commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Tea", "4.50", 1))...), claim("key-1", "add tea"))
	o = mustAppend(t, s, c)
	expire(t, pool)

	// Then a lookup does not find it
	if _, found, err := s.LookupIdempotency(ctx, "", "key-1"); found || err != nil {
		t.Fatalf("lookup of an expired key = %v, %v", found, err)
	}
	// And a new commit claims it, without waiting for the purge
	next := withClaim(commitOf(t, o, t0.Add(2*time.Second), mustDecide(t, o, addItem("Jam", "3.00", 1))...), claim("key-1", "add jam"))
	appended, err := s.Append(ctx, next)
	if err != nil {
		t.Fatalf("append claiming an expired key: %v", err)
	}
	rec, found, err := s.LookupIdempotency(ctx, "", "key-1")
	if err != nil || !found || rec.Version != 4 || rec.Position != appended.LastPosition || rec.Fingerprint != next.Idempotency.Fingerprint {
		t.Errorf("lookup = %+v, %v, %v; want the new claim at version 4", rec, found, err)
	}
}

func TestPurgeIdempotencyKeys(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given 7 expired claims and one live
	for i := range 7 {
		id := uuid.New()
		events, err := order.Create(id, uuid.New(), "USD")
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, s, withClaim(commitOf(t, order.Order{ID: id}, t0, events...), claim("old-"+uuid.NewString(), "create"+string(rune('a'+i)))))
	}
	expire(t, pool)
	live := uuid.New()
	events, err := order.Create(live, uuid.New(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, withClaim(commitOf(t, order.Order{ID: live}, t0, events...), claim("live", "create")))

	// When two replicas purge in batches of 2 at once, until done
	var (
		mu     sync.Mutex
		purged int64
		wg     sync.WaitGroup
	)
	for range 2 {
		wg.Go(func() {
			for {
				n, err := s.PurgeIdempotencyKeys(ctx, 2)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				purged += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()

	// Then exactly the expired claims are gone, each deleted once
	if purged != 7 || countClaims(t, pool) != 1 {
		t.Errorf("purged %d, %d left; want 7 and 1", purged, countClaims(t, pool))
	}
	if _, found, err := s.LookupIdempotency(ctx, "", "live"); !found || err != nil {
		t.Errorf("live claim: %v, %v", found, err)
	}
}

func TestKeysAreScopedByPrincipal(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given two orders, each with a commit claiming the same key under
	// another principal
	a := create(t, s, uuid.New(), uuid.New(), t0)
	b := create(t, s, uuid.New(), uuid.New(), t0)
	idemA := claim("same-key", "add mug to a")
	idemA.Principal = "alice"
	idemB := claim("same-key", "add mug to b")
	idemB.Principal = "bob"
	if _, err := s.Append(ctx, withClaim(commitOf(t, a, t0.Add(time.Second), mustDecide(t, a, addItem("Mug", "1", 1))...), idemA)); err != nil {
		t.Fatal(err)
	}

	// When the second principal claims it too
	_, err := s.Append(ctx, withClaim(commitOf(t, b, t0.Add(time.Second), mustDecide(t, b, addItem("Mug", "1", 1))...), idemB))

	// Then both claims stand, each found under its own principal only
	if err != nil {
		t.Fatalf("second principal's claim of the same key: %v", err)
	}
	if n := countClaims(t, pool); n != 2 {
		t.Errorf("claims = %d, want 2", n)
	}
	for _, tt := range []struct {
		principal string
		order     uuid.UUID
	}{{"alice", a.ID}, {"bob", b.ID}} {
		rec, found, err := s.LookupIdempotency(ctx, tt.principal, "same-key")
		if err != nil || !found || rec.OrderID != tt.order {
			t.Errorf("lookup as %s = %+v, %v, %v; want order %s", tt.principal, rec, found, err, tt.order)
		}
	}
	if _, found, err := s.LookupIdempotency(ctx, "", "same-key"); found || err != nil {
		t.Errorf("lookup unscoped = %v, %v; want not found", found, err)
	}
}
