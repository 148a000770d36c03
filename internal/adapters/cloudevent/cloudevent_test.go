package cloudevent_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/app"
)

func placedEvent() app.RecordedEvent {
	return app.RecordedEvent{
		EventID:       uuid.MustParse("0190d6c9-0000-7000-8000-0000000000e1"),
		OrderID:       uuid.MustParse("0190d6c9-0000-7000-8000-000000000001"),
		Version:       3,
		Position:      42,
		TransactionID: 18446744073709551615,
		Type:          "OrderPlaced",
		SchemaVersion: 1,
		Data:          json.RawMessage(`{"order_id": "0190d6c9-0000-7000-8000-000000000001", "total_amount": "19.99"}`),
		OccurredAt:    time.Date(2026, 11, 25, 13, 0, 0, 5000, time.FixedZone("CET", 3600)),
		RecordedAt:    time.Date(2026, 11, 25, 12, 0, 1, 0, time.UTC),
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	// Given a stored event whose request carried every id, by a verified subject
	e := placedEvent()
	e.Metadata = app.Metadata{RequestID: "req-1", CorrelationID: "corr-1", CausationID: "cause-1",
		Principal: app.Principal{Subject: "staff-7"}}
	// When it is encoded
	body, err := cloudevent.Encode(e, "/orderapi")
	// Then it is the CloudEvent of the contract, attribute for attribute
	if err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"0190d6c9-0000-7000-8000-0000000000e1","source":"/orderapi",` +
		`"type":"dev.orderapi.order.placed.v1","subject":"0190d6c9-0000-7000-8000-000000000001",` +
		`"time":"2026-11-25T12:00:00.000005Z","datacontenttype":"application/json",` +
		`"data":{"order_id":"0190d6c9-0000-7000-8000-000000000001","total_amount":"19.99"},` +
		`"orderapiposition":"42","orderapitxid":"18446744073709551615","orderapiversion":3,` +
		`"correlationid":"corr-1","causationid":"cause-1","orderapiactor":"staff-7"}`
	if string(body) != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
}

func TestEncodeLeavesOutWhatTheRequestDidNotCarry(t *testing.T) {
	t.Parallel()
	// Given an event recorded without correlation, causation or a known actor
	e := placedEvent()
	e.Metadata = app.Metadata{RequestID: "req-1"}
	// When it is encoded
	body, err := cloudevent.Encode(e, "https://shop.example.com/orderapi")
	if err != nil {
		t.Fatal(err)
	}
	// Then those attributes are absent, not empty, and the request id stays private
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"correlationid", "causationid", "orderapiactor", "requestid", "traceparent"} {
		if v, ok := got[name]; ok {
			t.Errorf("%s = %v, want absent", name, v)
		}
	}
	if got["source"] != "https://shop.example.com/orderapi" || len(got) != 11 {
		t.Errorf("attributes = %v, want the 11 required ones with the source given", got)
	}
}

func TestEncodeCarriesTheRequestsTrace(t *testing.T) {
	t.Parallel()
	// Given an event whose request was traced
	e := placedEvent()
	e.Metadata = app.Metadata{RequestID: "req-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"}
	// When it is encoded
	body, err := cloudevent.Encode(e, "/orderapi")
	if err != nil {
		t.Fatal(err)
	}
	// Then it carries the distributed tracing extension's traceparent,
	// continuing that trace from the request's span, sampled
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if want := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"; got["traceparent"] != want {
		t.Errorf("traceparent = %v, want %s", got["traceparent"], want)
	}
}

func TestTraceParentNeedsATracesIDs(t *testing.T) {
	t.Parallel()
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, c := range []struct {
		name     string
		meta     app.Metadata
		expected string
	}{
		{"both ids", app.Metadata{TraceID: traceID, SpanID: spanID}, "00-" + traceID + "-" + spanID + "-01"},
		{"none", app.Metadata{}, ""},
		{"no span id", app.Metadata{TraceID: traceID}, ""},
		{"no trace id", app.Metadata{SpanID: spanID}, ""},
		{"upper-case hex", app.Metadata{TraceID: "4BF92F3577B34DA6A3CE929D0E0E4736", SpanID: spanID}, ""},
		{"a short trace id", app.Metadata{TraceID: traceID[:31], SpanID: spanID}, ""},
		{"a long span id", app.Metadata{TraceID: traceID, SpanID: spanID + "0"}, ""},
		{"not hex", app.Metadata{TraceID: "4bf92f3577b34da6a3ce929d0e0e473g", SpanID: spanID}, ""},
		{"an all-zero trace id", app.Metadata{TraceID: "00000000000000000000000000000000", SpanID: spanID}, ""},
		{"an all-zero span id", app.Metadata{TraceID: traceID, SpanID: "0000000000000000"}, ""},
	} {
		// Given stored metadata, when its traceparent is asked for
		got := cloudevent.TraceParent(c.meta)
		// Then it is the W3C header for valid ids, and nothing otherwise
		if got != c.expected {
			t.Errorf("%s: TraceParent = %q, want %q", c.name, got, c.expected)
		}
	}
}

func TestEncodeWritesFarInstantsAsTheEventsAPIDoes(t *testing.T) {
	t.Parallel()
	// Given an event stored before times were bounded, in UTC year 10000
	e := placedEvent()
	e.OccurredAt = time.Date(10000, 1, 1, 10, 0, 0, 0, time.UTC)
	// When it is encoded
	body, err := cloudevent.Encode(e, "/orderapi")
	if err != nil {
		t.Fatal(err)
	}
	// Then its time has a four-digit year in the farthest offset, as GET /v1/events shows it
	var got struct{ Time string }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Time != "9999-12-31T10:01:00.000000-23:59" {
		t.Errorf("time = %s", got.Time)
	}
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change func(*app.RecordedEvent)
		source string
		want   error
	}{
		{"an unreadable event", func(e *app.RecordedEvent) { e.Unreadable = true }, "/orderapi", cloudevent.ErrUnreadable},
		{"an unknown type", func(e *app.RecordedEvent) { e.Type = "OrderLost" }, "/orderapi", cloudevent.ErrUnknownType},
		{"no schema version", func(e *app.RecordedEvent) { e.SchemaVersion = 0 }, "/orderapi", cloudevent.ErrUnknownType},
		{"data that is not JSON", func(e *app.RecordedEvent) { e.Data = json.RawMessage(`{"order_id":`) }, "/orderapi", nil},
		{"an empty source", func(*app.RecordedEvent) {}, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Given the event
			e := placedEvent()
			c.change(&e)
			// When it is encoded
			body, err := cloudevent.Encode(e, c.source)
			// Then nothing is written
			if err == nil || body != nil {
				t.Fatalf("Encode = %s, %v; want an error", body, err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
}

func TestType(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		eventType string
		version   int
		want      string
	}{
		{"OrderCreated", 2, "dev.orderapi.order.created.v2"},
		{"OrderCreated", 1, "dev.orderapi.order.created.v1"},
		{"OrderItemAdded", 1, "dev.orderapi.order.item_added.v1"},
		{"OrderItemRemoved", 1, "dev.orderapi.order.item_removed.v1"},
		{"OrderPlaced", 1, "dev.orderapi.order.placed.v1"},
		{"OrderShipped", 1, "dev.orderapi.order.shipped.v1"},
		{"OrderDelivered", 1, "dev.orderapi.order.delivered.v1"},
		{"OrderCancelled", 2, "dev.orderapi.order.cancelled.v2"},
	} {
		// Given an event type at a schema version, when its CloudEvents type is asked for
		got, err := cloudevent.Type(c.eventType, c.version)
		// Then it is the contract's name
		if err != nil || got != c.want {
			t.Errorf("Type(%s, %d) = %q, %v; want %q", c.eventType, c.version, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "orderCreated", "OrderLost"} {
		if got, err := cloudevent.Type(bad, 1); !errors.Is(err, cloudevent.ErrUnknownType) {
			t.Errorf("Type(%q, 1) = %q, %v; want ErrUnknownType", bad, got, err)
		}
	}
}
