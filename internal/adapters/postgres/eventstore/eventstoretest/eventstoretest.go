// Package eventstoretest builds the orders that the event store's tests, and
// those of the packages over it, start from: a store over a fresh
// database, commits made as app.Service makes them, and the usual commands.
package eventstoretest

import (
	"context"
	"crypto/rand"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// T0 has microseconds, the precision PostgreSQL keeps, so every time in a
// test survives the store unchanged.
var T0 = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

// Address is a valid shipping address.
var Address = order.Address{Name: "Ada Lovelace", Line1: "1 Analytical Way", City: "London", PostalCode: "N1 9GU", Country: "GB"}

// New gives the test a store over a fresh, migrated database of its
// own, sealing personal data as the service does, and the pool for raw
// SQL.
func New(t *testing.T) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	return eventstore.New(pool, eventstore.Config{Keyring: Keyring(t, pool)}), pool
}

// Keyring returns a keyring over the pool's key store, under a master key
// made for the test.
func Keyring(t testing.TB, pool *pgxpool.Pool) *personaldata.Keyring {
	t.Helper()
	return Keyrings(t, pool)()
}

// Keyrings returns a maker of keyrings over the pool's key store, each
// one a process's own, all under one master key made for the test.
func Keyrings(t testing.TB, pool *pgxpool.Pool) func() *personaldata.Keyring {
	t.Helper()
	return KeyringsTrusting(t, pool, personaldata.DefaultKeyTrust)
}

// KeyringsTrusting is Keyrings, each keyring trusting a key for trust.
func KeyringsTrusting(t testing.TB, pool *pgxpool.Pool, trust time.Duration) func() *personaldata.Keyring {
	t.Helper()
	raw := make([]byte, personaldata.MasterKeySize)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	master, err := personaldata.NewFileMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return func() *personaldata.Keyring {
		return personaldata.NewKeyringTrusting(datakeys.New(pool), personaldata.NewMasterKeys(master), trust)
	}
}

// CommitOf builds the commit a command makes, the way app.Service does:
// the events, all at one time, applied to the loaded state.
func CommitOf(t testing.TB, o order.Order, at time.Time, events ...order.Event) app.Commit {
	t.Helper()
	c := app.Commit{
		OrderID:         o.ID,
		ExpectedVersion: o.Version,
		Metadata:        app.Metadata{RequestID: "req-" + uuid.NewString(), Principal: apptest.Staff},
	}
	for _, e := range events {
		c.Events = append(c.Events, app.NewEvent{ID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: at})
		o.Apply(e, at)
	}
	c.State = o
	return c
}

// Create starts an order created at the given time.
func Create(t testing.TB, s *eventstore.Store, id, customerID uuid.UUID, at time.Time) order.Order {
	t.Helper()
	events, err := order.Create(id, customerID, "USD")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return MustAppend(t, s, CommitOf(t, order.Order{ID: id}, at, events...))
}

// Do runs a command on o at the given time and appends its events.
func Do(t testing.TB, s *eventstore.Store, o order.Order, at time.Time, command func(*order.Order) ([]order.Event, error)) order.Order {
	t.Helper()
	events, err := command(&o)
	if err != nil {
		t.Fatalf("command on order %s at version %d: %v", o.ID, o.Version, err)
	}
	return MustAppend(t, s, CommitOf(t, o, at, events...))
}

// MustAppend appends the commit and returns its state.
func MustAppend(t testing.TB, s *eventstore.Store, c app.Commit) order.Order {
	t.Helper()
	if _, err := s.Append(context.Background(), c); err != nil {
		t.Fatalf("append: %v", err)
	}
	return c.State
}

// AddItem is the command that adds qty of a new product at price.
func AddItem(name, price string, qty int64) func(*order.Order) ([]order.Event, error) {
	return func(o *order.Order) ([]order.Event, error) {
		return o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: name, Quantity: qty, UnitPrice: Price(price)})
	}
}

// Place is the command that places the order, shipped to Address.
func Place(o *order.Order) ([]order.Event, error) { return o.Place(Address) }

// SameOrder compares two states field by field. A stream whose items were
// all removed replays to an empty, non-nil Items slice, while a projection
// has no way to tell that from never having had items; both mean "no
// items", so the comparison treats them alike.
func SameOrder(a, b order.Order) bool {
	if len(a.Items) == 0 {
		a.Items = nil
	}
	if len(b.Items) == 0 {
		b.Items = nil
	}
	return reflect.DeepEqual(a, b)
}

// Dec is the decimal of s, which must be one.
func Dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Price is the amount of s, which must fit one.
func Price(s string) order.Amount {
	a, ok := order.AmountFromDecimal(Dec(s))
	if !ok {
		panic("amount does not fit: " + s)
	}
	return a
}

// StoredData is the data of every event, by its id, as the events table
// keeps it: sealed, where it holds personal data.
func StoredData(t testing.TB, pool *pgxpool.Pool) map[uuid.UUID][]byte {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT event_id, data::text FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	data := map[uuid.UUID][]byte{}
	for rows.Next() {
		var id uuid.UUID
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			t.Fatal(err)
		}
		data[id] = []byte(text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return data
}

// Erase destroys the customer's live keys as an erasure does (locked,
// then destroyed, in one transaction), has the keyrings forget them as
// the notification would, and returns their ids.
func Erase(t testing.TB, pool *pgxpool.Pool, customer uuid.UUID, rings ...*personaldata.Keyring) []uuid.UUID {
	t.Helper()
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	keys, err := datakeys.Lock(t.Context(), tx, customer)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := datakeys.DestroyKeys(t.Context(), tx, customer, keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range rings {
		r.Forget(customer)
	}
	return ids
}
