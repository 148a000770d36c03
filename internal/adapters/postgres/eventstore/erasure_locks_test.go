package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestASnapshotWriteGivesWayToAnErasureOfItsOrder(t *testing.T) {
	t.Parallel()
	// Given a placed order with a snapshot of this build and one of
	// another at the same version (as builds writing at once leave them)
	s, pool := snapshotStore(t, 2)
	c := uuid.New()
	o := placed(t, s, c)
	if _, err := s.SaveSnapshot(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `INSERT INTO stream_snapshots (stream_id, fingerprint, version, occurred_until, state)
SELECT stream_id, 'zz-another-build', version, occurred_until, state FROM stream_snapshots WHERE stream_id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	// and a write of the same snapshot again, held once it has deleted
	// the other build's (as a write does) and before it inserts its own
	held, release := pgtest.Hold(t, pool, "INSERT ON stream_snapshots FOR EACH ROW")

	// When the customer is erased meanwhile, deleting the order's
	// snapshots: this build's first, then waiting for the other build's;
	// and the write goes on, to insert over the row the erasure deleted
	writeErr, eraseErr := eraseWhileHeld(t, s, c, held, release, func() error {
		_, err := s.SaveSnapshot(context.Background(), o)
		return err
	})

	// Then the erasure succeeds, and the write gave way
	if eraseErr != nil {
		t.Fatalf("erasure: %v", eraseErr)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](writeErr); !ok || pgErr.Code != "55P03" {
		t.Errorf("the write: %v; want it to give way (lock_not_available)", writeErr)
	}
	// And the order has no snapshot left
	if rows := snapshotRows(t, pool, o.ID); len(rows) != 0 {
		t.Errorf("snapshots %v, want none", rows)
	}
}

func TestSealingInPlaceAndAnErasureOfTheSameCustomerAtOnceBothSucceed(t *testing.T) {
	t.Parallel()
	// Given a customer's order written before sealing began, placed then
	// cancelled with a reason
	pool, c, o := cancelledInClear(t)
	s, _ := sealedStore(t, pool, eventstore.Config{})
	// and the operator sealing events in place, one per transaction, held
	// as it seals the cancellation (its row taken), the placing sealed
	var cancelled int64
	if err := pool.QueryRow(t.Context(), `SELECT position FROM events WHERE stream_id = $1 AND event_type = 'OrderCancelled'`,
		o.ID).Scan(&cancelled); err != nil {
		t.Fatal(err)
	}
	held, release := pgtest.Hold(t, pool, fmt.Sprintf("UPDATE ON events FOR EACH ROW WHEN (OLD.position = %d)", cancelled))

	// When the customer is erased meanwhile, sealing its events stored in
	// clear
	sealErr, eraseErr := eraseWhileHeld(t, s, c, held, release, func() error {
		_, err := s.SealClearEvents(context.Background(), 1)
		return err
	})

	// Then both succeed, and the order reads erased
	if eraseErr != nil || sealErr != nil {
		t.Fatalf("erasure: %v; sealing: %v", eraseErr, sealErr)
	}
	got, err := s.Load(t.Context(), o.ID)
	if err != nil || !got.Erased || got.ShippingAddress != nil || got.CancelReason != "" {
		t.Errorf("order %+v, %v; want it erased", got, err)
	}
}

func TestSealingInPlaceThatWaitedForAnErasureOfTheCustomerFinishesWithoutIt(t *testing.T) {
	t.Parallel()
	// Given a customer's order written before sealing began, placed then
	// cancelled with a reason, and the operator's process holding the
	// customer's key
	pool, c, o := cancelledInClear(t)
	rings := eventstoretest.Keyrings(t, pool)
	keys := rings()
	operator := eventstore.New(pool, eventstore.Config{Keyring: keys})
	if _, err := keys.ForSealing(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	// and an erasure of the customer by the service, held as it seals the
	// first of those events
	service := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	held, release := pgtest.Hold(t, pool, fmt.Sprintf("UPDATE ON events FOR EACH ROW WHEN (OLD.stream_id = '%s')", o.ID))
	erased := make(chan error, 1)
	go func() { erased <- eraseAsStaff(service, c) }()
	erasing := held()

	// When the operator seals the events stored in clear meanwhile, waiting
	// for the erasure, which then goes on
	var (
		wg      sync.WaitGroup
		sealed  int
		sealErr error
	)
	wg.Go(func() { sealed, sealErr = operator.SealClearEvents(context.Background(), 10) })
	pgtest.BlockedBy(t, pool, "the operator to wait for the erasure", erasing)
	release()
	wg.Wait()

	// Then both succeed: the erasure sealed the customer's events, and the
	// operator, refused the key the erasure destroyed, found none left
	if err := <-erased; err != nil || sealErr != nil || sealed != 0 {
		t.Fatalf("erasure: %v; sealing: %d, %v", err, sealed, sealErr)
	}
	got, err := operator.Load(t.Context(), o.ID)
	if err != nil || !got.Erased || got.ShippingAddress != nil || got.CancelReason != "" {
		t.Errorf("order %+v, %v; want it erased", got, err)
	}
}

// eraseWhileHeld runs write until Hold holds it, erases the customer
// meanwhile, and lets write go on once the erasure waits for it; it
// returns both outcomes.
func eraseWhileHeld(t *testing.T, s *eventstore.Store, c uuid.UUID, held func() int32, release func(), write func() error) (writeErr, eraseErr error) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() { writeErr = write() })
	writer := held()
	wg.Go(func() { eraseErr = eraseAsStaff(s, c) })
	pgtest.BlockedBy(t, s.Pool(), "the erasure to wait", writer)
	release()
	wg.Wait()
	return writeErr, eraseErr
}

// eraseAsStaff erases the customer's personal data over the store.
func eraseAsStaff(s *eventstore.Store, c uuid.UUID) error {
	_, err := erasure.New(s, erasure.Config{}).ErasePersonalData(context.Background(), app.Erasure{
		EventID: uuid.Must(uuid.NewV7()), Event: customer.PersonalDataErased{CustomerID: c},
		Metadata: app.Metadata{Principal: app.Principal{Subject: "staff-1", Roles: app.RolesOf(app.RoleStaff)}},
	})
	return err
}

// cancelledInClear is a database with an order written before sealing
// began, placed then cancelled with a reason, and its customer.
func cancelledInClear(t *testing.T) (*pgxpool.Pool, uuid.UUID, order.Order) {
	t.Helper()
	pool := pgtest.New(t)
	clear := eventstore.New(pool, eventstore.Config{})
	c := uuid.New()
	return pool, c, do(t, clear, placed(t, clear, c), t0, cancelFor("a parsnip-coloured mistake"))
}
