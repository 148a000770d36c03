// Package analyticstest recomputes the analytics projection's figures from
// the event store alone, so that tests can hold the projection to them,
// and runs the projector as tests run it.
//
// The recomputation itself is analytics.Recount, whose counting `orderapi
// projections verify` uses too: it shares nothing with the projection but
// the event codec. This package gives tests its results and a readable
// diff.
package analyticstest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// Key names a day (YYYY-MM-DD, UTC) and a currency.
type Key = analytics.Key

// Figures are one day's figures in one currency.
type Figures = analytics.Figures

// Querier is a pool or a connection.
type Querier = postgres.Querier

// Recompute replays every committed stream and counts its events.
func Recompute(ctx context.Context, db Querier) (map[Key]Figures, error) {
	return analytics.Recount(ctx, db)
}

// Projected reads the projection's figures from analytics_daily.
func Projected(ctx context.Context, db Querier) (map[Key]Figures, error) {
	return analytics.Projected(ctx, db)
}

// Diff lists the days whose figures differ, or "" when none does.
func Diff(want, got map[Key]Figures) string {
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Currency, b.Currency))
	})
	var b strings.Builder
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%s %s: missing, want %s\n", k.Date, k.Currency, w)
		case !inWant:
			fmt.Fprintf(&b, "%s %s: %s, want no row\n", k.Date, k.Currency, g)
		case !w.Equal(g):
			fmt.Fprintf(&b, "%s %s:\n  got  %s\n  want %s\n", k.Date, k.Currency, g, w)
		}
	}
	return b.String()
}

// Wait bounds how long a test waits for the consumer to catch up.
const Wait = 30 * time.Second

// NewProjector returns a projector over the store that retries and polls
// every 50ms unless cfg says otherwise, logging warnings to the test.
func NewProjector(t testing.TB, s *eventstore.Store, cfg analytics.Config) *analytics.Projector {
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

// Run runs the consumer until the returned stop is called (or the
// test ends); stop waits for Run to return.
func Run(t testing.TB, a *analytics.Projector) (stop func()) {
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

// FeedHead is the last committed event in feed order.
func FeedHead(t testing.TB, pool *pgxpool.Pool) app.FeedCursor {
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

// WaitCaughtUp waits until the projection has counted every committed
// event.
func WaitCaughtUp(t testing.TB, pool *pgxpool.Pool, a *analytics.Projector) {
	t.Helper()
	head := FeedHead(t, pool)
	deadline := time.Now().Add(Wait)
	for {
		at, err := a.AnalyticsPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if at == head {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the projection is at %+v after %s, the feed at %+v", at, Wait, head)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// AssertExact fails the test unless the projection's figures equal a
// recomputation from the event store, and returns the number of days.
func AssertExact(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	ctx := context.Background()
	want, err := Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Projected(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := Diff(want, got); diff != "" {
		t.Errorf("analytics_daily differs from a recomputation from the events:\n%s", diff)
	}
	return len(want)
}
