package standby_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
)

// TestPositionNoEventWillHaveIsRefused: a min_position beyond every
// event, or the hole a refused write left, is refused as unknown at once,
// and each time: no write that may commit it is running, and no retry
// would help.
func TestPositionNoEventWillHaveIsRefused(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation, a wait for positions of a minute, and
	// a hole: the position a refused create took and rolled back
	f := newFixture(t, standby.Config{PositionWait: 20 * time.Second})
	p, meta := customer()
	id, first := f.createOrder(t, p, meta)
	if _, err := f.svc.CreateOrder(t.Context(), app.NewOrder{ID: id, CustomerID: p.CustomerID}, meta); !errors.Is(err, app.ErrExists) {
		t.Fatalf("create the order again: %v, want ErrExists", err)
	}
	_, next := f.createOrder(t, p, meta)
	if next != first+2 {
		t.Fatalf("positions %d, then %d after the refused create: want a hole between", first, next)
	}
	f.standby.CatchUp(t, f.primary)

	for _, read := range []struct {
		what     string
		position int64
	}{
		{"beyond every event", next + 1000},
		{"the refused create's hole", first + 1},
	} {
		for range 2 {
			// When an order is read at that position
			began := time.Now()
			_, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id, MinPosition: read.position})

			// Then it is refused as unknown, long before the wait ends,
			// by no database
			if !errors.Is(err, app.ErrUnknownPosition) || src != (app.ReadSource{}) {
				t.Errorf("read at %s (%d): %v from %+v, want ErrUnknownPosition from none", read.what, read.position, err, src)
			}
			if took := time.Since(began); took > 5*time.Second {
				t.Errorf("read at %s took %s: it waited", read.what, took)
			}
		}
	}
	// And a page of the feed, a list and a history are refused so too
	if _, err := f.svc.Feed(t.Context(), app.FeedQuery{MinPosition: first + 1}); !errors.Is(err, app.ErrUnknownPosition) {
		t.Errorf("the feed at the hole: %v, want ErrUnknownPosition", err)
	}
	if _, err := f.svc.ListCustomerOrders(t.Context(), p, app.ListQuery{CustomerID: p.CustomerID, MinPosition: first + 1}); !errors.Is(err, app.ErrUnknownPosition) {
		t.Errorf("the list at the hole: %v, want ErrUnknownPosition", err)
	}
	if _, err := f.svc.OrderEventPage(t.Context(), p, app.EventQuery{OrderID: id, MinPosition: next + 1000}); !errors.Is(err, app.ErrUnknownPosition) {
		t.Errorf("the history beyond every event: %v, want ErrUnknownPosition", err)
	}
}

// TestPositionOfAWriteStillRunning: a position that a write still running
// holds is waited for: 503 projection_lagging (retry) while the write
// runs past the wait, answered once it commits.
func TestPositionOfAWriteStillRunning(t *testing.T) {
	t.Parallel()
	// Given an item being added to an order, its write held up
	f := newFixture(t, standby.Config{PositionWait: time.Second})
	w := f.holdAdd(t)

	// When its position is read while the write stays held past the wait
	_, _, err := f.svc.ReadOrder(t.Context(), w.reader, app.OrderQuery{ID: w.order, MinPosition: w.position})

	// Then it is refused as lagging (retry), saying the databases have not
	// reached the position, not that a projection has not processed it
	if ae, ok := errors.AsType[*app.Error](err); !ok || ae.Code != app.ErrProjectionLagging.Code || ae.Message != app.ErrPositionNotReached.Message {
		t.Errorf("read at a position a running write holds: %v, want ErrPositionNotReached", err)
	}

	// When it is read again, and the write goes on 200ms later
	go func() {
		time.Sleep(200 * time.Millisecond)
		w.release()
	}()
	o, _, err := f.svc.ReadOrder(t.Context(), w.reader, app.OrderQuery{ID: w.order, MinPosition: w.position})

	// Then the read waits for it, and has the item
	if err != nil || len(o.Items) != 1 {
		t.Errorf("read at the position of a write that commits during the wait: %d items (%v), want its item", len(o.Items), err)
	}
	if res := <-w.done; res.err != nil || res.position != w.position {
		t.Errorf("the item was added at position %d (%v), the test read %d", res.position, res.err, w.position)
	}
}

// TestPositionOfAWriteThatRollsBack: a read waiting for the position of a
// write that then rolls back is refused as unknown as soon as it does.
func TestPositionOfAWriteThatRollsBack(t *testing.T) {
	t.Parallel()
	// Given an item being added to an order, its write held up
	f := newFixture(t, standby.Config{PositionWait: 20 * time.Second})
	w := f.holdAdd(t)

	// When a read waits for its position and the write is cancelled
	go func() {
		time.Sleep(200 * time.Millisecond)
		w.cancelWaiters(t)
	}()
	began := time.Now()
	_, _, err := f.svc.ReadOrder(t.Context(), w.reader, app.OrderQuery{ID: w.order, MinPosition: w.position})

	// Then the read is refused as unknown, well before its wait ends
	if !errors.Is(err, app.ErrUnknownPosition) {
		t.Errorf("read at the position of a write that rolled back: %v, want ErrUnknownPosition", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the read took %s: it waited for what had rolled back", took)
	}
	if res := <-w.done; res.err == nil {
		t.Error("the cancelled write succeeded")
	}
}

// heldAdd is an item being added to an order, by a customer who may read
// it, its write held up in the middle of its statement: its events are
// inserted, their positions handed out, and it waits for the lock on the
// order's row of order_details.
type heldAdd struct {
	*heldRow
	order    uuid.UUID
	reader   app.Principal
	position int64
	// done is the add's outcome.
	done chan addOutcome
}

type addOutcome struct {
	position int64
	err      error
}

// holdAdd creates an order and starts adding an item to it, held up, and
// returns once the add has been handed its position.
func (f *fixture) holdAdd(t *testing.T) *heldAdd {
	t.Helper()
	p, meta := customer()
	id, created := f.createOrder(t, p, meta)
	w := &heldAdd{heldRow: f.lockOrder(t, id), order: id, reader: p, done: make(chan addOutcome, 1)}
	go func() {
		res, err := f.svc.AddItem(context.Background(), app.Target{OrderID: id, Metadata: meta}, newItem())
		w.done <- addOutcome{res.Position, err}
	}()
	w.position = f.waitIssued(t, created+1)
	return w
}

// heldRow is a transaction on the primary that holds an order's row of
// order_details locked.
type heldRow struct {
	conn *pgx.Conn
	tx   pgx.Tx
}

// lockOrder locks the order's order_details row until release (or the
// test's end).
func (f *fixture) lockOrder(t *testing.T, id uuid.UUID) *heldRow {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), f.primary.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "SELECT 1 FROM order_details WHERE order_id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	return &heldRow{conn: conn, tx: tx}
}

func (h *heldRow) release() { _ = h.tx.Rollback(context.Background()) }

// cancelWaiters cancels the statements waiting for the lock, then
// releases it.
func (h *heldRow) cancelWaiters(t *testing.T) {
	if _, err := h.conn.Exec(context.Background(), `
SELECT pg_cancel_backend(pid) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Error(err)
	}
	h.release()
}

// waitIssued waits until the store has handed out the event position
// want (to a write that may not have committed), and returns it.
func (f *fixture) waitIssued(t *testing.T, want int64) int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), f.primary.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(settle); ; time.Sleep(5 * time.Millisecond) {
		var last *int64
		if err := conn.QueryRow(t.Context(), "SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'position'))").Scan(&last); err != nil {
			t.Fatal(err)
		}
		if last != nil && *last >= want {
			return want
		}
		if time.Now().After(deadline) {
			t.Fatalf("position %d not handed out after %s (last %v)", want, settle, last)
		}
	}
}
