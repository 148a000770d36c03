package erasure_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is a database with a master key, a keyring over it and an
// erasure store that tells that keyring.
type fixture struct {
	pool    *pgxpool.Pool
	master  personaldata.MasterKey
	keyring *personaldata.Keyring
	store   *erasure.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	raw := make([]byte, personaldata.MasterKeySize)
	rand.Read(raw)
	master, err := personaldata.NewFileMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pool: pgtest.New(t), master: master}
	f.keyring = f.newKeyring()
	f.store = erasure.New(eventstore.New(f.pool, eventstore.Config{Keyring: f.keyring}), erasure.Config{})
	return f
}

// newKeyring is another replica's keyring.
func (f *fixture) newKeyring() *personaldata.Keyring {
	return personaldata.NewKeyring(datakeys.New(f.pool), personaldata.NewMasterKeys(f.master))
}

// key gives the customer a live key, as its first personal data does.
func (f *fixture) key(t *testing.T, c uuid.UUID) *personaldata.DataKey {
	t.Helper()
	k, err := f.keyring.ForSealing(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var staff = app.Metadata{RequestID: "req-1", Principal: app.Principal{Subject: "staff-1", Roles: app.RolesOf(app.RoleStaff)}}

func (f *fixture) erase(t *testing.T, c uuid.UUID) bool {
	t.Helper()
	recorded, err := f.store.ErasePersonalData(t.Context(), erasureOf(c))
	if err != nil {
		t.Fatal(err)
	}
	return recorded
}

func erasureOf(c uuid.UUID) app.Erasure {
	return app.Erasure{EventID: uuid.Must(uuid.NewV7()), Event: customer.PersonalDataErased{CustomerID: c}, Metadata: staff}
}

// record is a row of a customer's stream.
type record struct {
	Version              int
	Type                 string
	SchemaVersion        int
	Data, Metadata       string
	OccurredAt, Recorded time.Time
}

func (f *fixture) records(t *testing.T, c uuid.UUID) []record {
	t.Helper()
	rows, err := f.pool.Query(t.Context(), `SELECT stream_version, event_type, schema_version, data::text, metadata::text, occurred_at, recorded_at
  FROM events WHERE stream_id = $1 ORDER BY stream_version`, customer.StreamID(c))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[record])
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// opens reports whether a fresh replica opens the key.
func (f *fixture) opens(t *testing.T, k *personaldata.DataKey) bool {
	t.Helper()
	_, err := f.newKeyring().Key(t.Context(), k.ID)
	if err != nil && !errors.Is(err, personaldata.ErrErased) {
		t.Fatal(err)
	}
	return err == nil
}

func TestAnErasureDestroysTheKeysAndRecordsWhoAndWhen(t *testing.T) {
	t.Parallel()
	// Given a customer with personal data, and another customer
	f := newFixture(t)
	c, bystander := uuid.New(), uuid.New()
	k, other := f.key(t, c), f.key(t, bystander)
	before := time.Now()

	// When the customer's personal data is erased
	recorded := f.erase(t, c)

	// Then its key is destroyed for every replica, this one at once
	if !recorded {
		t.Error("the erasure was not recorded")
	}
	if f.opens(t, k) {
		t.Error("a replica still opens the customer's key")
	}
	if _, err := f.keyring.Key(t.Context(), k.ID); !errors.Is(err, personaldata.ErrErased) {
		t.Errorf("the erasing replica's keyring: %v", err)
	}
	// And the other customer's is not
	if !f.opens(t, other) {
		t.Error("the other customer's key was destroyed")
	}
	// And the customer's stream records the erasure: which customer and
	// which keys, who asked, when; nothing else
	recs := f.records(t, c)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	var data map[string]any
	if err := json.Unmarshal([]byte(r.Data), &data); err != nil || len(data) != 2 || data["customer_id"] != c.String() ||
		fmt.Sprint(data["data_keys"]) != fmt.Sprint([]any{k.ID.String()}) {
		t.Errorf("data %s", r.Data)
	}
	var meta struct {
		Actor      string   `json:"actor"`
		ActorRoles []string `json:"actor_roles"`
		RequestID  string   `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(r.Metadata), &meta); err != nil || meta.Actor != "staff-1" || meta.RequestID != "req-1" ||
		len(meta.ActorRoles) != 1 || meta.ActorRoles[0] != "staff" {
		t.Errorf("metadata %s", r.Metadata)
	}
	if r.Version != 1 || r.Type != customer.TypePersonalDataErased || r.SchemaVersion != 1 ||
		r.OccurredAt.Before(before.Add(-time.Minute)) || !r.OccurredAt.Equal(r.Recorded) {
		t.Errorf("record %+v", r)
	}
	// at the time the key was destroyed
	var destroyedAt time.Time
	if err := f.pool.QueryRow(t.Context(), `SELECT destroyed_at FROM customer_data_keys WHERE key_id = $1`, k.ID).Scan(&destroyedAt); err != nil ||
		!destroyedAt.Equal(r.OccurredAt) {
		t.Errorf("destroyed at %s, recorded as erased at %s (%v)", destroyedAt, r.OccurredAt, err)
	}
}

func TestErasingAgainRecordsOnlyWhatItDestroys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Given a customer with personal data, erased
	c := uuid.New()
	f.key(t, c)
	f.erase(t, c)

	// When it is erased again
	again := f.erase(t, c)

	// Then nothing more is recorded
	if again || len(f.records(t, c)) != 1 {
		t.Errorf("recorded %t, %d records; want one record", again, len(f.records(t, c)))
	}

	// Given the customer came back and has personal data again
	k := f.key(t, c)
	// When it is erased
	// Then the new key is destroyed and the erasure recorded
	if !f.erase(t, c) || f.opens(t, k) || len(f.records(t, c)) != 2 {
		t.Errorf("%d records, key opens %t", len(f.records(t, c)), f.opens(t, k))
	}
}

func TestACustomerWithoutPersonalDataIsErasedOnRecordOnce(t *testing.T) {
	t.Parallel()
	// Given a customer who never had personal data
	f := newFixture(t)
	c := uuid.New()

	// When it is erased, eight times at once
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded int
	)
	for range 8 {
		wg.Go(func() {
			ok, err := f.store.ErasePersonalData(context.Background(), erasureOf(c))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				recorded++
			}
		})
	}
	wg.Wait()

	// Then the request is on record, once
	if n := len(f.records(t, c)); n != 1 || recorded != 1 {
		t.Errorf("%d records, %d said recorded; want 1", n, recorded)
	}
}

func TestACrashBetweenTheKeysDestructionAndTheRecordErasesNothingAndARetryCompletesIt(t *testing.T) {
	t.Parallel()
	// Given a customer with personal data, and a replica listening for
	// erasures
	f := newFixture(t)
	c := uuid.New()
	k := f.key(t, c)
	listener := listen(t, f.pool)

	// When the erasure's database session is killed, as by kill -9 of
	// its server process or backend, after the keys' destruction and
	// before the record
	f.store.SetBetween(func(ctx context.Context, tx pgx.Tx) error {
		var destroyed int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM customer_data_keys WHERE customer_id = $1 AND destroyed_at IS NOT NULL`, c).Scan(&destroyed); err != nil || destroyed != 1 {
			t.Errorf("the keys are not destroyed yet in the transaction: %d, %v", destroyed, err)
		}
		var pid int32
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		if _, err := f.pool.Exec(ctx, `SELECT pg_terminate_backend($1, 10000)`, pid); err != nil {
			t.Errorf("kill the backend: %v", err)
		}
		return nil
	})
	_, err := f.store.ErasePersonalData(t.Context(), erasureOf(c))

	// Then the erasure failed, and nothing of it happened: the key opens,
	// nothing is recorded, no replica was told
	if err == nil {
		t.Fatal("the erasure succeeded with its session killed")
	}
	if !f.opens(t, k) {
		t.Error("the key was destroyed without the record")
	}
	if n := len(f.records(t, c)); n != 0 {
		t.Errorf("%d records without the key's destruction", n)
	}
	listener.none(t)

	// When the request is retried
	f.store.SetBetween(nil)
	if !f.erase(t, c) {
		t.Fatal("the retry recorded nothing")
	}
	// Then the erasure is complete: the key destroyed, the erasure
	// recorded once, every replica told
	if f.opens(t, k) || len(f.records(t, c)) != 1 {
		t.Errorf("after the retry: key opens %t, %d records", f.opens(t, k), len(f.records(t, c)))
	}
	listener.heard(t, c.String())
}

// listener is a session listening on datakeys.ErasedChannel.
type listener struct{ conn *pgx.Conn }

func listen(t *testing.T, pool *pgxpool.Pool) listener {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), "LISTEN "+datakeys.ErasedChannel); err != nil {
		t.Fatal(err)
	}
	return listener{conn}
}

func (l listener) none(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if n, err := l.conn.WaitForNotification(ctx); err == nil {
		t.Errorf("told of an erasure that did not happen: %q", n.Payload)
	}
}

func (l listener) heard(t *testing.T, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil || n.Payload != payload {
		t.Errorf("notification %v, %v; want %q", n, err, payload)
	}
}
