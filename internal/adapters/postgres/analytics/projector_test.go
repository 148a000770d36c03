package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
)

// TestAnalyticsEqualsRecomputation drives random order histories over
// several currencies and days through the app, with the consumer running
// alongside in small batches, and holds every figure to a recomputation
// from the event store.
func TestAnalyticsEqualsRecomputation(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			// Given a consumer running while random commands are issued
			s, pool := newStore(t)
			a := newAnalytics(t, s, analytics.Config{BatchSize: 1 + int(seed)*7})
			runAnalytics(t, a)
			h := newRandomHistory(t, s, seed)
			if err := h.run(context.Background(), 300); err != nil {
				t.Fatal(err)
			}

			// When it has caught up
			waitCaughtUp(t, pool, a)

			// Then its figures are exact, over several days
			if days := assertExact(t, pool); days < 6 {
				t.Errorf("the history spans %d days and currencies; the test wants more", days)
			}
		})
	}
}

// TestAnalyticsExactlyOnceAcrossStops stops the consumer again and again,
// between batches and inside a batch's transaction (its context cancelled,
// or its connection killed, just before the commit), and restarts it:
// every event still counts exactly once.
func TestAnalyticsExactlyOnceAcrossStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	h := newRandomHistory(t, s, 42)
	rng := rand.New(rand.NewPCG(42, 7))
	// Each stop comes after more orders are written, so that there is
	// always a batch to stop in.
	more := func(n int) {
		t.Helper()
		if err := h.run(ctx, n); err != nil {
			t.Fatal(err)
		}
	}

	// Stopped at random moments: Run's context ends between batches or
	// inside one
	a := newAnalytics(t, s, analytics.Config{BatchSize: 3})
	for range 15 {
		more(20)
		stop := runAnalytics(t, a)
		time.Sleep(time.Duration(rng.IntN(5_000)) * time.Microsecond)
		stop()
	}

	// Stopped inside a batch's transaction: the third batch of each run
	// cancels the consumer's context after its writes, before its commit
	var cancelled atomic.Int32
	for range 5 {
		more(30)
		a := newAnalytics(t, s, analytics.Config{BatchSize: 3})
		runCtx, cancel := context.WithTimeout(ctx, analyticsWait)
		var batches int
		a.SetBeforeCommit(func(context.Context) {
			if batches++; batches == 3 {
				cancelled.Add(1)
				cancel()
			}
		})
		if err := a.Run(runCtx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
		cancel()
	}

	// Stopped by the death of its connection: the session that holds the
	// lock is terminated from outside, mid-transaction, three times
	more(60)
	var killed, batches atomic.Int32
	b := newAnalytics(t, s, analytics.Config{BatchSize: 3})
	b.SetBeforeCommit(func(context.Context) {
		if batches.Add(1)%4 == 0 && killed.Load() < 3 {
			terminateLockHolder(t, pool)
			killed.Add(1)
		}
	})
	runAnalytics(t, b)
	waitCaughtUp(t, pool, b)

	if cancelled.Load() != 5 || killed.Load() != 3 {
		t.Fatalf("cancelled %d and killed %d transactions before their commit, want 5 and 3", cancelled.Load(), killed.Load())
	}
	assertExact(t, pool)
}

// terminateLockHolder ends the session that holds the consumer's lock, as
// a crash or a network failure would.
func terminateLockHolder(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var ok bool
	err := pool.QueryRow(context.Background(), `
SELECT pg_terminate_backend(pid)
  FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((classid::bigint << 32) | objid::bigint) = $1`, analytics.LockKey).Scan(&ok)
	if err != nil || !ok {
		t.Errorf("terminate the lock holder: %v, %v", ok, err)
	}
}

// TestAnalyticsOneConsumerAtATime starts two consumers, as two replicas
// would, while orders are written: one holds the lock and consumes, the
// other waits; when the holder stops, the other takes over. The figures
// stay exact.
func TestAnalyticsOneConsumerAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	// Each replica has its own pool, as separate processes would.
	s2 := eventstore.New(secondPool(t, pool), eventstore.Config{})
	a := newAnalytics(t, s, analytics.Config{BatchSize: 5})
	b := newAnalytics(t, s2, analytics.Config{BatchSize: 5})
	stopA := runAnalytics(t, a)
	stopB := runAnalytics(t, b)

	// While orders are written, exactly one of them holds the lock
	h := newRandomHistory(t, s, 7)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := h.run(ctx, 200); err != nil {
			t.Error(err)
		}
	})
	both, holders := 0, map[bool]int{}
	waitFor(t, "a consumer to take the lock", func() bool { return a.HoldsLock() || b.HoldsLock() })
	for range 200 {
		ha, hb := a.HoldsLock(), b.HoldsLock()
		if ha && hb {
			both++
		}
		holders[ha]++
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	if both > 0 {
		t.Errorf("both consumers held the lock %d times", both)
	}
	if holders[true] > 0 && holders[false] > 0 {
		t.Errorf("the lock changed hands without a failure: %v", holders)
	}
	waitCaughtUp(t, pool, a)
	assertExact(t, pool)

	// When the holder stops, the other takes over and counts what follows
	holder, other := stopA, b
	if !a.HoldsLock() {
		holder, other = stopB, a
	}
	holder()
	waitFor(t, "the other consumer to take over", other.HoldsLock)
	if err := h.run(ctx, 100); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, pool, other)
	assertExact(t, pool)
}

// TestAnalyticsCheckpointIsCompareAndSet runs two consumers that bypass the
// lock, as if it had failed: both read the same batch, only one may count
// it, and the other writes nothing.
func TestAnalyticsCheckpointIsCompareAndSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	h := newRandomHistory(t, s, 9)
	if err := h.run(ctx, 120); err != nil {
		t.Fatal(err)
	}
	a := newAnalytics(t, s, analytics.Config{BatchSize: 10})
	conns := [2]*pgxpool.Conn{acquire(t, pool), acquire(t, pool)}

	// Both at once, from the same checkpoint, until the feed is drained.
	// A read may come back short or empty while transactions elsewhere on
	// the server hold the feed back; only a consumer that read something
	// can count it.
	head := feedHead(t, pool)
	var from app.FeedCursor
	for round := 0; from != head; round++ {
		var (
			wg      sync.WaitGroup
			results [2]app.FeedCursor
			counted [2]int
			errs    [2]error
		)
		for i := range conns {
			wg.Go(func() { results[i], counted[i], errs[i] = a.CountBatch(ctx, conns[i].Conn(), from) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case counted[i] == 0:
			case err == nil:
				won++
				from = results[i]
			case !errors.Is(err, analytics.ErrCheckpointMoved):
				t.Fatalf("round %d, consumer %d: %v", round, i, err)
			}
		}
		if won > 1 || (won == 0 && counted[0]+counted[1] > 0) {
			t.Fatalf("round %d: %d consumers counted the batch, want exactly 1 (read %v, errors %v)", round, won, counted, errs)
		}
		if won == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}

	// A stale consumer, far behind, is refused too
	if _, _, err := a.CountBatch(ctx, conns[0].Conn(), app.FeedCursor{}); !errors.Is(err, analytics.ErrCheckpointMoved) {
		t.Errorf("a consumer from the start of the feed: %v, want ErrCheckpointMoved", err)
	}
	assertExact(t, pool)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(analyticsWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", analyticsWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// secondPool opens another pool on the same database, as another replica
// would have.
func secondPool(t *testing.T, pool *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func acquire(t *testing.T, pool *pgxpool.Pool) *pgxpool.Conn {
	t.Helper()
	c, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	return c
}
