package eventstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// Distinctive personal data, to look for in the tables.
var (
	secretAddress = order.Address{Name: "Zebulon Quixwell", Line1: "77 Marrowfinch Lane", City: "Wexbridge", PostalCode: "QX9 7ZZ", Country: "GB"}
	secretWords   = []string{"Zebulon", "Quixwell", "Marrowfinch", "Wexbridge", "QX9 7ZZ", "Thornquist", "parsnip-coloured"}
)

// sealedStore is a store that seals, over a fresh database, with its
// keyring.
func sealedStore(t *testing.T, pool *pgxpool.Pool, cfg eventstore.Config) (*eventstore.Store, *personaldata.Keyring) {
	t.Helper()
	cfg.Keyring = eventstoretest.Keyring(t, pool)
	return eventstore.New(pool, cfg), cfg.Keyring
}

// erase destroys the customer's keys as an erasure does, and has the
// keyrings forget them as the notification would.
func erase(t *testing.T, pool *pgxpool.Pool, customer uuid.UUID, rings ...*personaldata.Keyring) {
	t.Helper()
	eventstoretest.Erase(t, pool, customer, rings...)
}

// tablesText is every row of the tables that hold orders, as text.
func tablesText(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"events", "order_details", "customer_orders", "stream_snapshots", "idempotency_keys", "customer_data_keys"} {
		var text *string
		if err := pool.QueryRow(t.Context(), `SELECT string_agg(t::text, E'\n') FROM `+table+` t`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if text != nil {
			b.WriteString(*text)
		}
	}
	return b.String()
}

func shipAndDeliver(t *testing.T, s *eventstore.Store, o order.Order, signature string) order.Order {
	t.Helper()
	o = do(t, s, o, t0.Add(time.Hour), func(o *order.Order) ([]order.Event, error) { return o.Ship("TRK-1", "DHL") })
	return do(t, s, o, t0.Add(2*time.Hour), func(o *order.Order) ([]order.Event, error) {
		return o.Deliver(t0.Add(2*time.Hour), t0.Add(3*time.Hour), signature)
	})
}

// placed is a new order of the customer, of one line, placed to
// secretAddress.
func placed(t *testing.T, s *eventstore.Store, customer uuid.UUID) order.Order {
	t.Helper()
	o := create(t, s, uuid.New(), customer, t0)
	o = do(t, s, o, t0, addItem("Tea", "4.50", 1))
	return do(t, s, o, t0, placeAt(secretAddress))
}

func placeAt(addr order.Address) func(*order.Order) ([]order.Event, error) {
	return func(o *order.Order) ([]order.Event, error) { return o.Place(addr) }
}

func cancelFor(reason string) func(*order.Order) ([]order.Event, error) {
	return func(o *order.Order) ([]order.Event, error) { return o.Cancel(reason, "staff:lin") }
}

func TestPersonalDataIsSealedInEveryTableAndReadsBackInClear(t *testing.T) {
	t.Parallel()
	// Given a store that seals, with snapshots every two events
	pool := pgtest.New(t)
	s, _ := sealedStore(t, pool, eventstore.Config{SnapshotEvery: 2})
	customer := uuid.New()

	// When an order is placed, shipped and delivered with a signature,
	// and another placed and cancelled with a reason
	delivered := create(t, s, uuid.New(), customer, t0)
	delivered = do(t, s, delivered, t0, addItem("Tea", "4.50", 2))
	delivered = do(t, s, delivered, t0, placeAt(secretAddress))
	delivered = shipAndDeliver(t, s, delivered, "Zebulon Thornquist")
	cancelled := placed(t, s, customer)
	cancelled = do(t, s, cancelled, t0, cancelFor("a parsnip-coloured mistake"))
	// and snapshots of them are written
	for _, o := range []order.Order{delivered, cancelled} {
		if _, err := s.SaveSnapshot(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}

	// Then no table holds the personal data in clear, though they hold
	// the rest (and snapshots)
	dump := tablesText(t, pool)
	if !strings.Contains(dump, "Tea") || !strings.Contains(dump, "TRK-1") {
		t.Errorf("the tables lack what they should hold in clear:\n%s", dump)
	}
	for _, w := range secretWords {
		if strings.Contains(dump, w) {
			t.Errorf("%q is stored in clear", w)
		}
	}
	// And every read shows it as recorded
	for _, want := range []order.Order{delivered, cancelled} {
		for name, read := range map[string]func() (order.Order, error){
			"load":       func() (order.Order, error) { return s.Load(t.Context(), want.ID) },
			"projection": func() (order.Order, error) { return s.GetOrder(t.Context(), want.ID) },
			"version":    func() (order.Order, error) { return s.LoadVersion(t.Context(), want.ID, want.Version) },
		} {
			got, err := read()
			if err != nil || !sameOrder(got, want) {
				t.Errorf("%s of %s:\n got %+v, %v\nwant %+v", name, want.ID, got, err, want)
			}
		}
	}
	events, err := s.OrderEvents(t.Context(), app.EventQuery{OrderID: delivered.ID})
	if err != nil {
		t.Fatal(err)
	}
	history := string(mustJSON(t, events))
	for _, w := range []string{"Zebulon Quixwell", "Marrowfinch", "Zebulon Thornquist"} {
		if !strings.Contains(history, w) {
			t.Errorf("history lacks %q: %s", w, history)
		}
	}
}

func TestAnErasedCustomersPersonalDataReadsErasedAndNothingElseChanges(t *testing.T) {
	t.Parallel()
	// Given two customers' orders, placed, delivered and cancelled, and
	// what every read said of them
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{SnapshotEvery: 2})
	erased, kept := uuid.New(), uuid.New()
	var orders []order.Order
	for _, customer := range []uuid.UUID{erased, kept} {
		o := create(t, s, uuid.New(), customer, t0)
		o = do(t, s, o, t0, addItem("Tea", "4.50", 2))
		o = do(t, s, o, t0, placeAt(secretAddress))
		orders = append(orders, shipAndDeliver(t, s, o, "Zebulon Thornquist"))
		c := placed(t, s, customer)
		orders = append(orders, do(t, s, c, t0, cancelFor("a parsnip-coloured mistake")))
	}
	before := readEverything(t, s, orders)

	// When one customer's personal data is erased
	erase(t, pool, erased, keys)

	// Then that customer's orders read with their personal fields empty
	// and marked erased, on every read, and the other customer's as before
	after := readEverything(t, s, orders)
	for i, o := range orders {
		want := before[i]
		if o.CustomerID == erased {
			want = want.erased()
		}
		if !bytes.Equal(mustJSON(t, after[i]), mustJSON(t, want)) {
			t.Errorf("order %d of %s:\n got %+v\nwant %+v", i, o.CustomerID, after[i], want)
		}
	}
	// And the projections verify clean
	report, err := projections.Verify(t.Context(), s, 10)
	if err != nil || report.Total != 0 {
		t.Errorf("verify: %+v, %v", report, err)
	}
	// And rebuilt from the events they read the same, and verify clean
	if _, err := projections.Rebuild(t.Context(), s, []string{app.ProjectionOrderDetails}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if rebuilt := readEverything(t, s, orders); !bytes.Equal(mustJSON(t, rebuilt), mustJSON(t, after)) {
		t.Errorf("rebuilt:\n got %s\nwant %s", mustJSON(t, rebuilt), mustJSON(t, after))
	}
	if report, err := projections.Verify(t.Context(), s, 10); err != nil || report.Total != 0 {
		t.Errorf("verify after rebuild: %+v, %v", report, err)
	}
	if strings.Contains(tablesText(t, pool), "Zebulon") {
		t.Error("personal data in clear after the rebuild")
	}
}

// everything is what each read says of one order: the state by the
// projection, by its events, at its last version; and its history.
type everything struct {
	Projection, Load, Version order.Order
	History                   []app.RecordedEvent
}

// erased is what reads say once the order's personal data is erased.
func (e everything) erased() everything {
	for _, o := range []*order.Order{&e.Projection, &e.Load, &e.Version} {
		if o.ShippingAddress != nil || o.Signature != "" || o.CancelReason != "" {
			o.Erased = true
		}
		o.ShippingAddress, o.Signature, o.CancelReason = nil, "", ""
	}
	history := make([]app.RecordedEvent, len(e.History))
	for i, r := range e.History {
		var data map[string]any
		json.Unmarshal(r.Data, &data)
		switch r.Type {
		case order.TypePlaced:
			data["shipping_address"], r.Erased = nil, true
		case order.TypeDelivered:
			data["signature"], r.Erased = nil, true
		case order.TypeCancelled:
			data["reason"], r.Erased = nil, true
		}
		r.Data, _ = json.Marshal(data)
		history[i] = r
	}
	e.History = history
	return e
}

func readEverything(t *testing.T, s *eventstore.Store, orders []order.Order) []everything {
	t.Helper()
	ctx := t.Context()
	all := make([]everything, len(orders))
	for i, o := range orders {
		var err error
		e := &all[i]
		if e.Projection, err = s.GetOrder(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if e.Load, err = s.Load(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if e.Version, err = s.LoadVersion(ctx, o.ID, o.Version); err != nil {
			t.Fatal(err)
		}
		if e.History, err = s.OrderEvents(ctx, app.EventQuery{OrderID: o.ID}); err != nil {
			t.Fatal(err)
		}
		// JSON as a reader sees it: member order is not part of it.
		for j := range e.History {
			var v any
			json.Unmarshal(e.History[j].Data, &v)
			e.History[j].Data, _ = json.Marshal(v)
		}
		if len(e.Projection.Items) == 0 {
			e.Projection.Items = nil
		}
	}
	return all
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPersonalDataRecordedAfterAnErasureIsKeptUnderANewKey(t *testing.T) {
	t.Parallel()
	// Given a placed order whose customer was then erased
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{})
	customer := uuid.New()
	o := placed(t, s, customer)
	erase(t, pool, customer, keys)
	o, err := s.Load(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}

	// When it is cancelled with a reason
	o = do(t, s, o, t0.Add(time.Hour), cancelFor("a parsnip-coloured mistake"))

	// Then the reason reads back, the address stays erased, on both reads
	for name, read := range map[string]func() (order.Order, error){
		"load":       func() (order.Order, error) { return s.Load(t.Context(), o.ID) },
		"projection": func() (order.Order, error) { return s.GetOrder(t.Context(), o.ID) },
	} {
		got, err := read()
		if err != nil || got.CancelReason != "a parsnip-coloured mistake" || got.ShippingAddress != nil || !got.Erased {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
	// And in clear nowhere
	if strings.Contains(tablesText(t, pool), "parsnip") {
		t.Error("the new reason is stored in clear")
	}
}

func TestAReplicaThatMissedAnErasureSealsWithTheNewKey(t *testing.T) {
	t.Parallel()
	// Given two replicas, the first holding the customer's key in cache
	pool := pgtest.New(t)
	stale, _ := sealedStore(t, pool, eventstore.Config{})
	_, other := sealedStore(t, pool, eventstore.Config{})
	customer := uuid.New()
	placed(t, stale, customer)
	// and the customer erased through the second, the first not told
	erase(t, pool, customer, other)

	// When the first records new personal data for the customer
	o := placed(t, stale, customer)

	// Then it was sealed with a live key and reads back
	got, err := stale.Load(t.Context(), o.ID)
	if err != nil || got.Erased || got.ShippingAddress == nil || *got.ShippingAddress != secretAddress {
		t.Errorf("load: %+v, %v", got, err)
	}
	if p, err := stale.GetOrder(t.Context(), o.ID); err != nil || p.ShippingAddress == nil || p.Erased {
		t.Errorf("projection: %+v, %v", p, err)
	}
}

func TestAStateReadBeforeAnErasureDoesNotBringTheAddressBack(t *testing.T) {
	t.Parallel()
	// Given a placed order read, address and all, before its customer
	// was erased, and the customer's new key in use since
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{})
	customer := uuid.New()
	o := placed(t, s, customer)
	read, err := s.Load(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	erase(t, pool, customer, keys)
	placed(t, s, customer)

	// When a command is decided on the old state and appended
	do(t, s, read, t0.Add(time.Hour), func(o *order.Order) ([]order.Event, error) { return o.Ship("TRK-1", "DHL") })

	// Then the order's address stays erased
	got, err := s.GetOrder(t.Context(), o.ID)
	if err != nil || got.ShippingAddress != nil || !got.Erased || got.Status != order.StatusShipped {
		t.Errorf("projection: %+v, %v", got, err)
	}
}

func TestASnapshotOfAStateReadBeforeAnErasureIsWrittenErased(t *testing.T) {
	t.Parallel()
	// Given a delivered order folded, signature and all, before its
	// customer was erased, and the customer's new key in use since
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{SnapshotEvery: 2})
	customer := uuid.New()
	o := shipAndDeliver(t, s, placed(t, s, customer), "Zebulon Thornquist")
	read, err := s.ReplayOf(t.Context(), o.ID)
	if err != nil || read.Order.ShippingAddress == nil {
		t.Fatalf("replay: %+v, %v", read, err)
	}
	erase(t, pool, customer, keys)
	placed(t, s, customer)

	// When the snapshot writer stores that state afterwards
	if ok, err := s.SaveReplayedSnapshot(t.Context(), read); err != nil || !ok {
		t.Fatalf("save: %v, %v", ok, err)
	}

	// Then a load from it reads the order erased, as its events do
	got, err := s.Load(t.Context(), o.ID)
	if err != nil || !got.Erased || got.ShippingAddress != nil || got.Signature != "" || got.Status != order.StatusDelivered {
		t.Errorf("load: %+v, %v", got, err)
	}
	if strings.Contains(tablesText(t, pool), "Thornquist") {
		t.Error("the signature is in clear")
	}
}

func TestASnapshotWrittenAfterAnErasureOfAStateReadBeforeItReadsErased(t *testing.T) {
	t.Parallel()
	// Given two placed orders of a customer, a store snapshotting every
	// event, and its writer held up on the snapshots table
	pool := pgtest.New(t)
	s, keys := sealedStore(t, pool, eventstore.Config{SnapshotEvery: 1})
	runWriter(t, s)
	customer := uuid.New()
	first, second := placed(t, s, customer), placed(t, s, customer)
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `LOCK TABLE stream_snapshots IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	// And both read, address and all, their states handed to the writer
	for _, o := range []order.Order{first, second} {
		if got := mustLoad(t, s, o.ID); got.ShippingAddress == nil || got.Erased {
			t.Fatalf("before the erasure: %+v", got)
		}
	}

	// When the customer is erased, and then the writer writes the states
	// (the second's at least sealed after the erasure)
	erase(t, pool, customer, keys)
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the snapshots written", func() bool {
		return len(snapshotRows(t, pool, first.ID)) == 3 && len(snapshotRows(t, pool, second.ID)) == 3
	})

	// Then each order, read from its snapshot, reads erased, as its events do
	for _, o := range []order.Order{first, second} {
		if got := mustLoad(t, s, o.ID); got.ShippingAddress != nil || !got.Erased {
			t.Errorf("order %s from its snapshot: address %v, erased %t", o.ID, got.ShippingAddress, got.Erased)
		}
		if got, err := s.LoadVersion(t.Context(), o.ID, o.Version); err != nil || got.ShippingAddress != nil || !got.Erased {
			t.Errorf("order %s at version %d: %+v, %v", o.ID, o.Version, got, err)
		}
	}
	if strings.Contains(tablesText(t, pool), "Zebulon") {
		t.Error("personal data in clear in a snapshot")
	}
}
