package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestAppendFailureWritesNothing(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order at version 2
	o := create(t, s, uuid.New(), uuid.New(), t0)
	o = do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 1))
	before := snapshotTables(t, pool)

	// When a two-event commit fails on its second event (its id is taken),
	// after the first event's row was inserted by the same statement
	c := commitOf(t, o, t0.Add(2*time.Second),
		append(mustDecide(t, o, addItem("Tea", "4.50", 1)), order.Cancelled{OrderID: o.ID, Reason: "r", CancelledBy: "b"})...)
	c.Events[1].ID = c.Events[0].ID
	_, err := s.Append(ctx, c)

	// Then the append fails, and not as a version conflict
	var pgErr *pgconn.PgError
	if err == nil || errors.Is(err, app.ErrAppendConflict) || !errors.As(err, &pgErr) || pgErr.ConstraintName != "events_event_id_key" {
		t.Fatalf("append: %v, want a unique violation on events_event_id_key that is not a version conflict", err)
	}
	// And events, order_details and customer_orders are untouched
	if after := snapshotTables(t, pool); after != before {
		t.Errorf("tables changed by a failed append:\nbefore %s\nafter  %s", before, after)
	}
}

func TestAppendRefusesIncoherentCommits(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	o := create(t, s, uuid.New(), uuid.New(), t0)
	before := snapshotTables(t, pool)

	valid := func() app.Commit {
		return commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "1", 1))...)
	}
	tests := []struct {
		name   string
		commit func() app.Commit
	}{
		{"no events", func() app.Commit { c := valid(); c.Events = nil; return c }},
		{"state behind its events", func() app.Commit { c := valid(); c.State.Version--; return c }},
		{"state of another order", func() app.Commit { c := valid(); c.State.ID = uuid.New(); return c }},
		{"negative expected version", func() app.Commit { c := valid(); c.ExpectedVersion = -1; return c }},
	}
	for _, tt := range tests {
		// When an incoherent commit is appended
		_, err := s.Append(context.Background(), tt.commit())

		// Then it is refused before it reaches the database
		if err == nil || errors.Is(err, app.ErrAppendConflict) {
			t.Errorf("%s: append = %v, want a plain error", tt.name, err)
		}
	}
	if after := snapshotTables(t, pool); after != before {
		t.Errorf("tables changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestEventsAreImmutable(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	o := create(t, s, uuid.New(), uuid.New(), t0)
	do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 1))
	before := snapshotTables(t, pool)

	for _, sql := range []string{
		`UPDATE events SET event_type = 'OrderTampered'`,
		`UPDATE events SET data = '{}' WHERE stream_version = 2`,
		`DELETE FROM events`,
		`DELETE FROM events WHERE stream_version = 2`,
		`TRUNCATE events`,
		`TRUNCATE events CASCADE`,
	} {
		// When raw SQL tries to change history
		_, err := pool.Exec(context.Background(), sql)

		// Then PostgreSQL itself refuses
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "OAIMM" {
			t.Errorf("%s: %v, want SQLSTATE OAIMM", sql, err)
		}
	}
	if after := snapshotTables(t, pool); after != before {
		t.Errorf("events changed:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshotTables returns every row of the store's tables as text, to check
// that an operation changed nothing.
func snapshotTables(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var snapshot string
	err := pool.QueryRow(context.Background(), `
SELECT concat_ws(E'\n',
    (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY position), '[]') FROM events e),
    (SELECT coalesce(jsonb_agg(to_jsonb(d) ORDER BY order_id), '[]') FROM order_details d),
    (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY order_id), '[]') FROM customer_orders c))`).Scan(&snapshot)
	if err != nil {
		t.Fatalf("snapshot tables: %v", err)
	}
	return snapshot
}
