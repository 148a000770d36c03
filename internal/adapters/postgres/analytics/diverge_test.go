package analytics

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

func TestAStateRowGoneFromUnderTheMemoryFailsTheBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a consumer that counted an order and remembers it
	s, pool := eventstoretest.New(t)
	o := eventstoretest.Create(t, s, uuid.New(), uuid.New(), eventstoretest.T0)
	a, err := New(s, zerolog.Nop(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	mem := newOrderStates(10)
	at, err := countOnce(ctx, a, conn.Conn(), app.FeedCursor{}, mem)
	if err != nil || mem.len() != 1 {
		t.Fatalf("first batch: %v, %d orders remembered", err, mem.len())
	}

	// When its row is deleted by hand, and the order changes
	if _, err := pool.Exec(ctx, `DELETE FROM analytics_orders`); err != nil {
		t.Fatal(err)
	}
	eventstoretest.Do(t, s, o, eventstoretest.T0, eventstoretest.AddItem("Cup", "1", 1))

	// Then the next batch writes nothing and forgets every order
	if _, err := countOnce(ctx, a, conn.Conn(), at, mem); !errors.Is(err, errStatesDiverged) {
		t.Errorf("second batch: %v, want errStatesDiverged", err)
	}
	if mem.len() != 0 {
		t.Errorf("%d orders still remembered", mem.len())
	}
	if c, err := Checkpoint(ctx, pool); err != nil || c != at {
		t.Errorf("checkpoint %+v (%v), want %+v", c, err, at)
	}
}

// countOnce reads one batch after from and counts it with mem.
func countOnce(ctx context.Context, a *Projector, conn *pgx.Conn, from app.FeedCursor, mem *orderStates) (app.FeedCursor, error) {
	to, _, err := a.countBatch(ctx, conn, from, mem)
	return to, err
}
