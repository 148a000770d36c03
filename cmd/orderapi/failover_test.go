package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// Bounds of the failover test's phases, so that a stall fails at once and
// names what stalled. Each is many times what the phase takes (a command
// takes milliseconds; the takeover, about one LockRetry).
const (
	// holderWait bounds the wait for a replica to report the lock.
	holderWait = 15 * time.Second
	// commandBudget bounds one command, retries included.
	commandBudget = 20 * time.Second
)

// errLoadStopped ends the failover test's load once a command failed.
var errLoadStopped = errors.New("another command failed")

// TestAnalyticsFailoverAcrossProcesses runs three server processes on one
// database, drives concurrent orders through all three, kills the one that
// runs the analytics consumer with SIGKILL in the middle, and keeps going
// on the other two: another process takes the consumer over, and once it
// has counted the last event, every figure equals a recomputation from the
// event store.
//
// A failure reports the time line of the test, the slowest commands, the
// database's activity while anything stalled, and each replica's last log
// lines (see diagnostics).
func TestAnalyticsFailoverAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes")
	}
	t.Parallel()
	diag := newDiagnostics()

	// Given three replicas of the real binary on one fresh database
	dbURL := pgtest.NewURL(t)
	diag.dbURL = dbURL
	diag.mark("test database created")
	bin := buildBinary(t)
	diag.mark("binary built")
	// The deadline bounds the run from here on; the setup above has bounds
	// of its own, and the time line reports how long it took.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	replicas := make([]*replica, 3)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { replicas[i] = startReplica(t, bin, dbURL) })
	}
	wg.Wait()
	diag.mark("replicas serving")
	c := &cluster{replicas: replicas, client: &http.Client{Timeout: 10 * time.Second, Transport: bearer{}}, diag: diag}
	// Cleanups run last first: these two run before the replicas stop. A
	// connection the client opened but never used would hold a replica's
	// graceful stop for 5s (net/http waits that long for a first request
	// on a new connection), so the client closes its idle ones first.
	t.Cleanup(func() { diag.report(t, replicas) })
	t.Cleanup(c.client.CloseIdleConnections)

	// And exactly one of them runs the consumer
	holder := c.waitForHolder(t, ctx)
	diag.mark(fmt.Sprintf("replica %d found holding the lock", holder.index))

	// When concurrent orders go to all three, and the holder is killed
	// a third of the way through
	const orders = 40
	var (
		issued   atomic.Int64
		takeover = make(chan time.Duration, 1) // closed empty if it never came
		atKill   atomic.Int64
	)
	work := make(chan int, orders)
	for i := range orders {
		work <- i
	}
	close(work)
	// The first command that fails stops the load: the others would only
	// pile up behind the same stall.
	loadCtx, stopLoad := context.WithCancelCause(ctx)
	defer stopLoad(nil)
	var load sync.WaitGroup
	for w := range 8 {
		load.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for range work {
				if err := c.orderLife(loadCtx, rng, &issued); err != nil {
					if !errors.Is(context.Cause(loadCtx), errLoadStopped) {
						t.Error(err)
					}
					stopLoad(errLoadStopped)
					return
				}
			}
		})
	}
	load.Go(func() {
		for issued.Load() < 80 {
			if loadCtx.Err() != nil {
				if !t.Failed() {
					t.Errorf("the load stopped after %d commands, before the kill: %v", issued.Load(), context.Cause(loadCtx))
				}
				close(takeover)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		atKill.Store(issued.Load())
		holder.kill(t)
		killedAt := time.Now()
		diag.mark(fmt.Sprintf("replica %d killed after %d commands", holder.index, atKill.Load()))
		stopWatch := diag.watch(fmt.Sprintf("the takeover after replica %d was killed", holder.index))
		defer stopWatch()
		var lastErr error
		for ctx.Err() == nil && time.Since(killedAt) < holderWait {
			holders, err := c.holders(ctx)
			if err == nil && len(holders) > 0 {
				diag.mark(fmt.Sprintf("replica %d took the consumer over", holders[0].index))
				takeover <- time.Since(killedAt)
				return
			}
			lastErr = err
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("no replica took the consumer over in the %s after the kill; the last poll's error: %v",
			time.Since(killedAt).Round(time.Millisecond), lastErr)
		close(takeover)
	})
	load.Wait()
	diag.mark("load done")
	took, ok := <-takeover
	if !ok {
		t.Fatalf("%d commands over %d orders, and no takeover to check", issued.Load(), orders)
	}
	t.Logf("%d commands over %d orders; replica %d (the consumer) killed with SIGKILL after %d of them",
		issued.Load(), orders, holder.index, atKill.Load())

	// Then another replica takes the consumer over within seconds
	next := c.waitForHolder(t, ctx)
	if took > 10*time.Second {
		t.Errorf("the consumer was taken over %s after the kill", took)
	}
	t.Logf("replica %d took the consumer over %s after the kill", next.index, took.Round(time.Millisecond))

	// And once it has counted the last event, the figures are exact
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var last int64
	if err := pool.QueryRow(ctx, `SELECT max(position) FROM events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	got := c.dailyFigures(t, ctx, last)
	diag.mark("figures read")
	want, err := analyticstest.Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := analyticstest.Diff(want, got); diff != "" {
		t.Errorf("the figures differ from a recomputation from the events:\n%s", diff)
	}
}
