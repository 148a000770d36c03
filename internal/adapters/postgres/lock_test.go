package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgactivity"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/rs/zerolog"
)

const testLockKey int64 = 0x746573746c6f636b // "testlock"

// eventually waits up to 10s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

func TestLockTryIsExclusive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	lock := postgres.NewLock(pool, postgres.LockConfig{Key: testLockKey, Name: "test"})

	// Given the lock held
	held, err := lock.Try(ctx)
	if err != nil || held == nil {
		t.Fatalf("Try = %v, %v; want the lock", held, err)
	}
	// Then another Try does not get it, and gives its connection back
	if again, err := lock.Try(ctx); err != nil || again != nil {
		t.Fatalf("second Try = %v, %v; want nil, nil", again, err)
	}
	if got := pool.Stat().AcquiredConns(); got != 1 {
		t.Errorf("%d connections acquired, want only the holder's", got)
	}
	// When it is released
	held.Release()
	// Then it can be taken again, once the server has ended the session
	var again *postgres.Holding
	eventually(t, "Try after Release takes the lock", func() bool {
		again, err = lock.Try(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return again != nil
	})
	again.Release()
}

func TestLockRunElectsOneAndHandsOver(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	log := zerolog.New(zerolog.NewTestWriter(t))
	cfg := postgres.LockConfig{Key: testLockKey, Name: "test", Retry: 20 * time.Millisecond, Log: log}
	a, b := postgres.NewLock(pool, cfg), postgres.NewLock(pool, cfg)

	// Given two workers competing for the lock
	work := func(ctx context.Context, conn *pgx.Conn) error {
		<-ctx.Done()
		return ctx.Err()
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan error, 1)
	doneB := make(chan error, 1)
	go func() { doneA <- a.Run(ctxA, work) }()
	eventually(t, "a takes the lock", a.Held)
	go func() { doneB <- b.Run(ctxB, work) }()

	// Then only one holds it
	time.Sleep(100 * time.Millisecond)
	if b.Held() {
		t.Fatal("both workers hold the lock")
	}
	// When the holder stops, the other takes over
	stopA()
	if err := <-doneA; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if a.Held() {
		t.Error("a stopped worker still says it holds the lock")
	}
	eventually(t, "b takes over", b.Held)
	stopB()
	<-doneB
}

func TestLockIsLostWithItsSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	log := zerolog.New(zerolog.NewTestWriter(t))
	cfg := postgres.LockConfig{Key: testLockKey, Name: "test", Retry: 20 * time.Millisecond, Log: log}
	lock := postgres.NewLock(pool, cfg)

	// Given a worker holding the lock that queries on the lock's connection
	pids := make(chan uint32, 10)
	workCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- lock.Run(workCtx, func(ctx context.Context, conn *pgx.Conn) error {
			pids <- conn.PgConn().PID()
			for {
				if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
					return err
				}
				if err := postgres.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
			}
		})
	}()
	first := <-pids

	// When its session is ended from outside
	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend($1)", first); err != nil {
		t.Fatal(err)
	}

	// Then the worker competes again and holds the lock on a new session:
	// the ended one took it along
	var second uint32
	select {
	case second = <-pids:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not take the lock again")
	}
	if second == first {
		t.Fatalf("the worker holds the lock again on the ended session %d", first)
	}
	if holder, held, err := pgactivity.AdvisoryHolder(ctx, pool, testLockKey); err != nil || !held || holder != second {
		t.Errorf("lock held by session %d (%v, %v), want %d", holder, held, err, second)
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}
