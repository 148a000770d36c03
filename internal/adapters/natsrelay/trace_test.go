package natsrelay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
)

// A traced request's ids, as the HTTP layer puts them in its metadata.
const (
	tracedTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	tracedSpanID  = "00f067aa0ba902b7"
	tracedParent  = "00-" + tracedTraceID + "-" + tracedSpanID + "-01"
)

// tracedOrder stores an order created by a traced request.
func (f *fixture) tracedOrder() {
	f.t.Helper()
	meta := apptest.AsStaff
	meta.TraceID, meta.SpanID = tracedTraceID, tracedSpanID
	if _, err := f.svc.CreateOrder(context.Background(), app.NewOrder{CustomerID: uuid.New()}, meta); err != nil {
		f.t.Fatal(err)
	}
}

// TestATracedRequestsTraceTravelsWithItsMessage: the message of an event
// a traced request recorded carries that trace, in the CloudEvent and in
// a header; an event recorded without tracing carries neither.
func TestATracedRequestsTraceTravelsWithItsMessage(t *testing.T) {
	t.Parallel()
	// Given an event recorded by a traced request, then one without
	f := newFixture(t)
	f.tracedOrder()
	f.orders(1, 0)

	// When the relay publishes them
	f.start(f.config(), f.lock(0))
	msgs := f.stream(2)
	f.sameAsFeed(msgs, f.feed(2))

	// Then the first carries the request's traceparent twice, the second none
	for i, want := range []string{tracedParent, ""} {
		var ce map[string]any
		if err := json.Unmarshal(msgs[i].Data, &ce); err != nil {
			t.Fatal(err)
		}
		got, _ := ce["traceparent"].(string)
		if h := msgs[i].Header.Get("traceparent"); got != want || h != want {
			t.Errorf("message %d: traceparent %q, header %q; want %q", i+1, got, h, want)
		}
	}
}

// TestAnUnrecordedMessageWithoutItsTraceHeaderIsNotTheFeeds: after the
// checkpoint, a message whose body is the next event's but whose headers
// lack its traceparent is not what the relay publishes: it stops there.
func TestAnUnrecordedMessageWithoutItsTraceHeaderIsNotTheFeeds(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and stopped, and a traced event after them
	f := publishedFour(t)
	f.tracedOrder()
	all := f.feed(5)

	// When its body, exactly as the relay writes it, is stored after the
	// 4th without the traceparent header
	f.publishCopy(all[4], func(nats.Header) {})

	// Then the relay started again stops, naming the header
	r, _ := f.start(f.config(), f.lock(0))
	st := f.waitStopped(r, natsrelay.StopStreamMismatch)
	if !strings.Contains(st.Stalled.Reason, "traceparent") {
		t.Errorf("stop %+v, want it to name the traceparent", st.Stalled)
	}
	time.Sleep(300 * time.Millisecond)
	f.streamHolds(5)
}
