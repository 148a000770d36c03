package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// startListener runs a Listener over the pool until the test ends, and
// returns it with a subscription that has seen its first wake-up: the one
// it sends once it listens.
func startListener(t *testing.T, pool *pgxpool.Pool) (*notify.Listener, <-chan struct{}) {
	t.Helper()
	l := notify.NewListener(pool, zerolog.New(zerolog.NewTestWriter(t)))
	wake, cancel := l.Subscribe()
	t.Cleanup(cancel)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	// Registered after pgtest's pool.Close, so it runs before it: a pool
	// waits for its connections to come back before it closes.
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	waitWake(t, wake, "the wake-up after LISTEN")
	return l, wake
}

// run runs l until the test ends.
func run(t *testing.T, l *notify.Listener) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		<-done
	})
}

func waitWake(t *testing.T, wake <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatalf("no wake-up: %s", what)
	}
}

func noWake(t *testing.T, wake <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-wake:
		t.Fatalf("woken: %s", what)
	case <-time.After(300 * time.Millisecond):
	}
}

// announcingStore returns a store that announces its appends through a
// running Announcer, as the binary's does. The Announcer has no local
// Listener: every wake-up in these tests travels through the database, as
// it does to other replicas.
func announcingStore(t *testing.T, pool *pgxpool.Pool) *eventstore.Store {
	t.Helper()
	a := notify.NewAnnouncer(pool, zerolog.New(zerolog.NewTestWriter(t)), nil)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Announcer.Run returned %v, want context.Canceled", err)
		}
	})
	return eventstore.New(pool, eventstore.Config{Announcer: a})
}

func TestListenerWakesSubscribersOnCommitOnly(t *testing.T) {
	t.Parallel()
	// Given a listener with two subscribers, and a third that has left,
	// and a store that announces its appends
	_, pool := newStore(t)
	store := announcingStore(t, pool)
	l, first := startListener(t, pool)
	second, cancel := l.Subscribe()
	defer cancel()
	gone, leave := l.Subscribe()
	leave()

	// When an append fails
	o := create(t, store, uuid.New(), uuid.New(), t0)
	waitWake(t, first, "the order's creation")
	waitWake(t, second, "the order's creation")
	stale := commitOf(t, order.Order{}, t0, order.Created{OrderID: o.ID, CustomerID: o.CustomerID, Currency: "USD"})
	if _, err := store.Append(t.Context(), stale); err == nil {
		t.Fatal("a second creation of one order was appended")
	}
	// or an insert rolls back
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	insertCreated(t, tx)
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Then nobody is woken
	noWake(t, first, "a failed append or a rolled-back insert")
	noWake(t, second, "a failed append or a rolled-back insert")

	// When a burst of appends commits
	for range 3 {
		create(t, store, uuid.New(), uuid.New(), t0)
	}
	// Then each subscriber is woken, the burst read as one or more
	// wake-ups, and the one that left is not
	waitWake(t, first, "a committed append")
	waitWake(t, second, "a committed append")
	select {
	case <-gone:
		t.Error("a cancelled subscription was woken")
	default:
	}
}

func TestListenerSurvivesLostConnection(t *testing.T) {
	t.Parallel()
	// Given a listener that listens
	_, pool := newStore(t)
	store := announcingStore(t, pool)
	_, wake := startListener(t, pool)
	pid := listeningBackend(t, pool, 0)

	// When the server ends its connection
	if _, err := pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}

	// Then it listens again on another one and wakes everybody, since
	// notifications may have been lost meanwhile
	waitWake(t, wake, "the wake-up after reconnecting")
	listeningBackend(t, pool, pid)
	// and appends still wake its subscribers
	create(t, store, uuid.New(), uuid.New(), t0)
	waitWake(t, wake, "an append after reconnecting")
}

// listeningBackend waits for a backend of the test's database other than
// not to be listening for appended events, and returns its pid.
func listeningBackend(t *testing.T, pool *pgxpool.Pool, not int32) int32 {
	t.Helper()
	const sql = `
SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND query = 'LISTEN orderapi_events' AND pid <> $1`
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid int32
		err := pool.QueryRow(t.Context(), sql, not).Scan(&pid)
		if err == nil {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backend listens: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAnnouncerWakesItsOwnListenerAtOnce(t *testing.T) {
	t.Parallel()
	// Given a listener that is not listening yet (its Run has not started),
	// and a store announcing through an Announcer that names it as local
	// and is not running either
	_, pool := newStore(t)
	l := notify.NewListener(pool, zerolog.New(zerolog.NewTestWriter(t)))
	wake, cancel := l.Subscribe()
	defer cancel()
	a := notify.NewAnnouncer(pool, zerolog.New(zerolog.NewTestWriter(t)), l)
	store := eventstore.New(pool, eventstore.Config{Announcer: a})

	// When an append commits
	create(t, store, uuid.New(), uuid.New(), t0)

	// Then the local subscriber is woken without the database's help
	select {
	case <-wake:
	default:
		t.Fatal("the local listener's subscriber was not woken by the append")
	}
}

func TestAppendsNotifyNothingInTheirOwnTransaction(t *testing.T) {
	t.Parallel()
	// Given a session listening on the channel, and a store that does not
	// announce
	store, pool := newStore(t)
	conn, err := pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = conn.Conn().Close(context.Background())
		conn.Release()
	}()
	if _, err := conn.Exec(t.Context(), "LISTEN orderapi_events"); err != nil {
		t.Fatal(err)
	}

	// When an append commits
	create(t, store, uuid.New(), uuid.New(), t0)

	// Then the database sent no notification: appends do not notify from
	// within their transaction, which would serialize their commits
	ctx, stop := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer stop()
	if n, err := conn.Conn().WaitForNotification(ctx); err == nil {
		t.Fatalf("notified by the append itself: %+v", n)
	}
}

// heard is a Handler that records what it hears.
type heard struct {
	payloads  chan string
	listening chan struct{}
	lost      chan struct{}
}

func newHeard() *heard {
	return &heard{payloads: make(chan string, 16), listening: make(chan struct{}, 16), lost: make(chan struct{}, 16)}
}

func (h *heard) Notified(payload string) { h.payloads <- payload }
func (h *heard) Listening()              { h.listening <- struct{}{} }
func (h *heard) Lost()                   { h.lost <- struct{}{} }

func (h *heard) waitListening(t *testing.T, what string) {
	t.Helper()
	select {
	case <-h.listening:
	case <-time.After(10 * time.Second):
		t.Fatalf("the handler was not told: %s", what)
	}
}

func (h *heard) waitPayload(t *testing.T, want string) {
	t.Helper()
	select {
	case p := <-h.payloads:
		if p != want {
			t.Errorf("payload %q, want %q", p, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the handler did not hear %q", want)
	}
}

func TestListenerHandsFurtherChannelsToTheirHandler(t *testing.T) {
	t.Parallel()
	// Given a listener that also hears a further channel, with a
	// subscriber of appended events
	_, pool := newStore(t)
	const channel = "orderapi_test_further"
	h := newHeard()
	l := notify.NewListener(pool, zerolog.New(zerolog.NewTestWriter(t)))
	l.Handle(channel, h)
	wake, cancel := l.Subscribe()
	defer cancel()
	run(t, l)
	// Then the handler is told once it listens
	h.waitListening(t, "the first LISTEN")
	waitWake(t, wake, "the wake-up after LISTEN")
	pid := listeningBackend(t, pool, 0)

	// When a notification on that channel commits
	if _, err := pool.Exec(t.Context(), "SELECT pg_notify($1, $2)", channel, "payload-1"); err != nil {
		t.Fatal(err)
	}
	// Then the handler gets its payload, and it is no wake-up for appends
	h.waitPayload(t, "payload-1")
	noWake(t, wake, "a notification of another channel")

	// When the session is lost
	if _, err := pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	// Then the handler is told again once another session listens, and
	// hears that channel there
	h.waitListening(t, "the LISTEN after reconnecting")
	listeningBackend(t, pool, pid)
	if _, err := pool.Exec(t.Context(), "SELECT pg_notify($1, $2)", channel, "payload-2"); err != nil {
		t.Fatal(err)
	}
	h.waitPayload(t, "payload-2")
}

func TestListenerGivesUpASilentSessionAndIsNotReadyUntilItListensAgain(t *testing.T) {
	t.Parallel()
	// Given a listener, not running yet, whose connections pass through a
	// network that may stall, that asks its session after 100ms without a
	// notification and waits 200ms for the answer, and hears a further
	// channel
	_, pool := newStore(t)
	through, stall := pgtest.Stalling(t, pool)
	const every, wait = 100 * time.Millisecond, 200 * time.Millisecond
	const channel = "orderapi_test_further"
	h := newHeard()
	l := notify.NewListener(through, zerolog.New(zerolog.NewTestWriter(t)))
	l.SetHeartbeat(every, wait)
	l.Handle(channel, h)
	// Then it is not ready before it listens
	if err := l.Ready(t.Context()); err == nil {
		t.Error("ready before it ever listened")
	}

	// When it runs
	run(t, l)
	// Then it listens and is ready, and stays so over several heartbeats
	// that its session answers
	h.waitListening(t, "the first LISTEN")
	<-l.Listened()
	time.Sleep(5 * every)
	if err := l.Ready(t.Context()); err != nil {
		t.Fatalf("not ready while its session answers: %v", err)
	}
	select {
	case <-h.lost:
		t.Fatal("a session that answers its heartbeat was given up")
	default:
	}

	// When the network stalls: the connection stays open, nothing arrives
	stalled := time.Now()
	stall.Stop()

	// Then it gives the session up within a heartbeat and its wait, tells
	// the handler, and is not ready, saying why
	select {
	case <-h.lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was not told of the stalled session")
	}
	if took := time.Since(stalled); took > every+wait+time.Second {
		t.Errorf("the stalled session was given up after %s, want about %s", took, every+wait)
	}
	err := l.Ready(t.Context())
	var public interface{ PublicReason() string }
	if !errors.As(err, &public) || !strings.Contains(public.PublicReason(), "does not listen") {
		t.Errorf("ready while the session is stalled: %v", err)
	}
	// And it stays not ready while the stall lasts, as it cannot listen
	time.Sleep(5 * every)
	if err := l.Ready(t.Context()); err == nil {
		t.Error("ready while the network is still stalled")
	}

	// When the network flows again
	stall.Resume()

	// Then it listens on a new session, tells the handler, is ready, and
	// hears the channel there
	h.waitListening(t, "the LISTEN after the stall")
	for deadline := time.Now().Add(10 * time.Second); l.Ready(t.Context()) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready after listening again")
		}
	}
	if _, err := pool.Exec(t.Context(), "SELECT pg_notify($1, $2)", channel, "after the stall"); err != nil {
		t.Fatal(err)
	}
	h.waitPayload(t, "after the stall")
}
