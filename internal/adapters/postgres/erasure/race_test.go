package erasure_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Erasures racing appends of the same customer: see docs/design.md,
// "Personal data", on the order in which an erasure takes its rows.

// raceFixture is a store that seals and the erasure over it.
type raceFixture struct {
	pool   *pgxpool.Pool
	events *eventstore.Store
	store  *erasure.Store
}

func newRaceFixture(t *testing.T) *raceFixture {
	t.Helper()
	events, pool := eventstoretest.New(t)
	return &raceFixture{pool: pool, events: events, store: erasure.New(events, erasure.Config{})}
}

// holdAppendsOf has each append to order id stop inside its one
// statement, after its events are inserted (their key's row share-locked
// by the insert) and before it writes the order's order_details row (an
// upsert's BEFORE INSERT trigger fires before it looks for the row).
func (f *raceFixture) holdAppendsOf(t *testing.T, id uuid.UUID) (held func() int32, release func()) {
	t.Helper()
	return pgtest.Hold(t, f.pool, fmt.Sprintf("INSERT ON order_details FOR EACH ROW WHEN (NEW.order_id = '%s')", id))
}

// placed is a new order of the customer, of one line, placed.
func (f *raceFixture) placed(t *testing.T, c uuid.UUID) order.Order {
	t.Helper()
	return eventstoretest.Do(t, f.events, f.draft(t, c), eventstoretest.T0, eventstoretest.Place)
}

// draft is a new order of the customer, of one line.
func (f *raceFixture) draft(t *testing.T, c uuid.UUID) order.Order {
	t.Helper()
	return eventstoretest.Do(t, f.events, eventstoretest.Create(t, f.events, uuid.New(), c, eventstoretest.T0), eventstoretest.T0,
		eventstoretest.AddItem("Tea", "4.50", 1))
}

// appendHeld appends c, held by holdAppendsOf, while the customer is
// erased: the erasure starts once the append holds its key, and the append
// goes on once the erasure waits for it. It returns both outcomes.
func (f *raceFixture) appendHeld(t *testing.T, c app.Commit, held func() int32, release func()) (appendErr, eraseErr error) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() { _, appendErr = f.events.Append(context.Background(), c) })
	pid := held()
	wg.Go(func() { _, eraseErr = f.store.ErasePersonalData(context.Background(), erasureOf(c.State.CustomerID)) })
	pgtest.BlockedBy(t, f.pool, "the erasure to wait for the append", pid)
	release()
	wg.Wait()
	return appendErr, eraseErr
}

// detailsRow is what order_details holds of an order's personal data.
type detailsRow struct {
	Address, Signature, Reason *string
	Erased                     bool
}

func (f *raceFixture) details(t *testing.T, id uuid.UUID) detailsRow {
	t.Helper()
	var r detailsRow
	if err := f.pool.QueryRow(t.Context(), `SELECT shipping_address::text, signature, cancel_reason, erased
  FROM order_details WHERE order_id = $1`, id).Scan(&r.Address, &r.Signature, &r.Reason, &r.Erased); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r detailsRow) String() string {
	show := func(s *string) string {
		if s == nil {
			return "NULL"
		}
		return fmt.Sprintf("%.12q…", *s)
	}
	return fmt.Sprintf("{address %s, signature %s, reason %s, erased %t}", show(r.Address), show(r.Signature), show(r.Reason), r.Erased)
}

func (r detailsRow) cleared() bool {
	return r.Erased && r.Address == nil && r.Signature == nil && r.Reason == nil
}

// isDeadlock reports whether PostgreSQL broke a deadlock by ending err's
// transaction.
func isDeadlock(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "40P01"
}

func TestAnErasureAndADeliveryWithASignatureOfTheCustomerAtOnceBothSucceed(t *testing.T) {
	t.Parallel()
	// Given a customer's order, placed and shipped
	f := newRaceFixture(t)
	c := uuid.New()
	o := eventstoretest.Do(t, f.events, f.placed(t, c), eventstoretest.T0, func(o *order.Order) ([]order.Event, error) { return o.Ship("TRK-1", "DHL") })
	held, release := f.holdAppendsOf(t, o.ID)

	// When its delivery, signed, has sealed its event with the customer's
	// key as the customer is erased
	delivered := mustDecide(t, o, func(o *order.Order) ([]order.Event, error) {
		return o.Deliver(eventstoretest.T0, eventstoretest.T0, "Zebulon Thornquist")
	})
	appendErr, eraseErr := f.appendHeld(t, eventstoretest.CommitOf(t, o, eventstoretest.T0, delivered...), held, release)

	// Then neither fails, for a deadlock or anything else
	if appendErr != nil || eraseErr != nil {
		t.Fatalf("append: %v (deadlock %t); erasure: %v (deadlock %t)", appendErr, isDeadlock(appendErr), eraseErr, isDeadlock(eraseErr))
	}
	// And the delivery, recorded first, is erased with the rest
	if r := f.details(t, o.ID); !r.cleared() {
		t.Errorf("order_details row %s, want it erased", r)
	}
	got, err := f.events.Load(t.Context(), o.ID)
	if err != nil || !got.Erased || got.Signature != "" || got.ShippingAddress != nil || got.Status != order.StatusDelivered {
		t.Errorf("order %+v, %v; want it delivered, erased", got, err)
	}
}

func TestAnOrderPlacedAsItsCustomerIsErasedIsMarkedErasedInItsRow(t *testing.T) {
	t.Parallel()
	// Given a customer with an order placed, and a draft
	f := newRaceFixture(t)
	c := uuid.New()
	first, draft := f.placed(t, c), f.draft(t, c)
	held, release := f.holdAppendsOf(t, draft.ID)

	// When the draft is placed, the first personal data of its row, its
	// event sealed with the customer's key as the customer is erased
	placed := mustDecide(t, draft, eventstoretest.Place)
	appendErr, eraseErr := f.appendHeld(t, eventstoretest.CommitOf(t, draft, eventstoretest.T0, placed...), held, release)

	// Then both succeed
	if appendErr != nil || eraseErr != nil {
		t.Fatalf("append: %v; erasure: %v", appendErr, eraseErr)
	}
	// And both orders' rows say they are erased, with no personal data
	for _, id := range []uuid.UUID{first.ID, draft.ID} {
		if r := f.details(t, id); !r.cleared() {
			t.Errorf("order %s: order_details row %s, want it erased", id, r)
		}
	}
	got, err := f.events.Load(t.Context(), draft.ID)
	if err != nil || !got.Erased || got.ShippingAddress != nil || got.Status != order.StatusPlaced {
		t.Errorf("order %+v, %v; want it placed, erased", got, err)
	}
}

func mustDecide(t *testing.T, o order.Order, command func(*order.Order) ([]order.Event, error)) []order.Event {
	t.Helper()
	events, err := command(&o)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestCommandsOfACustomerBeingErasedAgainAndAgainNeverFail(t *testing.T) {
	t.Parallel()
	// Given a customer whose orders four clients place, cancel with a
	// reason, ship and deliver with a signature
	f := newRaceFixture(t)
	c := uuid.New()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []error
		orders   []uuid.UUID
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, err)
	}
	for client := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := uuid.New()
				mu.Lock()
				orders = append(orders, id)
				mu.Unlock()
				if err := f.lifeOf(t, id, c, client+i); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	// When the customer is erased, again and again meanwhile
	erasures := 0
	wg.Go(func() {
		for ctx.Err() == nil {
			if _, err := f.store.ErasePersonalData(context.Background(), erasureOf(c)); err != nil {
				fail(fmt.Errorf("erasure: %w", err))
				return
			}
			erasures++
			time.Sleep(50 * time.Millisecond)
		}
	})
	wg.Wait()

	// Then no command and no erasure failed
	for _, err := range failures {
		t.Errorf("%v (deadlock %t)", err, isDeadlock(err))
	}
	if erasures < 3 || len(orders) < 8 {
		t.Fatalf("%d erasures, %d orders: too few to race", erasures, len(orders))
	}
	// And no read model row holds a value sealed with a destroyed key
	var stale int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*)
  FROM order_details d, LATERAL (VALUES (d.shipping_address #>> '{}'), (d.signature), (d.cancel_reason)) AS v(sealed)
 WHERE d.customer_id = $1 AND v.sealed IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM customer_data_keys k WHERE k.key_id::text = left(v.sealed, 36) AND k.destroyed_at IS NULL)`,
		c).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d values sealed with destroyed keys left in order_details (%v)", stale, err)
	}
	// And every order reads
	for _, id := range orders {
		if _, err := f.events.Load(t.Context(), id); err != nil {
			t.Errorf("order %s: %v", id, err)
		}
	}
}

// lifeOf runs an order of the customer from its creation to its
// cancellation with a reason (odd n) or its delivery with a signature.
func (f *raceFixture) lifeOf(t *testing.T, id, customerID uuid.UUID, n int) error {
	events, err := order.Create(id, customerID, "USD")
	if err != nil {
		return err
	}
	o := order.Order{ID: id}
	steps := []func(*order.Order) ([]order.Event, error){
		eventstoretest.AddItem("Tea", "4.50", 1),
		eventstoretest.Place,
	}
	if n%2 == 1 {
		steps = append(steps, func(o *order.Order) ([]order.Event, error) {
			return o.Cancel("a parsnip-coloured mistake", "staff:lin")
		})
	} else {
		steps = append(steps,
			func(o *order.Order) ([]order.Event, error) { return o.Ship("TRK-1", "DHL") },
			func(o *order.Order) ([]order.Event, error) {
				return o.Deliver(eventstoretest.T0, eventstoretest.T0, "Zebulon Thornquist")
			})
	}
	for i := 0; ; i++ {
		commit := eventstoretest.CommitOf(t, o, eventstoretest.T0, events...)
		if _, err := f.events.Append(context.Background(), commit); err != nil {
			return fmt.Errorf("order %s at version %d: %w", id, o.Version, err)
		}
		if o = commit.State; i == len(steps) {
			return nil
		}
		if events, err = steps[i](&o); err != nil {
			return err
		}
	}
}
