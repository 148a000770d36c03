package natsrelay_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestMessagesPublishedBeforeAnErasureAreTheRelays: a batch the stream
// acknowledged but the relay did not record (it died between the two)
// carries personal data; one of the customers is erased before the relay
// starts again, so the feed now reads those events erased. The relay
// takes the messages for its own, as they were published: it does not
// stop, and publishes nothing twice. So too when it starts again
// publishing personal data in the other form.
func TestMessagesPublishedBeforeAnErasureAreTheRelays(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ published, restarted bool }{{false, false}, {true, true}, {false, true}, {true, false}} {
		t.Run(form(c.published)+" then "+form(c.restarted), func(t *testing.T) {
			t.Parallel()
			// Given a relay that published and recorded an order
			f := newFixture(t)
			f.orders(1, 1)
			cfg := f.config()
			cfg.SealPersonalData = c.published
			_, stop := f.start(cfg, f.lock(0))
			f.stream(2)
			stop()
			recorded := f.record()
			// and then two customers' orders, every personal field among
			// them, acknowledged but not recorded
			erased, kept := uuid.New(), uuid.New()
			n := 2 + f.personalOrders(erased) + f.personalOrders(kept)
			_, stop = f.start(cfg, f.lock(0))
			published := f.stream(n)
			stop()
			f.setCheckpoint(recorded.Checkpoint)

			// When one customer's personal data is erased
			f.erase(erased)
			f.feed(n + 1)
			if !f.readsErased(f.feedRead(n, c.published)[2:], published[2:]) {
				t.Fatal("no message differs from what the relay would publish now: the test proves nothing")
			}

			// Then a relay started again goes on after those messages,
			// publishing the erasure's record alone
			cfg.SealPersonalData = c.restarted
			r, _ := f.start(cfg, f.lock(0))
			f.waitCheckpointAt(uint64(n + 1))
			msgs := f.stream(n + 1)
			if r.Published() != 1 {
				t.Errorf("published %d, want 1", r.Published())
			}
			// and the stream still holds what was published before
			for i, m := range published {
				if !bytes.Equal(msgs[i].Data, m.Data) {
					t.Errorf("message %d is now %s, was %s", i+1, msgs[i].Data, m.Data)
				}
			}
			if last := f.feedRead(n+1, c.restarted)[n]; last.Type != "CustomerPersonalDataErased" ||
				msgs[n].Header.Get(jetstream.MsgIDHeader) != last.EventID.String() {
				t.Errorf("message %d is %s, want the erasure's record %s (%s)", n+1, msgs[n].Header.Get(jetstream.MsgIDHeader), last.EventID, last.Type)
			}
		})
	}
}

// form names a form of personal data on the broker.
func form(sealed bool) string {
	if sealed {
		return "sealed"
	}
	return "clear"
}

// feedRead is the feed's first n events, read sealed or not, once the
// feed shows them (it may show fewer for a moment while other databases'
// transactions start).
func (f *fixture) feedRead(n int, sealed bool) []app.RecordedEvent {
	f.t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		events, err := f.store.ReadFeed(context.Background(), app.FeedQuery{Limit: n, Sealed: sealed})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(events) == n {
			return events
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the feed holds %d events, want %d", len(events), n)
		}
	}
}

// personalOrders appends the customer's orders: one delivered with a
// signature, one cancelled with a reason, one delivered unsigned; each
// placed, with an address. It returns how many events they are.
func (f *fixture) personalOrders(c uuid.UUID) int {
	f.t.Helper()
	ctx := context.Background()
	addr := order.Address{Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"} // adaAddress
	events := 0
	do := func(res app.Result, err error) app.Result {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
		events++
		return res
	}
	at := func(res app.Result) app.Target {
		return app.Target{OrderID: res.Order.ID, ExpectedVersion: res.Order.Version, Metadata: apptest.AsStaff}
	}
	for _, end := range []string{"signed", "cancelled", "unsigned"} {
		res := do(f.svc.CreateOrder(ctx, app.NewOrder{CustomerID: c}, apptest.AsStaff))
		res = do(f.svc.AddItem(ctx, at(res), order.NewItem{ProductID: uuid.New(), ProductName: "Difference Engine",
			Quantity: 1, UnitPrice: order.MustParseAmount("17.50")}))
		res = do(f.svc.PlaceOrder(ctx, at(res), addr))
		if end == "cancelled" {
			do(f.svc.CancelOrder(ctx, at(res), "changed her mind, Ada", "staff:apptest"))
			continue
		}
		res = do(f.svc.ShipOrder(ctx, at(res), "1Z999AA10123456784", "UPS"))
		signature := "A. A. Lovelace"
		if end == "unsigned" {
			signature = ""
		}
		do(f.svc.DeliverOrder(ctx, at(res), time.Now().UTC().Truncate(time.Microsecond), signature))
	}
	return events
}

// erase erases the customer's personal data, as staff.
func (f *fixture) erase(c uuid.UUID) {
	f.t.Helper()
	if err := f.svc.ErasePersonalData(context.Background(), c, apptest.AsStaff); err != nil {
		f.t.Fatal(err)
	}
}

// setCheckpoint records cp as the checkpoint, in its epoch, as a relay
// that died between the stream's acknowledgements and its record left
// it.
func (f *fixture) setCheckpoint(cp app.BrokerCheckpoint) {
	f.t.Helper()
	if _, err := f.pool.Exec(context.Background(), `
UPDATE broker_checkpoints SET transaction_id = $2, position = $3, event_id = $4, stream_sequence = $5
 WHERE stream = $1`, f.names.Stream, cp.Cursor.TransactionID, cp.Cursor.Position, cp.EventID, int64(cp.Sequence)); err != nil {
		f.t.Fatal(err)
	}
	if got := f.record().Checkpoint; got.Sequence != cp.Sequence || got.EventID != cp.EventID {
		f.t.Fatalf("checkpoint %+v, want %+v", got, cp)
	}
}

// waitCheckpointAt waits until the relay recorded the stream's message
// seq; it fails at once when the relay stops instead.
func (f *fixture) waitCheckpointAt(seq uint64) {
	f.t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		st := f.record()
		if st.Stopped != nil {
			f.t.Fatalf("the relay stopped: %s: %s", st.Stopped.Code, st.Stopped.Reason)
		}
		if st.Checkpoint.Sequence == seq {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("checkpoint at message %d, want %d", st.Checkpoint.Sequence, seq)
		}
	}
}

// readsErased reports whether some of the events read erased now, each
// then encoded otherwise than its message was published; the others
// must encode as their messages.
func (f *fixture) readsErased(events []app.RecordedEvent, msgs []*jetstream.RawStreamMsg) bool {
	f.t.Helper()
	erased := 0
	for i, e := range events {
		body, err := encode(e)
		if err != nil {
			f.t.Fatal(err)
		}
		same := bytes.Equal(body, msgs[i].Data)
		switch {
		case e.Erased && !same && bytes.Contains(body, []byte(`"orderapierased":true`)):
			erased++
		case e.Erased || !same:
			f.t.Fatalf("event %s (erased %t) encodes as %s; its message was %s", e.EventID, e.Erased, body, msgs[i].Data)
		}
	}
	return erased > 0
}

// TestAMessageThatDiffersBeyondTheErasureIsNotTheRelays: after an
// erasure, a message of before it may carry personal values where the
// event now reads null, and nothing else may differ from the relay's.
func TestAMessageThatDiffersBeyondTheErasureIsNotTheRelays(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		sealed   bool
		typ      string
		has      string
		old, new string
	}{
		{"another total", false, "OrderPlaced", "", `"total_amount":"17.50"`, `"total_amount":"17.51"`},
		{"no address", false, "OrderPlaced", "", `"shipping_address":` + adaAddress + `,`, ``},
		{"a null address, unmarked", false, "OrderPlaced", "", adaAddress, `null`},
		{"marked erased, with its address", false, "OrderPlaced", "", `"orderapiversion":3`, `"orderapiversion":3,"orderapierased":true`},
		{"marked sealed, in clear", false, "OrderPlaced", "", `"orderapiversion":3`, `"orderapiversion":3,"orderapipersonaldata":"sealed"`},
		{"a signature where none was", false, "OrderDelivered", `Z"},`, `Z"},`, `Z","signature":"A. A. Lovelace"},`},
		{"no signature where one was", false, "OrderDelivered", `"signature"`, `,"signature":"A. A. Lovelace"`, ``},
		{"another reason's member", false, "OrderCancelled", "", `"reason":`, `"Reason":`},
		{"the order's id", false, "OrderCancelled", "", `"data":{"order_id":"`, `"data":{"order_id":"0`},
		{"sealed, another total", true, "OrderPlaced", "", `"total_amount":"17.50"`, `"total_amount":"17.51"`},
		{"sealed, another sealed text", true, "OrderPlaced", "", `"shipping_address":"`, `"shipping_address":"0`},
		{"sealed, unmarked", true, "OrderCancelled", "", `,"orderapipersonaldata":"sealed"`, ``},
		{"sealed, unmarked, marked erased", true, "OrderCancelled", "", `,"orderapipersonaldata":"sealed"`, `,"orderapierased":true`},
		{"sealed, no signature where one was", true, "OrderDelivered", `"signature"`, `,"signature":"`, `,"signaturf":"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Given a relay that published and recorded an order, and a
			// customer's orders stored after it, as they read
			f := newFixture(t)
			cfg := f.config()
			cfg.SealPersonalData = c.sealed
			f.orders(1, 0)
			_, stop := f.start(cfg, f.lock(0))
			f.stream(1)
			stop()
			cust := uuid.New()
			n := 1 + f.personalOrders(cust)
			before := f.feedRead(n, c.sealed)
			// and the customer erased
			f.erase(cust)

			// When the stream holds, after the checkpoint, their messages
			// as the relay published them before the erasure, up to one of
			// the type changed so
			for _, e := range before[1:] {
				body, err := encode(e)
				if err != nil {
					t.Fatal(err)
				}
				if e.Type == c.typ && bytes.Contains(body, []byte(c.has)) {
					changed := bytes.Replace(body, []byte(c.old), []byte(c.new), 1)
					if bytes.Equal(changed, body) {
						t.Fatalf("%s has no %s", body, c.old)
					}
					f.publishRaw(f.names.Prefix+"."+e.Type+"."+e.OrderID.String(), changed, e.EventID.String())
					break
				}
				f.publishRaw(f.names.Prefix+"."+e.Type+"."+e.OrderID.String(), body, e.EventID.String())
			}
			held := f.streamLast()

			// Then the relay started again stops at that one, and publishes
			// nothing
			r, _ := f.start(cfg, f.lock(0))
			st := f.waitStopped(r, natsrelay.StopStreamMismatch)
			if want := "message " + strconv.FormatUint(held, 10) + " has"; !strings.Contains(st.Stalled.Reason, want) {
				t.Errorf("reason %q, want it to say %q", st.Stalled.Reason, want)
			}
			time.Sleep(300 * time.Millisecond)
			f.streamHolds(held)
		})
	}
}

// adaAddress is personalOrders' address as an event's data holds it.
const adaAddress = `{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}`
