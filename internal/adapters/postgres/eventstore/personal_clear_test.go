package eventstore_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestEventsStoredInClearAreSealedOnceAndReadTheSame(t *testing.T) {
	t.Parallel()
	// Given orders written before sealing began: delivered with a
	// signature, cancelled with a reason
	pool := pgtest.New(t)
	clear := eventstore.New(pool, eventstore.Config{})
	customer := uuid.New()
	delivered := shipAndDeliver(t, clear, placed(t, clear, customer), "Zebulon Thornquist")
	cancelled := do(t, clear, placed(t, clear, customer), t0, cancelFor("a parsnip-coloured mistake"))
	// and the service that seals, reading them as they were written
	s, _ := sealedStore(t, pool, eventstore.Config{})
	before := readEverything(t, s, []order.Order{delivered, cancelled})

	// When the events stored in clear are sealed
	n, err := s.SealClearEvents(t.Context(), 2)

	// Then each event with personal data was sealed, once
	if err != nil || n != 4 {
		t.Fatalf("sealed %d, %v; want 4", n, err)
	}
	if again, err := s.SealClearEvents(t.Context(), 2); err != nil || again != 0 {
		t.Errorf("a second run sealed %d, %v", again, err)
	}
	// And the events hold no personal data in clear
	var text string
	if err := pool.QueryRow(t.Context(), `SELECT string_agg(data::text, ' ') FROM events`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range secretWords {
		if strings.Contains(text, w) {
			t.Errorf("%q is still in clear in the events", w)
		}
	}
	// And every read says what it said before
	if after := readEverything(t, s, []order.Order{delivered, cancelled}); string(mustJSON(t, after)) != string(mustJSON(t, before)) {
		t.Errorf("reads changed:\n got %s\nwant %s", mustJSON(t, after), mustJSON(t, before))
	}
}

func TestARowWrittenInClearThatLooksSealedReadsAsWrittenBySealingStore(t *testing.T) {
	t.Parallel()
	// Given orders written before sealing began, whose signature and
	// cancellation reason have the form of sealed text (a UUID, a dot,
	// base64) but name no data key
	pool := pgtest.New(t)
	clear := eventstore.New(pool, eventstore.Config{})
	customer := uuid.New()
	const looksSealed = "01a24a0c-0eb7-72cd-9968-9bdb0b2c606c.AAAA"
	delivered := shipAndDeliver(t, clear, placed(t, clear, customer), looksSealed)
	cancelled := do(t, clear, placed(t, clear, customer), t0, cancelFor(looksSealed))
	// And the customer has a data key since, as a customer whose events
	// a sealing service wrote
	s, _ := sealedStore(t, pool, eventstore.Config{})
	placed(t, s, customer)

	// When a store that seals reads the read model's rows
	gotDelivered, err1 := s.GetOrder(t.Context(), delivered.ID)
	gotCancelled, err2 := s.GetOrder(t.Context(), cancelled.ID)

	// Then they read as written, nothing erased
	if err1 != nil || gotDelivered.Signature != looksSealed || gotDelivered.Erased {
		t.Errorf("delivered: %+v, %v", gotDelivered, err1)
	}
	if err2 != nil || gotCancelled.CancelReason != looksSealed || gotCancelled.Erased {
		t.Errorf("cancelled: %+v, %v", gotCancelled, err2)
	}
	// And the read models agree with the events
	if report, err := projections.Verify(t.Context(), s, 10); err != nil || report.Total != 0 {
		t.Errorf("verify: %+v, %v", report, err)
	}
}

func TestTheEventsTableRefusesEveryChangeButSealingInClearData(t *testing.T) {
	t.Parallel()
	// Given an order written in clear and a live key of its customer
	pool := pgtest.New(t)
	clear := eventstore.New(pool, eventstore.Config{})
	customer := uuid.New()
	o := do(t, clear, placed(t, clear, customer), t0.Add(time.Hour), cancelFor("a parsnip-coloured mistake"))
	_, keys := sealedStore(t, pool, eventstore.Config{})
	key, err := keys.ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"a member that is not personal": `data || '{"total_amount": "0.01"}'`,
		"a personal member left clear":  `data`,
		"a personal member removed":     `data - 'reason'`,
		"a personal member not text":    `jsonb_set(data, '{reason}', '{"x": 1}')`,
		"a member added":                `data || '{"signature": "x.y"}'`,
	}
	for name, data := range cases {
		// When the event is changed so
		_, err := pool.Exec(t.Context(), `UPDATE events SET data = `+data+`, personal_key = $2
 WHERE stream_id = $1 AND event_type = 'OrderCancelled'`, o.ID, key.ID)

		// Then it is refused as a change to an immutable event
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "OAIMM" {
			t.Errorf("%s: %v", name, err)
		}
	}
	// And so is any change of the envelope, or a deletion
	for name, sql := range map[string]string{
		"envelope": `UPDATE events SET occurred_at = occurred_at + interval '1 second' WHERE stream_id = $1`,
		"delete":   `DELETE FROM events WHERE stream_id = $1`,
	} {
		if _, err := pool.Exec(t.Context(), sql, o.ID); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPreparingAnErasureLeavesNoCopyInClear(t *testing.T) {
	t.Parallel()
	// Given a customer whose orders were written before sealing began:
	// events, read model rows and a snapshot in clear
	pool := pgtest.New(t)
	clear := eventstore.New(pool, eventstore.Config{SnapshotEvery: 2})
	customer, bystander := uuid.New(), uuid.New()
	o := shipAndDeliver(t, clear, placed(t, clear, customer), "Zebulon Thornquist")
	if _, err := clear.SaveSnapshot(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	other := placed(t, clear, bystander)
	// and a command of the customer's that claimed an idempotency key
	draft := do(t, clear, create(t, clear, uuid.New(), customer, t0), t0, addItem("Tea", "4.50", 1))
	claim := commitOf(t, draft, t0, mustDecide(t, draft, placeAt(secretAddress))...)
	claim.Idempotency = app.Idempotency{Key: "k-1", Fingerprint: sha256.Sum256([]byte("POST place Zebulon")), Principal: "p"}
	claim.IdempotencyTTL = time.Hour
	mustAppend(t, clear, claim)
	s, keys := sealedStore(t, pool, eventstore.Config{SnapshotEvery: 2})

	// When the customer is erased, prepared first in the same transaction
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	locked, err := s.PrepareErasure(t.Context(), tx, customer, func() ([]uuid.UUID, error) {
		return datakeys.Lock(t.Context(), tx, customer)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := datakeys.DestroyKeys(t.Context(), tx, customer, locked); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys.Forget(customer)

	// Then no table holds the customer's personal data in clear
	dump := tablesText(t, pool)
	for _, w := range []string{"Zebulon Thornquist"} {
		if strings.Contains(dump, w) {
			t.Errorf("%q is still stored in clear", w)
		}
	}
	// And every read shows it erased, and the rest as it was
	for name, read := range map[string]func() (order.Order, error){
		"load":       func() (order.Order, error) { return s.Load(t.Context(), o.ID) },
		"projection": func() (order.Order, error) { return s.GetOrder(t.Context(), o.ID) },
	} {
		got, err := read()
		if err != nil || !got.Erased || got.ShippingAddress != nil || got.Signature != "" || got.Status != order.StatusDelivered || got.Total().String() != o.Total().String() {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
	events, err := s.OrderEvents(t.Context(), app.EventQuery{OrderID: o.ID})
	if err != nil || !events[2].Erased || !events[4].Erased {
		t.Errorf("history: %+v, %v", events, err)
	}
	// And no claim of its orders keeps the digest of a request
	var fingerprints int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM idempotency_keys WHERE order_id = $1 AND fingerprint <> $2`, draft.ID, make([]byte, 32)).Scan(&fingerprints); err != nil || fingerprints != 0 {
		t.Errorf("%d claims keep a request's digest, %v", fingerprints, err)
	}
	// And the other customer's order, still in clear, reads as written
	if got, err := s.GetOrder(t.Context(), other.ID); err != nil || got.Erased || got.ShippingAddress == nil || *got.ShippingAddress != secretAddress {
		t.Errorf("bystander: %+v, %v", got, err)
	}
}
