package projections_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// The analytics consumer, run as its own tests run it.

// analyticsWait bounds how long a test waits for the consumer to catch up.
const analyticsWait = 30 * time.Second

func newAnalytics(t *testing.T, s *eventstore.Store, cfg analytics.Config) *analytics.Projector {
	t.Helper()
	if cfg.LockRetry == 0 {
		cfg.LockRetry = 50 * time.Millisecond
	}
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	a, err := analytics.New(s, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runAnalytics runs the consumer until the returned stop is called (or the
// test ends); stop waits for Run to return.
func runAnalytics(t *testing.T, a *analytics.Projector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// feedHead is the last committed event in feed order.
func feedHead(t *testing.T, pool *pgxpool.Pool) app.FeedCursor {
	t.Helper()
	var c app.FeedCursor
	err := pool.QueryRow(context.Background(),
		`SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`).
		Scan(&c.TransactionID, &c.Position)
	if err != nil {
		t.Fatalf("feed head: %v", err)
	}
	return c
}

// waitCaughtUp waits until the projection has counted every committed
// event.
func waitCaughtUp(t *testing.T, pool *pgxpool.Pool, a *analytics.Projector) {
	t.Helper()
	head := feedHead(t, pool)
	deadline := time.Now().Add(analyticsWait)
	for {
		at, err := a.AnalyticsPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if at == head {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the projection is at %+v after %s, the feed at %+v", at, analyticsWait, head)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertExact fails the test unless the projection's figures equal a
// recomputation from the event store, and returns the number of days.
func assertExact(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	ctx := context.Background()
	want, err := analyticstest.Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	got, err := analyticstest.Projected(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := analyticstest.Diff(want, got); diff != "" {
		t.Errorf("analytics_daily differs from a recomputation from the events:\n%s", diff)
	}
	return len(want)
}
