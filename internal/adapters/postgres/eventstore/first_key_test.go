package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// A new customer's data key is stored by the append that first seals with
// it, in its transaction: see Keyring.ForSealingFirst and runAppend.

// customerKeys are the ids of the customer's keys, live or destroyed.
type customerKeys struct{ live, destroyed []uuid.UUID }

func keysOf(t *testing.T, pool *pgxpool.Pool, customer uuid.UUID) customerKeys {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT key_id, destroyed_at IS NOT NULL FROM customer_data_keys WHERE customer_id = $1`, customer)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var k customerKeys
	for rows.Next() {
		var id uuid.UUID
		var destroyed bool
		if err := rows.Scan(&id, &destroyed); err != nil {
			t.Fatal(err)
		}
		if destroyed {
			k.destroyed = append(k.destroyed, id)
		} else {
			k.live = append(k.live, id)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return k
}

// placedKey is the key that sealed the order's OrderPlaced event, and the
// transaction that stored that key and the one that appended the event.
func placedKey(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) (key uuid.UUID, keyTx, eventTx string) {
	t.Helper()
	if err := pool.QueryRow(t.Context(), `SELECT e.personal_key, k.xmin::text, (e.transaction_id::text::bigint % 4294967296)::text
  FROM events e JOIN customer_data_keys k ON k.key_id = e.personal_key
 WHERE e.stream_id = $1 AND e.event_type = 'OrderPlaced'`, id).Scan(&key, &keyTx, &eventTx); err != nil {
		t.Fatalf("the key of order %s's placing: %v", id, err)
	}
	return key, keyTx, eventTx
}

// draftOf is a new order of the customer, of one line, not placed.
func draftOf(t *testing.T, s *eventstore.Store, customer uuid.UUID) order.Order {
	t.Helper()
	return do(t, s, create(t, s, uuid.New(), customer, t0), t0, addItem("Tea", "4.50", 1))
}

// mustHold reports the live key the keyring holds for the customer, and
// fails the test if it holds none.
func mustHold(t *testing.T, keys *personaldata.Keyring, customer uuid.UUID) uuid.UUID {
	t.Helper()
	k, candidate, err := keys.ForSealingFirst(t.Context(), customer)
	if err != nil || candidate != nil {
		t.Fatalf("keyring: %v, candidate %v; want it to hold the customer's key", err, candidate != nil)
	}
	return k.ID
}

func TestAFirstPlaceStoresOneKeyInItsOwnTransaction(t *testing.T) {
	t.Parallel()
	// Given a store that seals, and a new customer's draft
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{})
	customer := uuid.New()
	draft := draftOf(t, s, customer)

	// When it is placed
	o := do(t, s, draft, t0, placeAt(secretAddress))

	// Then the customer has one key, live, stored by the append's
	// transaction, and the event names it
	k := keysOf(t, pool, customer)
	if len(k.live) != 1 || len(k.destroyed) != 0 {
		t.Fatalf("keys %+v, want one live", k)
	}
	key, keyTx, eventTx := placedKey(t, pool, o.ID)
	if key != k.live[0] || keyTx != eventTx {
		t.Errorf("event sealed with %s in transaction %s, key %s stored in %s; want one key, one transaction", key, eventTx, k.live[0], keyTx)
	}
	// And the keyring holds it for the customer's next write
	if held := mustHold(t, keys, customer); held != key {
		t.Errorf("keyring holds %s, want %s", held, key)
	}
	// And the order reads back
	if got, err := s.Load(t.Context(), o.ID); err != nil || got.ShippingAddress == nil || *got.ShippingAddress != secretAddress {
		t.Errorf("load: %+v, %v", got, err)
	}
}

func TestTwoReplicasPlacingANewCustomersFirstOrdersAtOnceEndWithOneKey(t *testing.T) {
	t.Parallel()
	// Given two replicas, each with a draft of the same new customer
	pool := pgtest.New(t)
	rings := eventstoretest.Keyrings(t, pool)
	a := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	b := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	customer := uuid.New()
	draftA, draftB := draftOf(t, a, customer), draftOf(t, b, customer)
	// and the first's placing held once its key is inserted
	held, release := pgtest.Hold(t, pool, "INSERT ON events FOR EACH ROW WHEN (NEW.event_type = 'OrderPlaced')")

	// When both place at once, the second's key waiting for the first's
	var (
		wg         sync.WaitGroup
		errA, errB error
	)
	commitA := commitOf(t, draftA, t0, mustDecide(t, draftA, placeAt(secretAddress))...)
	commitB := commitOf(t, draftB, t0, mustDecide(t, draftB, placeAt(secretAddress))...)
	wg.Go(func() { _, errA = a.Append(context.Background(), commitA) })
	first := held()
	wg.Go(func() { _, errB = b.Append(context.Background(), commitB) })
	pgtest.BlockedBy(t, pool, "the second replica's key to wait for the first's", first)
	release()
	wg.Wait()

	// Then both succeed, and the customer has one live key, which sealed
	// both (the second sealed again with it)
	if errA != nil || errB != nil {
		t.Fatalf("first: %v; second: %v", errA, errB)
	}
	k := keysOf(t, pool, customer)
	if len(k.live) != 1 || len(k.destroyed) != 0 {
		t.Fatalf("keys %+v, want one live", k)
	}
	for _, id := range []uuid.UUID{draftA.ID, draftB.ID} {
		if key, _, _ := placedKey(t, pool, id); key != k.live[0] {
			t.Errorf("order %s sealed with %s, want %s", id, key, k.live[0])
		}
	}
	// And each replica holds it, and reads both orders
	for name, s := range map[string]*eventstore.Store{"first": a, "second": b} {
		if held := mustHold(t, s.Keyring(), customer); held != k.live[0] {
			t.Errorf("%s replica holds %s, want %s", name, held, k.live[0])
		}
		for _, id := range []uuid.UUID{draftA.ID, draftB.ID} {
			if got, err := s.Load(t.Context(), id); err != nil || got.ShippingAddress == nil {
				t.Errorf("%s replica, order %s: %+v, %v", name, id, got, err)
			}
		}
	}
}

func TestAProcessWithAnEmptyCacheSealsWithTheCustomersStoredKey(t *testing.T) {
	t.Parallel()
	// Given a customer whose key a replica stored with a first order
	pool := pgtest.New(t)
	rings := eventstoretest.Keyrings(t, pool)
	before := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	customer := uuid.New()
	do(t, before, draftOf(t, before, customer), t0, placeAt(secretAddress))
	stored := keysOf(t, pool, customer)

	// When a process that holds no key yet (restarted) places another
	// order of the customer
	restarted := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	o := do(t, restarted, draftOf(t, restarted, customer), t0, placeAt(secretAddress))

	// Then the key stored is the customer's only one, and sealed it
	if k := keysOf(t, pool, customer); len(k.live) != 1 || len(k.destroyed) != 0 || k.live[0] != stored.live[0] {
		t.Fatalf("keys %+v, want only %s", k, stored.live[0])
	}
	if key, _, _ := placedKey(t, pool, o.ID); key != stored.live[0] {
		t.Errorf("sealed with %s, want %s", key, stored.live[0])
	}
	if held := mustHold(t, restarted.Keyring(), customer); held != stored.live[0] {
		t.Errorf("keyring holds %s, want %s", held, stored.live[0])
	}
	if got, err := restarted.Load(t.Context(), o.ID); err != nil || got.ShippingAddress == nil || *got.ShippingAddress != secretAddress {
		t.Errorf("load: %+v, %v", got, err)
	}
}

func TestAFirstPlaceEndedWhileItsKeyIsBeingStoredStoresNothing(t *testing.T) {
	t.Parallel()
	// Given a new customer's draft, and the insert of data keys held
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{})
	s.SetAppendOutcomeWait(300 * time.Millisecond)
	customer := uuid.New()
	draft := draftOf(t, s, customer)
	release := holdDeaf(t, pool, "INSERT ON customer_data_keys FOR EACH ROW")

	// When it is placed, and its outcome is awaited past its wait while
	// the key's insert is held, deaf to the client's cancel
	_, err := s.Append(context.Background(), commitOf(t, draft, t0, mustDecide(t, draft, placeAt(secretAddress))...))

	// Then it is unavailable, known not done
	if errors.Is(err, app.ErrOutcomeUnknown) || !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("append = %v, want unavailable (not done)", err)
	}
	// And neither its key nor its event is ever stored, the insert let go
	release()
	time.Sleep(100 * time.Millisecond)
	if k := keysOf(t, pool, customer); len(k.live)+len(k.destroyed) != 0 {
		t.Errorf("keys %+v after an append that was ended, want none", k)
	}
	if n := countEventsOf(t, pool, draft.ID); n != 2 {
		t.Errorf("%d events after an append that was ended, want 2", n)
	}
	// And the keyring holds no key of the customer
	if _, candidate, err := keys.ForSealingFirst(t.Context(), customer); err != nil || candidate == nil {
		t.Errorf("keyring: %v; want a new candidate, the first not kept", err)
	}
	// And the place goes through when tried again
	o := do(t, s, draft, t0, placeAt(secretAddress))
	if key, _, _ := placedKey(t, pool, o.ID); key != mustHold(t, keys, customer) {
		t.Errorf("sealed with %s, not the key held", key)
	}
}

func TestAFirstPlaceWhoseAnswerIsLostIsFoundCommittedWithItsKey(t *testing.T) {
	t.Parallel()
	// Given a store whose connections pass through a network that can
	// stall, and a new customer's draft
	pool := pgtest.New(t)
	through, stall := pgtest.Stalling(t, pool)
	keys := eventstoretest.Keyring(t, pool)
	s := eventstore.New(through, eventstore.Config{Keyring: keys})
	s.SetAppendOutcomeWait(300 * time.Millisecond)
	customer := uuid.New()
	draft := draftOf(t, s, customer)
	held, release := pgtest.Hold(t, pool, "INSERT ON events FOR EACH ROW WHEN (NEW.event_type = 'OrderPlaced')")

	// When it is placed, and the network stalls once it is sent: it
	// commits, and its answer is lost
	var (
		wg  sync.WaitGroup
		err error
	)
	commit := commitOf(t, draft, t0, mustDecide(t, draft, placeAt(secretAddress))...)
	wg.Go(func() { _, err = s.Append(context.Background(), commit) })
	pid := held()
	stall.Stop()
	release()
	waitIdle(t, pool, pid)
	// and the network comes back once the wait has run out, while the
	// outcome is being resolved
	time.Sleep(2 * time.Second)
	stall.Resume()
	wg.Wait()

	// Then the append is found committed
	if err != nil {
		t.Fatalf("append = %v, want it found committed", err)
	}
	// And its key with it, which the keyring now holds
	k := keysOf(t, pool, customer)
	if len(k.live) != 1 {
		t.Fatalf("keys %+v, want one live", k)
	}
	if key, keyTx, eventTx := placedKey(t, pool, draft.ID); key != k.live[0] || keyTx != eventTx {
		t.Errorf("sealed with %s in %s, key %s stored in %s", key, eventTx, k.live[0], keyTx)
	}
	if held := mustHold(t, keys, customer); held != k.live[0] {
		t.Errorf("keyring holds %s, want %s", held, k.live[0])
	}
}

// holdDeaf is pgtest.Hold, except that the statement held ignores a
// request to cancel it, as if the one the client sends on giving up were
// lost with the network: only ending its session ends it.
func holdDeaf(t *testing.T, pool *pgxpool.Pool, on string) (release func()) {
	t.Helper()
	for _, sql := range []string{
		`CREATE TABLE deaf_released ()`,
		`CREATE FUNCTION deaf_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WHILE NOT EXISTS (SELECT FROM deaf_released) LOOP
        BEGIN
            PERFORM pg_sleep(0.005);
        EXCEPTION WHEN query_canceled THEN
            NULL;
        END;
    END LOOP;
    RETURN NEW;
END;
$$`,
		`CREATE TRIGGER a_deaf_hold BEFORE ` + on + ` EXECUTE FUNCTION deaf_hold()`,
	} {
		if _, err := pool.Exec(t.Context(), sql); err != nil {
			t.Fatalf("hold %s: %v", on, err)
		}
	}
	return func() {
		t.Helper()
		if _, err := pool.Exec(t.Context(), `INSERT INTO deaf_released DEFAULT VALUES`); err != nil {
			t.Fatal(err)
		}
	}
}

// waitIdle waits until backend pid has committed and waits for its
// client.
func waitIdle(t *testing.T, pool *pgxpool.Pool, pid int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var state string
		if err := pool.QueryRow(t.Context(), `SELECT coalesce(state, '') FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "idle" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d is %q, want it idle", pid, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func countEventsOf(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE stream_id = $1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFirstPlacesArrivingTogetherStoreTheirKeysInTheSharedStatementsTransaction(t *testing.T) {
	t.Parallel()
	// Given a store that runs one append statement at a time, and drafts
	// of new customers
	pool := pgtest.New(t)
	s := eventstore.New(pool, eventstore.Config{Appends: coalesce.Config{MaxInFlight: 1}, Keyring: eventstoretest.Keyring(t, pool)})
	t.Cleanup(s.Close)
	const n = 6
	customers, commits := make([]uuid.UUID, n), make([]app.Commit, n)
	for i := range n {
		customers[i] = uuid.New()
		d := draftOf(t, s, customers[i])
		commits[i] = commitOf(t, d, t0, mustDecide(t, d, placeAt(secretAddress))...)
	}

	// When they are placed while another append is in flight
	errs := appendTogether(t, s, pool, commits)

	// Then each succeeds, each customer has one key, stored in the one
	// transaction that appended all the places
	txs := map[string]bool{}
	for i, c := range commits {
		if errs[i] != nil {
			t.Fatalf("place %d: %v", i, errs[i])
		}
		k := keysOf(t, pool, customers[i])
		key, keyTx, eventTx := placedKey(t, pool, c.OrderID)
		if len(k.live) != 1 || key != k.live[0] || keyTx != eventTx {
			t.Errorf("place %d: keys %+v, sealed with %s in %s, key stored in %s", i, k, key, eventTx, keyTx)
		}
		txs[eventTx] = true
	}
	if len(txs) != 1 {
		t.Errorf("the places were appended in %d transactions, want 1", len(txs))
	}
}

func TestASharedStatementWhoseCandidateIsKeptOutSendsEachAppendAlone(t *testing.T) {
	t.Parallel()
	// Given a store that runs one append statement at a time, drafts of
	// new customers, two of them of one customer, and one of a customer
	// whose key another replica stored
	pool := pgtest.New(t)
	rings := eventstoretest.Keyrings(t, pool)
	s := eventstore.New(pool, eventstore.Config{Appends: coalesce.Config{MaxInFlight: 1}, Keyring: rings()})
	t.Cleanup(s.Close)
	other := eventstore.New(pool, eventstore.Config{Keyring: rings()})
	known := uuid.New()
	do(t, other, draftOf(t, other, known), t0, placeAt(secretAddress))
	twice := uuid.New()
	customers := []uuid.UUID{uuid.New(), twice, uuid.New(), twice, known, uuid.New()}
	commits := make([]app.Commit, len(customers))
	for i, c := range customers {
		d := draftOf(t, s, c)
		commits[i] = commitOf(t, d, t0, mustDecide(t, d, placeAt(secretAddress))...)
	}

	// When they are placed while another append is in flight
	errs := appendTogether(t, s, pool, commits)

	// Then each succeeds, and each customer has one live key, which
	// sealed its places
	for i, c := range commits {
		if errs[i] != nil {
			t.Fatalf("place %d: %v", i, errs[i])
		}
		k := keysOf(t, pool, customers[i])
		if key, _, _ := placedKey(t, pool, c.OrderID); len(k.live) != 1 || len(k.destroyed) != 0 || key != k.live[0] {
			t.Errorf("place %d: keys %+v, sealed with %s", i, k, key)
		}
		if got, err := s.Load(t.Context(), c.OrderID); err != nil || got.ShippingAddress == nil {
			t.Errorf("place %d: %+v, %v", i, got, err)
		}
	}
}

// appendTogether appends the commits at once while another append holds
// the store's one statement, so that they share the next.
func appendTogether(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool, commits []app.Commit) []error {
	t.Helper()
	release := holdAppends(t, s, pool)
	errs := make([]error, len(commits))
	var wg sync.WaitGroup
	for i := range commits {
		wg.Go(func() { _, errs[i] = s.Append(context.Background(), commits[i]) })
	}
	time.Sleep(100 * time.Millisecond) // they queue behind the held one
	release()
	wg.Wait()
	return errs
}
