package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// insertStream writes a stream's events as rows, as a release whose
// replicas' clocks disagreed could have: the append would give them one
// clock, the table takes any time.
func insertStream(t *testing.T, pool *pgxpool.Pool, id uuid.UUID, events []app.NewEvent) {
	t.Helper()
	c := codec.New(codec.Config{})
	for i, e := range events {
		schema, data, err := c.Encode(e.Event)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(context.Background(), `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, id, i+1, e.Event.EventType(), schema, string(data), e.OccurredAt); err != nil {
			t.Fatal(err)
		}
	}
}

// replayOf folds the first n events here, without the store.
func replayOf(events []app.NewEvent, n int) order.Order {
	var o order.Order
	for _, e := range events[:n] {
		o.Apply(e.Event, e.OccurredAt)
	}
	return o
}

// TestAsOfWithSkewedClocks: as of a time, a stream whose times do not
// grow with its versions answers the state after its longest run of first
// events that all occurred by then, from the start and from snapshots
// alike.
func TestAsOfWithSkewedClocks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given a stream whose third and fifth events were written by a
	// replica whose clock was behind
	s, pool := snapshotStore(t, 1)
	plain := eventstore.New(pool, eventstore.Config{})
	id, mug, tea := uuid.New(), uuid.New(), uuid.New()
	at := func(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }
	event := func(e order.Event, seconds int) app.NewEvent {
		return app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: at(seconds)}
	}
	events := []app.NewEvent{
		event(order.Created{OrderID: id, CustomerID: uuid.New(), Currency: "EUR"}, 0),
		event(order.ItemAdded{OrderID: id, ProductID: mug, ProductName: "Mug", Quantity: 1, UnitPrice: price("4.50")}, 10),
		event(order.ItemAdded{OrderID: id, ProductID: tea, ProductName: "Tea", Quantity: 2, UnitPrice: price("3")}, 5),
		event(order.ItemRemoved{OrderID: id, ProductID: mug}, 20),
		event(order.Placed{OrderID: id, ShippingAddress: address, TotalAmount: dec("6")}, 15),
	}
	insertStream(t, pool, id, events)

	// and a snapshot at every version, written by the writer after a load
	runWriter(t, s)
	mustLoad(t, s, id)
	eventually(t, "five snapshots", func() bool { return len(snapshotRows(t, pool, id)) == 5 })
	// Then each snapshot knows the latest time any of its events occurred
	for v, want := range []time.Time{at(0), at(10), at(10), at(20), at(20)} {
		var until time.Time
		if err := pool.QueryRow(ctx, `SELECT occurred_until FROM stream_snapshots WHERE stream_id = $1 AND version = $2`, id, v+1).Scan(&until); err != nil || !until.Equal(want) {
			t.Errorf("snapshot at %d: occurred_until %s, %v; want %s", v+1, until, err, want)
		}
	}

	for _, tt := range []struct {
		asOf time.Time
		want int // 0: not found
	}{
		{at(-1), 0},
		{at(0), 1},
		{at(5), 1}, // the third occurred by then, but the second did not
		{at(10), 3},
		{at(15), 3}, // the fifth did, but the fourth did not
		{at(20), 5},
	} {
		for name, store := range map[string]*eventstore.Store{"from the start": plain, "from snapshots": s} {
			// When the order is read as of a time
			got, err := store.LoadAsOf(ctx, id, tt.asOf)
			// Then it is the state after the run of events up to it
			if tt.want == 0 {
				if !errors.Is(err, order.ErrNotFound) {
					t.Errorf("%s, as of %s: %+v, %v; want not found", name, tt.asOf, got, err)
				}
				continue
			}
			if want := replayOf(events, tt.want); err != nil || !sameOrder(got, want) {
				t.Errorf("%s, as of %s: version %d, %v; want version %d", name, tt.asOf, got.Version, err, tt.want)
			}
		}
	}
}
