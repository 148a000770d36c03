package eventstore_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
)

func TestTheFeedReadSealedGivesPersonalDataAsStoredBeforeAndAfterAnErasure(t *testing.T) {
	t.Parallel()
	// Given an order written in clear before sealing began
	pool := pgtest.New(t)
	old := placed(t, eventstore.New(pool, eventstore.Config{}), uuid.New())
	// and, sealed, a customer's orders: delivered with a signature,
	// cancelled with a reason, delivered unsigned
	s, keys := sealedStore(t, pool, eventstore.Config{})
	customer := uuid.New()
	shipAndDeliver(t, s, placed(t, s, customer), "Zebulon Thornquist")
	do(t, s, placed(t, s, customer), t0, cancelFor("a parsnip-coloured mistake"))
	shipAndDeliver(t, s, placed(t, s, customer), "")

	// When the feed is read sealed, and as every reader reads it
	sealed, opened := wholeFeed(t, s, true), wholeFeed(t, s, false)

	// Then each event read sealed is the event as read, but that its
	// personal members are the sealed text the events table keeps, and
	// absent where it keeps none
	stored := eventstoretest.StoredData(t, pool)
	sealedEvents := 0
	for i, e := range sealed {
		o := opened[i]
		fields := codec.PersonalFields(e.Type, e.SchemaVersion)
		got, want := members(t, e.Data), members(t, o.Data)
		keep := members(t, stored[e.EventID])
		wantSealed := false
		for _, f := range fields {
			if e.OrderID == old.ID {
				break
			}
			delete(want, f)
			if v, ok := keep[f]; ok {
				want[f], wantSealed = v, true
			}
		}
		if !reflect.DeepEqual(got, want) || e.Erased || e.Sealed != wantSealed {
			t.Errorf("read sealed: %s (sealed %t, erased %t)\nwant %s", e.Data, e.Sealed, e.Erased, mustJSON(t, want))
		}
		if e.Sealed {
			sealedEvents++
			for _, w := range secretWords {
				if strings.Contains(string(e.Data), w) {
					t.Errorf("%q read sealed in clear: %s", w, e.Data)
				}
			}
		}
	}
	if sealedEvents != 5 {
		t.Errorf("%d events read sealed with sealed text, want 5 (3 placed, 1 delivered signed, 1 cancelled)", sealedEvents)
	}
	// And the order stored in clear reads in clear, not marked sealed
	if !strings.Contains(string(mustJSON(t, sealed)), "Marrowfinch") {
		t.Error("the order stored in clear does not read in clear")
	}

	// When the customer is erased
	erase(t, pool, customer, keys)

	// Then read sealed, its events are as they were, marked erased
	after := wholeFeed(t, s, true)
	for i, e := range after {
		if !bytes.Equal(e.Data, sealed[i].Data) || e.Sealed != sealed[i].Sealed || e.Erased != e.Sealed {
			t.Errorf("after the erasure, read sealed: %s (sealed %t, erased %t)\nbefore: %s (sealed %t)",
				e.Data, e.Sealed, e.Erased, sealed[i].Data, sealed[i].Sealed)
		}
	}
	// while every reader reads them erased
	for _, e := range wholeFeed(t, s, false) {
		if e.Erased && bytes.Contains(e.Data, []byte(`"shipping_address":{`)) {
			t.Errorf("read erased with an address: %s", e.Data)
		}
	}
}

// wholeFeed reads the whole feed, sealed or not.
//
// A read may stop short of the last events for a moment, while a
// transaction of another database on the server holds the feed's
// watermark back; so it reads until it has every event stored.
func wholeFeed(t *testing.T, s *eventstore.Store, sealed bool) []app.RecordedEvent {
	t.Helper()
	var stored int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		events, err := s.ReadFeed(t.Context(), app.FeedQuery{Limit: app.MaxFeedPage, Sealed: sealed})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == stored || time.Now().After(deadline) {
			return events
		}
	}
}

// members is a JSON object's members, each value as JSON.
func members(t *testing.T, obj []byte) map[string]string {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(obj, &raw); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k, v := range maps.All(raw) {
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			t.Fatal(err)
		}
		m[k] = c.String()
	}
	return m
}
