package erasure_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Erasures racing the append that stores a customer's first key with its
// events (eventstore's candidate keys): see docs/design.md, "Personal
// data".

// liveKeys counts the customer's live keys.
func liveKeys(t *testing.T, pool *pgxpool.Pool, c uuid.UUID) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM customer_data_keys WHERE customer_id = $1 AND destroyed_at IS NULL`, c).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// keyOfPlacing is the key that sealed the order's OrderPlaced event, and
// whether it is live.
func keyOfPlacing(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) (key uuid.UUID, live bool) {
	t.Helper()
	if err := pool.QueryRow(t.Context(), `SELECT k.key_id, k.destroyed_at IS NULL
  FROM events e JOIN customer_data_keys k ON k.key_id = e.personal_key
 WHERE e.stream_id = $1 AND e.event_type = 'OrderPlaced'`, id).Scan(&key, &live); err != nil {
		t.Fatal(err)
	}
	return key, live
}

func TestAFirstPlaceStoringItsKeyAsItsCustomerIsErasedEndsErased(t *testing.T) {
	t.Parallel()
	// Given a customer with an order placed before sealing began (its
	// address in clear, so that the erasure makes the customer a key to
	// seal it), and a draft, of a service that seals
	pool := pgtest.New(t)
	c := uuid.New()
	clear := eventstore.New(pool, eventstore.Config{})
	old := eventstoretest.Do(t, clear, eventstoretest.Do(t, clear, eventstoretest.Create(t, clear, uuid.New(), c, eventstoretest.T0),
		eventstoretest.T0, eventstoretest.AddItem("Tea", "4.50", 1)), eventstoretest.T0, eventstoretest.Place)
	f := &raceFixture{pool: pool, events: eventstore.New(pool, eventstore.Config{Keyring: eventstoretest.Keyring(t, pool)})}
	f.store = erasure.New(f.events, erasure.Config{})
	draft := f.draft(t, c)
	held, release := f.holdAppendsOf(t, draft.ID)

	// When the draft is placed, its new key stored and its event sealed
	// with it, as the customer is erased: the erasure's own key for the
	// address in clear waits for the place's
	placed := mustDecide(t, draft, eventstoretest.Place)
	appendErr, eraseErr := f.appendHeld(t, eventstoretest.CommitOf(t, draft, eventstoretest.T0, placed...), held, release)

	// Then both succeed
	if appendErr != nil || eraseErr != nil {
		t.Fatalf("append: %v (deadlock %t); erasure: %v (deadlock %t)", appendErr, isDeadlock(appendErr), eraseErr, isDeadlock(eraseErr))
	}
	// And the place, committed first, sealed with the key the erasure
	// then destroyed: erased with the rest, its row too
	if key, live := keyOfPlacing(t, pool, draft.ID); live {
		t.Errorf("placed with %s, still live; want it destroyed", key)
	}
	if n := liveKeys(t, pool, c); n != 0 {
		t.Errorf("%d live keys, want none", n)
	}
	for _, o := range []order.Order{old, draft} {
		if r := f.details(t, o.ID); !r.cleared() {
			t.Errorf("order %s: order_details row %s, want it erased", o.ID, r)
		}
		got, err := f.events.Load(t.Context(), o.ID)
		if err != nil || !got.Erased || got.ShippingAddress != nil || got.Status != order.StatusPlaced {
			t.Errorf("order %s: %+v, %v; want it placed, erased", o.ID, got, err)
		}
	}
}

func TestAFirstPlaceOfAProcessWithoutTheKeyAnErasureHoldsIsSealedAgainUnderANewKey(t *testing.T) {
	t.Parallel()
	// Given a customer with an order placed by one replica, and a draft
	pool := pgtest.New(t)
	rings := eventstoretest.Keyrings(t, pool)
	f := &raceFixture{pool: pool, events: eventstore.New(pool, eventstore.Config{Keyring: rings()})}
	f.store = erasure.New(f.events, erasure.Config{})
	c := uuid.New()
	first, draft := f.placed(t, c), f.draft(t, c)
	// and the customer being erased, held once it has locked the
	// customer's key, as it clears the first order's row
	held, release := pgtest.Hold(t, pool, fmt.Sprintf("UPDATE ON order_details FOR EACH ROW WHEN (OLD.order_id = '%s')", first.ID))
	var (
		wg                  sync.WaitGroup
		appendErr, eraseErr error
	)
	wg.Go(func() { _, eraseErr = f.store.ErasePersonalData(context.Background(), erasureOf(c)) })
	erasing := held()

	// When another replica, which holds no key of the customer, places
	// the draft meanwhile: its new key kept out by the live one, then
	// sealed again with that one, which the erasure holds
	other := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	placed := mustDecide(t, draft, eventstoretest.Place)
	wg.Go(func() {
		_, appendErr = other.Append(context.Background(), eventstoretest.CommitOf(t, draft, eventstoretest.T0, placed...))
	})
	pgtest.BlockedBy(t, pool, "the place to wait for the erasure", erasing)
	release()
	wg.Wait()

	// Then both succeed
	if appendErr != nil || eraseErr != nil {
		t.Fatalf("append: %v (deadlock %t); erasure: %v (deadlock %t)", appendErr, isDeadlock(appendErr), eraseErr, isDeadlock(eraseErr))
	}
	// And the place, sealed a third time, is under the customer's new
	// key, live, and reads back; the first order stays erased
	key, live := keyOfPlacing(t, pool, draft.ID)
	if !live || liveKeys(t, pool, c) != 1 {
		t.Errorf("placed with %s (live %t), %d live keys; want it the one live key", key, live, liveKeys(t, pool, c))
	}
	got, err := other.Load(t.Context(), draft.ID)
	if err != nil || got.Erased || got.ShippingAddress == nil || *got.ShippingAddress != eventstoretest.Address {
		t.Errorf("placed order %+v, %v; want its address", got, err)
	}
	if r := f.details(t, draft.ID); r.Erased || r.Address == nil {
		t.Errorf("placed order's row %s, want its address sealed", r)
	}
	if r := f.details(t, first.ID); !r.cleared() {
		t.Errorf("first order's row %s, want it erased", r)
	}
}
