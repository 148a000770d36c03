//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

const (
	// workers send commands concurrently, each order's in turn.
	workers = 6
	// acksPerPhase is how many commands are acknowledged between faults,
	// so that each fault strikes a service under load however fast the
	// machine is.
	acksPerPhase = 200
	// outage is how long the database stays down after it is killed or
	// stopped, while the load goes on and every endpoint is probed.
	outage = 2 * time.Second
)

// TestCrashes drives the real binary with concurrent commands on a
// PostgreSQL cluster of its own, and meanwhile kills the service with
// SIGKILL and restarts it, kills the database's postmaster with SIGKILL
// and restarts it (crash recovery), and shuts the database down fast and
// restarts it. Every command carries an Idempotency-Key and is retried
// until acknowledged, also after a 500 outcome_unknown, the answer to an
// append the database died under. While the database is down, every
// endpoint that needs it must answer 503 unavailable with Retry-After,
// never another 500, and the service must recover on its own. Afterwards, nothing acknowledged is
// lost, nothing is doubled, and every projection, the feed and the
// analytics figures agree with the events.
func TestCrashes(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Given the binary, a cluster of its own, and the service on it
	bin, pg := binaryAndCluster(t)
	if err := pg.createDB(ctx, "orderapi"); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, bin, pg.url("orderapi"))
	if err := svc.start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("binary built, cluster and service up in %s", time.Since(began).Round(time.Millisecond))
	defer func() {
		if t.Failed() {
			t.Logf("the service's last log lines:\n%s", svc.logTail())
			t.Logf("the database's last log lines:\n%s", pg.logTail())
		}
	}()

	// And concurrent commands, and a client following the live feed
	c := newClient(svc.base(), svc.token)
	lr := &liveReader{c: c}
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	go lr.run(liveCtx)
	stop := make(chan struct{})
	errs := make(chan error, workers)
	running := load(ctx, c, workers, stop, errs)
	var report []string

	// When the service is killed mid-load and restarted
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	killed := time.Now()
	svc.kill()
	if err := svc.start(ctx); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(killed)
	acked := awaitAcks(t, ctx, c, errs, 1)
	report = append(report, fmt.Sprintf("service kill -9: ready again after %s, commands acknowledged again after %s",
		ready.Round(time.Millisecond), acked.Sub(killed).Round(time.Millisecond)))

	// And the database is crashed, then shut down fast, mid-load
	outages := []struct {
		name string
		down func() error
	}{
		{"postmaster kill -9", pg.crash},
		{"fast shutdown", pg.stopFast},
	}
	for _, o := range outages {
		awaitAcks(t, ctx, c, errs, acksPerPhase)
		listens := len(svc.logLines("listening for appended events"))
		consumers := len(svc.logLines("analytics lock taken"))
		if err := o.down(); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		// Then every endpoint that needs the database answers 503
		endProbe := make(chan struct{})
		probed := make(chan int, 1)
		lastAck := c.lastAck()
		go func() { probed <- probeOutage(ctx, c, lastAck, customers[0], endProbe) }()
		time.Sleep(outage)
		close(endProbe)
		n := <-probed
		restarted := time.Now()
		if err := pg.start(); err != nil {
			t.Fatal(err)
		}
		up := time.Since(restarted)
		// And the service recovers by itself: answers, listens, consumes
		acked := awaitAcks(t, ctx, c, errs, 1)
		ready := awaitReady(t, ctx, c)
		listened := awaitLog(t, ctx, svc, "listening for appended events", listens)
		consumed := awaitLog(t, ctx, svc, "analytics lock taken", consumers)
		since := func(at time.Time) string { return at.Sub(restarted).Round(time.Millisecond).String() }
		report = append(report, fmt.Sprintf("database %s: %d probes answered while down; up after %s; then ready %s, "+
			"commands acknowledged %s, listener back %s, analytics consumer back %s",
			o.name, n, up.Round(time.Millisecond), since(ready), since(acked), since(listened), since(consumed)))
	}

	// And the load runs a while longer, then stops
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	close(stop)
	running.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Then nothing acknowledged is lost and nothing is doubled
	pool, err := pgxpool.New(ctx, pg.url("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	events, err := readEvents(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	checkStreams(t, events, c.allAcks())
	// And every projection equals a replay of the events
	checkProjections(t, ctx, eventstore.New(pool, eventstore.Config{Keyring: svc.keyring(t, pool)}), events)
	switch summary, ok, err := svc.verifyProjections(ctx); {
	case err != nil:
		t.Error(err)
	case ok:
		report = append(report, "orderapi projections verify: "+summary)
	}
	// And the feed, paged or live, has every event exactly once
	paged, err := readFeed(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	checkOnce(t, "the feed read from the start", paged, events)
	live, streams := awaitLive(ctx, lr, len(events))
	stopLive()
	checkOnce(t, fmt.Sprintf("the live feed (%d streams)", streams), live, events)
	// And the analytics figures equal a recomputation
	checkAnalytics(t, ctx, c, pool, events)
	// And no answer broke the contract
	for _, w := range c.wrong {
		t.Error(w)
	}

	// And the service logged no internal error (a 500, a live feed cut)
	for _, line := range svc.logLines(`"level":"error"`) {
		t.Errorf("the service logged an error: %s", line)
	}

	t.Logf("%d commands sent, %d acknowledged (%d of them replayed by their Idempotency-Key), %d retries, "+
		"%d answers that an outcome was unknown; %d events in %d orders; answers by status %v",
		c.sent.Load(), c.acked.Load(), c.replayed.Load(), c.retried.Load(), c.unknown.Load(), len(events), orders(events), c.statuses)
	for _, line := range report {
		t.Log(line)
	}
	t.Logf("the live feed followed every event over %d streams; done in %s", streams, time.Since(began).Round(time.Second))
}

// awaitAcks waits until n more commands are acknowledged, and returns
// when the last was; a worker's error ends the test.
func awaitAcks(t *testing.T, ctx context.Context, c *client, errs <-chan error, n int64) time.Time {
	t.Helper()
	target := c.acked.Load() + n
	for c.acked.Load() < target {
		select {
		case err := <-errs:
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("%d of %d acknowledgements: %v", c.acked.Load(), target, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return time.Now()
}

func awaitReady(t *testing.T, ctx context.Context, c *client) time.Time {
	t.Helper()
	if err := c.get(ctx, "/readyz", nil); err != nil {
		t.Fatalf("not ready again: %v", err)
	}
	return time.Now()
}

// awaitLog waits until the service has logged msg more than n times.
func awaitLog(t *testing.T, ctx context.Context, svc *service, msg string, n int) time.Time {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(svc.logLines(msg)) <= n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("the service did not log %q again within 60s", msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Now()
}

// awaitLive waits until the live feed has delivered n events, or 60s.
func awaitLive(ctx context.Context, lr *liveReader, n int) ([]string, int) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ids, streams := lr.received()
		if len(ids) >= n || time.Now().After(deadline) || ctx.Err() != nil {
			return ids, streams
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func orders(events []storedEvent) int {
	n := 0
	for _, e := range events {
		if e.Version == 1 {
			n++
		}
	}
	return n
}
