package natsrelay_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/api/asyncapitest"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// adaWords are personalOrders' personal data, as no sealed message may
// show it.
var adaWords = []string{"Lovelace", "St James", "SW1Y", "changed her mind"}

// TestSealedMessagesCarryTheTextTheStoreKeeps: publishing personal data
// sealed, each message's personal members are the sealed text the events
// table keeps, and it says so; after the customer's erasure too, then
// marked erased. Each is a message of the contract.
func TestSealedMessagesCarryTheTextTheStoreKeeps(t *testing.T) {
	t.Parallel()
	// Given a relay that seals, and a customer's orders, every personal
	// field among them
	f := newFixture(t)
	cfg := f.config()
	cfg.SealPersonalData = true
	c := uuid.New()
	n := f.personalOrders(c)

	// When it publishes them
	_, stop := f.start(cfg, f.lock(0))
	f.stream(n)
	stop()
	// and, after the customer's erasure, another order of the customer,
	// placed before it, and the erasure's record
	ctx := context.Background()
	res, err := f.svc.CreateOrder(ctx, app.NewOrder{CustomerID: c}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	target := app.Target{OrderID: res.Order.ID, ExpectedVersion: 1, Metadata: apptest.AsStaff}
	if res, err = f.svc.AddItem(ctx, target, order.NewItem{ProductID: uuid.New(), ProductName: "Loom card", Quantity: 1, UnitPrice: order.MustParseAmount("3")}); err != nil {
		t.Fatal(err)
	}
	target.ExpectedVersion = res.Order.Version
	if _, err = f.svc.PlaceOrder(ctx, target, eventstoretest.Address); err != nil {
		t.Fatal(err)
	}
	f.erase(c)
	f.start(cfg, f.lock(0))
	msgs := f.stream(n + 4)

	// Then every message is of the contract, and its personal members are
	// the text the events table keeps, sealed, marked so; those published
	// after the erasure marked erased too
	stored := eventstoretest.StoredData(t, f.pool)
	feed := f.feedRead(n+4, true)
	sealed := 0
	for i, m := range msgs {
		e := feed[i]
		asyncapitest.Validate(t, e.Type, m.Data)
		p := published(t, m)
		fields := codec.PersonalFields(e.Type, e.SchemaVersion)
		got, err := personaldata.Members(p.Data, fields)
		if err != nil {
			t.Fatal(err)
		}
		want, err := personaldata.Members(stored[e.EventID], fields)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || p.Sealed != (len(want) > 0) || p.Erased != (i >= n && len(want) > 0) {
			t.Errorf("message %d: %s; the events table keeps %s", i+1, m.Data, stored[e.EventID])
		}
		for name, v := range want {
			if !bytes.Equal(got[name], v) {
				t.Errorf("message %d's %s is %s; the events table keeps %s", i+1, name, got[name], v)
			}
		}
		if p.Sealed {
			sealed++
		}
		for _, w := range append(adaWords, eventstoretest.Address.Name) {
			if strings.Contains(string(m.Data), w) {
				t.Errorf("message %d shows %q: %s", i+1, w, m.Data)
			}
		}
	}
	if sealed != 6 {
		t.Errorf("%d messages carry sealed text, want 6: 4 placed, 1 delivered signed, 1 cancelled", sealed)
	}
}

// TestASealingRelayWaitsForPersonalDataStoredInClear: an order written
// before sealing began holds its address in clear; the relay that seals
// stops before it, saying why, publishes it once it is sealed, sealed.
func TestASealingRelayWaitsForPersonalDataStoredInClear(t *testing.T) {
	t.Parallel()
	// Given an order placed before sealing began
	f := newFixture(t)
	clear := eventstore.New(f.pool, eventstore.Config{})
	o := eventstoretest.Create(t, clear, uuid.New(), uuid.New(), eventstoretest.T0)
	o = eventstoretest.Do(t, clear, o, eventstoretest.T0, eventstoretest.AddItem("Tea", "4.50", 1))
	eventstoretest.Do(t, clear, o, eventstoretest.T0, eventstoretest.Place)

	// When a relay that seals runs
	cfg := f.config()
	cfg.SealPersonalData = true
	r, _ := f.start(cfg, f.lock(0))

	// Then it publishes up to the placed order, and stops before it
	st := f.waitStopped(r, natsrelay.StopPersonalDataInClear)
	if !strings.Contains(st.Stalled.Reason, "orderapi personal-data seal") || st.LagEvents != 1 {
		t.Errorf("progress %+v (%q), want 1 behind, saying what to run", st, st.Stalled.Reason)
	}
	f.streamHolds(2)

	// and when the events stored in clear are sealed, it publishes it,
	// sealed
	if _, err := f.store.SealClearEvents(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	msgs := f.stream(3)
	f.waitGoing(r)
	if p := published(t, msgs[2]); !p.Sealed || strings.Contains(string(msgs[2].Data), eventstoretest.Address.Name) {
		t.Errorf("the placed order published as %s", msgs[2].Data)
	}
}

// published is what a message says of its event's personal data.
func published(t *testing.T, m *jetstream.RawStreamMsg) cloudevent.Published {
	t.Helper()
	p, err := cloudevent.Read(m.Data)
	if err != nil {
		t.Fatalf("message %d: %v", m.Sequence, err)
	}
	return p
}
