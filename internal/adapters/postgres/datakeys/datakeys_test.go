package datakeys_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func masterKey(t *testing.T) *personaldata.FileMasterKey {
	t.Helper()
	raw := make([]byte, personaldata.MasterKeySize)
	rand.Read(raw)
	k, err := personaldata.NewFileMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyring(pool *pgxpool.Pool, current personaldata.MasterKey, previous ...personaldata.MasterKey) *personaldata.Keyring {
	return personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(current, previous...))
}

// erase destroys the customer's keys as an erasure does, and has the
// keyrings forget them as the notification would.
func erase(t *testing.T, pool *pgxpool.Pool, customer uuid.UUID, rings ...*personaldata.Keyring) []uuid.UUID {
	t.Helper()
	return eventstoretest.Erase(t, pool, customer, rings...)
}

func TestReplicasSealWithOneKeyPerCustomer(t *testing.T) {
	t.Parallel()
	// Given eight replicas sharing a database and a master key
	pool, master := pgtest.New(t), masterKey(t)
	customer := uuid.New()

	// When each asks for the customer's key at once
	keys := make([]*personaldata.DataKey, 8)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = keyring(pool, master).ForSealing(t.Context(), customer) })
	}
	wg.Wait()

	// Then all seal with the same key, and each opens what another sealed
	for i, k := range keys {
		if errs[i] != nil || k.ID != keys[0].ID || k.CustomerID != customer {
			t.Fatalf("replica %d: %+v, %v", i, k, errs[i])
		}
	}
	sealed := keys[3].Seal([]byte(`"Ada"`), "p")
	if got, err := keys[5].Open(sealed, "p"); err != nil || string(got) != `"Ada"` {
		t.Errorf("open: %q, %v", got, err)
	}
	// And the database holds one live key, wrapped
	var n, wrapped int
	if err := pool.QueryRow(t.Context(), `SELECT count(*), max(octet_length(wrapped_key)) FROM customer_data_keys WHERE customer_id = $1`, customer).Scan(&n, &wrapped); err != nil || n != 1 || wrapped < personaldata.DataKeySize+16 {
		t.Errorf("%d keys, wrapped %d bytes, %v", n, wrapped, err)
	}
}

func TestAnErasedCustomersKeyNeverOpensAgainAndNewDataGetsANewKey(t *testing.T) {
	t.Parallel()
	// Given a customer's value sealed by one replica and read by another
	pool, master := pgtest.New(t), masterKey(t)
	writer, reader := keyring(pool, master), keyring(pool, master)
	customer, bystander := uuid.New(), uuid.New()
	old, err := writer.ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := writer.ForSealing(t.Context(), bystander)
	if _, err := reader.Key(t.Context(), old.ID); err != nil {
		t.Fatal(err)
	}

	// When the customer is erased
	ids := erase(t, pool, customer, writer, reader)

	// Then the key is destroyed, for every replica and for a new one
	if len(ids) != 1 || ids[0] != old.ID {
		t.Fatalf("destroyed %v, want %v", ids, old.ID)
	}
	for name, r := range map[string]*personaldata.Keyring{"writer": writer, "reader": reader, "new replica": keyring(pool, master)} {
		if k, err := r.Key(t.Context(), old.ID); !errors.Is(err, personaldata.ErrErased) || errors.Is(err, personaldata.ErrUnknownKey) {
			t.Errorf("%s: %v, %v", name, k, err)
		}
	}
	// And the database keeps no trace of the key itself
	var wrapped []byte
	var masterID *string
	if err := pool.QueryRow(t.Context(), `SELECT wrapped_key, master_key_id FROM customer_data_keys WHERE key_id = $1`, old.ID).Scan(&wrapped, &masterID); err != nil || wrapped != nil || masterID != nil {
		t.Errorf("destroyed key row: %x %v %v", wrapped, masterID, err)
	}
	// And personal data recorded afterwards gets a new key
	fresh, err := writer.ForSealing(t.Context(), customer)
	if err != nil || fresh.ID == old.ID {
		t.Errorf("after erasure: %+v, %v", fresh, err)
	}
	// And another customer is untouched
	if k, err := reader.Key(t.Context(), other.ID); err != nil || k.ID != other.ID {
		t.Errorf("bystander: %+v, %v", k, err)
	}
	// And erasing again destroys only what is live
	if again := erase(t, pool, customer, writer); len(again) != 1 || again[0] != fresh.ID {
		t.Errorf("second erasure destroyed %v", again)
	}
	if none := erase(t, pool, customer, writer); len(none) != 0 {
		t.Errorf("third erasure destroyed %v", none)
	}
}

func TestAnUnknownKeyReadsAsErased(t *testing.T) {
	t.Parallel()
	// Given a key id the store never held
	r := keyring(pgtest.New(t), masterKey(t))

	// When it is asked for, twice (the second from the cache)
	id := uuid.New()
	for range 2 {
		_, err := r.Key(t.Context(), id)

		// Then what it sealed reads as erased, and it is known for a key
		// never stored, not one destroyed
		if !errors.Is(err, personaldata.ErrErased) || !errors.Is(err, personaldata.ErrUnknownKey) {
			t.Errorf("got %v", err)
		}
	}
}

func TestRotatingTheMasterKeyRewrapsDataKeysAndKeepsWhatTheySealed(t *testing.T) {
	t.Parallel()
	// Given values sealed under data keys wrapped by an old master key
	pool, old, current := pgtest.New(t), masterKey(t), masterKey(t)
	before := keyring(pool, old)
	var sealed []string
	var ids []uuid.UUID
	for range 3 {
		k, err := before.ForSealing(t.Context(), uuid.New())
		if err != nil {
			t.Fatal(err)
		}
		sealed, ids = append(sealed, k.Seal([]byte(`"x"`), "p")), append(ids, k.ID)
	}
	erase(t, pool, (func() uuid.UUID { k, _ := before.Key(t.Context(), ids[2]); return k.CustomerID })(), before)

	// When the data keys are re-wrapped under the new master key
	rotating := keyring(pool, current, old)
	n, err := datakeys.New(pool).Rewrap(t.Context(), rotating)
	if err != nil || n != 2 {
		t.Fatalf("re-wrapped %d, %v", n, err)
	}

	// Then a service given only the new master key opens what was sealed
	after := keyring(pool, current)
	for i, id := range ids[:2] {
		k, err := after.Key(t.Context(), id)
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		if got, err := k.Open(sealed[i], "p"); err != nil || string(got) != `"x"` {
			t.Errorf("value %d: %q, %v", i, got, err)
		}
	}
	// And the destroyed key stays destroyed
	if _, err := after.Key(t.Context(), ids[2]); !errors.Is(err, personaldata.ErrErased) {
		t.Errorf("destroyed key: %v", err)
	}
	// And a second rotation finds nothing left to do
	if n, err := datakeys.New(pool).Rewrap(t.Context(), rotating); err != nil || n != 0 {
		t.Errorf("second rotation: %d, %v", n, err)
	}
}

func TestAKeyLockedForAnErasureIsStillHandedOutButHoldsSealedWritesBack(t *testing.T) {
	t.Parallel()
	// Given a customer's key, locked for its destruction by an erasure
	pool, master := pgtest.New(t), masterKey(t)
	customer := uuid.New()
	k, err := keyring(pool, master).ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	locked, err := datakeys.Lock(t.Context(), tx, customer)
	if err != nil || len(locked) != 1 || locked[0] != k.ID {
		t.Fatalf("locked %v, %v", locked, err)
	}

	// When another replica asks for the customer's key to seal with
	// Then it is answered at once, with the live key, not a second one
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if got, err := keyring(pool, master).ForSealing(ctx, customer); err != nil || got.ID != k.ID {
		t.Fatalf("sealing key %v, %v; want %s", got, err, k.ID)
	}

	// When an event sealed with it is written, as an append writes it
	sealing := func() error {
		conn := pgtest.Connect(t, pool.Config().ConnConfig.ConnString())
		_, err := conn.Exec(t.Context(), `SET lock_timeout = 200`)
		if err == nil {
			_, err = conn.Exec(t.Context(), `SELECT events_require_live_key($1)`, k.ID)
		}
		return err
	}
	// Then it waits for the erasure
	if pgErr, ok := errors.AsType[*pgconn.PgError](sealing()); !ok || pgErr.Code != "55P03" {
		t.Errorf("sealing while the key is locked: %v; want it to wait", pgErr)
	}
	// And once the erasure destroyed the key and committed, it is refused
	if _, err := datakeys.DestroyKeys(t.Context(), tx, customer, locked); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](sealing()); !ok || pgErr.Code != "OAKEY" {
		t.Errorf("sealing after the erasure: %v; want OAKEY", pgErr)
	}
}
