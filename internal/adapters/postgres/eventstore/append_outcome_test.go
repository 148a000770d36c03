package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestAppendOutlastingItsWaitIsEndedAndResolved: an append still blocked
// when its wait for an outcome runs out is ended in the database, so that
// it cannot commit later, and then answered for what it is: not done.
func TestAppendOutlastingItsWaitIsEndedAndResolved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	s.SetAppendOutcomeWait(300 * time.Millisecond)

	// Given a transaction holding the order's projection row
	o, c, tx := heldAppend(t, s, pool)

	// When an append waits for it past its wait
	start := time.Now()
	_, err := s.Append(ctx, c)

	// Then it is unavailable (not done), soon after its wait
	if !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("append = %v, want unavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("append answered after %s", took)
	}
	// And it never commits, even once the lock is free
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE stream_id = $1", o.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d events after an append that was ended, want 1", n)
	}
	// And the order takes the command again
	if _, err := s.Append(ctx, c); err != nil {
		t.Errorf("append again: %v", err)
	}
}

// TestAnEndedSessionIsNotAnUnknownOutcome: pg_terminate_backend is false
// also for a session that ended just before it was called; the session
// being gone then is enough to know the append did not commit.
func TestAnEndedSessionIsNotAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a store told false when it ends an append's session, as for
	// one that ended just before it was told to
	s, pool := newStore(t)
	s.SetAppendOutcomeWait(300 * time.Millisecond)
	s.EndSessionsReportingFalse()
	_, c, _ := heldAppend(t, s, pool)
	// When an append waits for the lock past its wait, and is ended
	_, err := s.Append(ctx, c)
	// Then it is known not to have committed
	if errors.Is(err, app.ErrOutcomeUnknown) || !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("append = %v, want unavailable (not done)", err)
	}
}

// heldAppend creates an order, holds its projection row in a transaction
// the test ends, and returns the commit of an item added to it, whose
// append waits for that row.
func heldAppend(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool) (order.Order, app.Commit, pgx.Tx) {
	t.Helper()
	ctx := context.Background()
	o := create(t, s, uuid.New(), uuid.New(), t0)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, "SELECT 1 FROM order_details WHERE order_id = $1 FOR UPDATE", o.ID); err != nil {
		t.Fatal(err)
	}
	events, err := o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: "Cup", Quantity: 1, UnitPrice: price("1.00")})
	if err != nil {
		t.Fatal(err)
	}
	return o, commitOf(t, o, t0, events...), tx
}
