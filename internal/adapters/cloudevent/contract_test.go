package cloudevent_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/api/asyncapitest"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// goldenEvent is an event of the codec's golden histories: every event
// type in every schema version any release has stored.
type goldenEvent struct {
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Data          json.RawMessage `json:"data"`
}

// recordedGolden returns the golden events as the store gives them to
// readers: decoded and written again in their type's current shape.
func recordedGolden(t *testing.T) []app.RecordedEvent {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "postgres", "codec", "testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden histories: %v", err)
	}
	c := codec.New(codec.Config{DefaultCurrency: "CHF"})
	var all []app.RecordedEvent
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var h struct{ Events []goldenEvent }
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, g := range h.Events {
			ev, err := c.Decode(g.Type, g.SchemaVersion, g.Data)
			if err != nil {
				t.Fatalf("%s event %d: %v", f, i+1, err)
			}
			v, data, err := c.Encode(ev)
			if err != nil {
				t.Fatalf("%s event %d: %v", f, i+1, err)
			}
			var ids struct {
				OrderID uuid.UUID `json:"order_id"`
			}
			if err := json.Unmarshal(data, &ids); err != nil {
				t.Fatal(err)
			}
			e := app.RecordedEvent{
				EventID: uuid.New(), OrderID: ids.OrderID, Version: i + 1, Position: int64(len(all) + 1),
				TransactionID: uint64(1000 + len(all)), Type: ev.EventType(), SchemaVersion: v, Data: data,
				OccurredAt: g.OccurredAt, RecordedAt: g.OccurredAt,
			}
			// Every other event carries every optional attribute.
			if len(all)%2 == 0 {
				e.Metadata = app.Metadata{RequestID: "req", CorrelationID: "corr", CausationID: uuid.NewString(),
					Principal: app.Principal{Subject: "staff-1"},
					TraceID:   "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"}
			}
			all = append(all, e)
		}
	}
	return append(all, recordedCustomerGolden(t, c, len(all))...)
}

// recordedCustomerGolden returns the codec's golden customer events as
// the store gives them to readers, in their customers' streams, after n
// events of the feed.
func recordedCustomerGolden(t *testing.T, c *codec.Codec, n int) []app.RecordedEvent {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "postgres", "codec", "testdata", "golden-customer", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden customer events: %v", err)
	}
	var all []app.RecordedEvent
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g goldenEvent
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ev, err := c.DecodeCustomer(g.Type, g.SchemaVersion, g.Data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v, data, err := c.EncodeCustomer(ev)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		all = append(all, app.RecordedEvent{
			EventID: uuid.New(), OrderID: customer.StreamID(ev.(customer.PersonalDataErased).CustomerID), Version: 1,
			Position: int64(n + len(all) + 1), TransactionID: uint64(1000 + n + len(all)), Type: ev.EventType(), SchemaVersion: v,
			Data: data, OccurredAt: at, RecordedAt: at,
			Metadata: app.Metadata{RequestID: "req", CorrelationID: "corr", CausationID: "req", Principal: app.Principal{Subject: "staff-1"}},
		})
	}
	return all
}

// TestMessagesAreTheDocuments keeps api/asyncapi.yaml equal to what
// Encode writes: every stored shape of every event type, as published,
// is a message the document describes, under the type Encode names.
func TestMessagesAreTheDocuments(t *testing.T) {
	t.Parallel()
	// Given the golden events as readers get them
	events := recordedGolden(t)
	seen := map[string]bool{}
	for _, e := range events {
		// When each is encoded as a CloudEvent
		body, err := cloudevent.Encode(e, "/orderapi")
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		// Then body and headers are a message of its type in the document
		asyncapitest.Validate(t, e.Type, body)
		headers := map[string]string{"Nats-Msg-Id": e.EventID.String(), "Content-Type": cloudevent.ContentType}
		if tp := cloudevent.TraceParent(e.Metadata); tp != "" {
			headers["traceparent"] = tp
		}
		asyncapitest.ValidateHeaders(t, e.Type, headers)
		var got struct{ Data json.RawMessage }
		if err := json.Unmarshal(body, &got); err != nil || !bytes.Equal(got.Data, e.Data) {
			t.Errorf("%s data %s, want %s (%v)", e.Type, got.Data, e.Data, err)
		}
		seen[e.Type] = true
	}
	// And every event type has its message, and every message an event type
	d, err := asyncapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]int{}
	for _, s := range codec.New(codec.Config{}).Schemas() {
		current[s.EventType] = max(current[s.EventType], s.Version)
	}
	var types []string
	for eventType, v := range current {
		types = append(types, eventType)
		want, err := cloudevent.Type(eventType, v)
		if err != nil {
			t.Errorf("%s: %v", eventType, err)
		}
		if got, ok := d.CloudEventType(eventType); !ok || got != want {
			t.Errorf("the document's %s message has type %q, want %q", eventType, got, want)
		}
		if !seen[eventType] {
			t.Errorf("no golden event of %s was checked", eventType)
		}
	}
	slices.Sort(types)
	if got := d.EventTypes(); !slices.Equal(got, types) {
		t.Errorf("the document has messages %v, the codec event types %v", got, types)
	}
}

// TestFarInstantsAreMessagesOfTheDocument: an event stored before times
// were bounded goes out with the offset the events API shows it in,
// still a date-time of the contract.
func TestFarInstantsAreMessagesOfTheDocument(t *testing.T) {
	t.Parallel()
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 10, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 20, 0, 0, 0, time.UTC),
	} {
		// Given a golden event that occurred at such an instant
		e := recordedGolden(t)[0]
		e.OccurredAt = at
		// When it is encoded
		body, err := cloudevent.Encode(e, "/orderapi")
		if err != nil {
			t.Fatal(err)
		}
		// Then it is a message of the document
		asyncapitest.Validate(t, e.Type, body)
	}
}

// TestPersonalDataInEveryFormIsAMessageOfTheDocument: an event with
// personal data goes out in clear, or read after its customer's erasure
// (its personal members null, `orderapierased: true`), or sealed
// (sealed text, `orderapipersonaldata: sealed`), or sealed and erased:
// each a message the document describes, with the attributes that say
// which, and no other.
func TestPersonalDataInEveryFormIsAMessageOfTheDocument(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{DefaultCurrency: "CHF"})
	erasable := 0
	for _, e := range recordedGolden(t) {
		fields := codec.PersonalFields(e.Type, e.SchemaVersion)
		if len(fields) == 0 {
			continue
		}
		erasable++
		// Given a golden event with personal data, in each form
		ev, err := c.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		erased := e
		if _, erased.Data, err = c.Encode(order.WithPersonalDataErased(ev)); err != nil {
			t.Fatal(err)
		}
		erased.Erased = true
		sealed := e
		sealed.Sealed = true
		if sealed.Data, err = personaldata.ReplaceMembers(e.Data, fields, func(string, jsontext.Value) (jsontext.Value, error) {
			return jsontext.Value(`"` + uuid.NewString() + `.c2VhbGVkIGJ5IGEgZGF0YSBrZXk"`), nil
		}); err != nil {
			t.Fatal(err)
		}
		sealedErased := sealed
		sealedErased.Erased = true
		for _, x := range []app.RecordedEvent{e, erased, sealed, sealedErased} {
			// When it is encoded
			body, err := cloudevent.Encode(x, "/orderapi")
			if err != nil {
				t.Fatalf("%s: %v", e.Type, err)
			}
			// Then it is a message of its type in the document, saying
			// its form, and Read reads it back
			asyncapitest.Validate(t, e.Type, body)
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if v, ok := got["orderapierased"]; ok != x.Erased || (ok && v != true) {
				t.Errorf("%s (erased %t): orderapierased = %v, %t", e.Type, x.Erased, v, ok)
			}
			if v, ok := got["orderapipersonaldata"]; ok != x.Sealed || (ok && v != "sealed") {
				t.Errorf("%s (sealed %t): orderapipersonaldata = %v, %t", e.Type, x.Sealed, v, ok)
			}
			p, err := cloudevent.Read(body)
			if err != nil || p.Erased != x.Erased || p.Sealed != x.Sealed || !bytes.Equal(p.Data, x.Data) {
				t.Errorf("%s: Read = %+v, %v; want %s, erased %t, sealed %t", e.Type, p, err, x.Data, x.Erased, x.Sealed)
			}
		}
	}
	if erasable == 0 {
		t.Fatal("no golden event with personal data")
	}
}
