package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/api/asyncapitest"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestServePublishesToNATS: with ORDERAPI_NATS_URL, serve creates the
// stream and publishes each event as a CloudEvent; the relay's lag shows
// in GET /v1/projections as "nats" and in /metrics.
func TestServePublishesToNATS(t *testing.T) {
	// Given the service running with a NATS server and a stream of its own
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	addr, _ := startServerWith(t, pgtest.NewURL(t), map[string]string{
		"ORDERAPI_NATS_URL": url, "ORDERAPI_NATS_STREAM": names.Stream, "ORDERAPI_NATS_SUBJECT_PREFIX": names.Prefix,
		"ORDERAPI_NATS_SOURCE": "/orderapi-test",
	}, io.Discard)
	base := "http://" + addr

	// When an order is created
	resp, err := authed.Post(base+"/v1/orders", "application/json",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID string `json:"id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d", resp.StatusCode)
	}

	// and an item is added and the order placed
	for _, c := range []struct{ path, body string }{
		{"/items", `{"product_id":"0193a000-0000-7000-8000-0000000000d1","product_name":"Tea","quantity":2,"unit_price":"3.50"}`},
		{"/place", `{"shipping_address":{"name":"Ada","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`},
	} {
		resp, err := authed.Post(base+"/v1/orders/"+created.ID+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s = %d", c.path, resp.StatusCode)
		}
	}

	// Then each event is on the stream, in order, on its subject, as a
	// CloudEvent that api/asyncapi.yaml describes, with the data and time
	// the events API shows
	var history struct {
		Events []struct {
			EventID    string          `json:"event_id"`
			Type       string          `json:"type"`
			OccurredAt string          `json:"occurred_at"`
			Data       json.RawMessage `json:"data"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(get(t, base+"/v1/orders/"+created.ID+"/events")), &history); err != nil || len(history.Events) != 3 {
		t.Fatalf("history: %v %+v", err, history)
	}
	_, js := natstest.JetStream(t, url)
	ctx := context.Background()
	for i, want := range history.Events {
		var msg *jetstream.RawStreamMsg
		for deadline := time.Now().Add(30 * time.Second); msg == nil; time.Sleep(50 * time.Millisecond) {
			if s, err := js.Stream(ctx, names.Stream); err == nil {
				msg, _ = s.GetMsg(ctx, uint64(i+1))
			}
			if msg == nil && time.Now().After(deadline) {
				t.Fatalf("no message %d on the stream", i+1)
			}
		}
		asyncapitest.Validate(t, want.Type, msg.Data)
		headers := map[string]string{}
		for k := range msg.Header {
			headers[k] = msg.Header.Get(k)
		}
		asyncapitest.ValidateHeaders(t, want.Type, headers)
		var ce struct {
			ID      string          `json:"id"`
			Source  string          `json:"source"`
			Subject string          `json:"subject"`
			Time    string          `json:"time"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(msg.Data, &ce); err != nil {
			t.Fatal(err)
		}
		if msg.Subject != names.Prefix+"."+want.Type+"."+created.ID || ce.Subject != created.ID || ce.Source != "/orderapi-test" ||
			ce.ID != want.EventID || ce.ID != msg.Header.Get("Nats-Msg-Id") || ce.Time != want.OccurredAt {
			t.Errorf("message %d on %s: %s %v; want event %+v", i+1, msg.Subject, msg.Data, msg.Header, want)
		}
		if !bytes.Equal(compact(t, ce.Data), compact(t, want.Data)) {
			t.Errorf("message %d data %s, the events API shows %s", i+1, ce.Data, want.Data)
		}
	}

	// and the projections and the metrics show the relay caught up
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		p := get(t, base+"/v1/projections")
		m := get(t, base+"/metrics")
		if strings.Contains(p, `"name":"nats"`) && strings.Contains(m, `orderapi_projection_lag_events{projection="nats"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no nats projection caught up:\n%s\n%s", p, m)
		}
	}
}

// TestNATSSetup: orderapi nats setup creates the stream, then finds it
// unchanged, then updates its limits.
func TestNATSSetup(t *testing.T) {
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	vars := map[string]string{"ORDERAPI_NATS_URL": url, "ORDERAPI_NATS_STREAM": names.Stream, "ORDERAPI_NATS_SUBJECT_PREFIX": names.Prefix}
	setup := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), []string{"orderapi", "nats", "setup"}, env(vars), &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got := setup(); !strings.HasSuffix(got, ": created\n") {
		t.Errorf("first setup: %q", got)
	}
	if got := setup(); !strings.HasSuffix(got, ": unchanged\n") {
		t.Errorf("second setup: %q", got)
	}
	vars["ORDERAPI_NATS_MAX_AGE"] = "1h"
	if got := setup(); !strings.HasSuffix(got, ": updated\n") {
		t.Errorf("setup with another age: %q", got)
	}
	delete(vars, "ORDERAPI_NATS_URL")
	if err := run(context.Background(), []string{"orderapi", "nats", "setup"}, env(vars), io.Discard); err == nil {
		t.Error("setup without ORDERAPI_NATS_URL passed")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := authed.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// compact is JSON without insignificant space.
func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestNATSResume: a stream deleted under the service stops the relay,
// which every surface reports (GET /v1/projections, /readyz, /metrics);
// `orderapi nats resume --from-start` sends it on, and every event reaches
// the new stream.
func TestNATSResume(t *testing.T) {
	// Given the service publishing to a stream of its own, and an order
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	dbURL := pgtest.NewURL(t)
	vars := withMasterKey(t, map[string]string{"ORDERAPI_NATS_URL": url, "ORDERAPI_NATS_STREAM": names.Stream, "ORDERAPI_NATS_SUBJECT_PREFIX": names.Prefix,
		"ORDERAPI_NATS_DUPLICATE_WINDOW": "1s"})
	addr, _ := startServerWith(t, dbURL, vars, io.Discard)
	base := "http://" + addr
	create := func() {
		t.Helper()
		resp, err := authed.Post(base+"/v1/orders", "application/json", strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create = %d", resp.StatusCode)
		}
	}
	create()
	_, js := natstest.JetStream(t, url)
	ctx := context.Background()
	waitLastSeq := func(n uint64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if s, err := js.Stream(ctx, names.Stream); err == nil {
				if info, err := s.Info(ctx); err == nil && info.State.LastSeq == n {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the stream never held %d messages", n)
			}
		}
	}
	waitLastSeq(1)
	vars["DATABASE_URL"] = dbURL
	resume := func(vars map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"orderapi", "nats", "resume"}, args...), env(vars), &out)
		return out.String(), err
	}
	// and resume refuses to move a relay that is publishing
	if _, err := resume(vars, "--from-start"); err == nil || !strings.Contains(err.Error(), "not stopped") {
		t.Errorf("resume of a running relay: %v, want refused", err)
	}

	// When the stream is deleted, and another order created
	if err := js.DeleteStream(ctx, names.Stream); err != nil {
		t.Fatal(err)
	}
	create()

	// Then the relay reports stream_mismatch, 1 event behind, everywhere
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		p, r, m := get(t, base+"/v1/projections"), get(t, base+"/readyz"), get(t, base+"/metrics")
		if strings.Contains(p, `"code":"stream_mismatch"`) && strings.Contains(r, "stream_mismatch") &&
			strings.Contains(m, `orderapi_projection_stalled{projection="nats"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stop reported:\n%s\n%s", p, r)
		}
	}
	waitLastSeq(0)
	var history struct {
		Events []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(get(t, base+"/v1/events")), &history); err != nil || len(history.Events) != 2 {
		t.Fatalf("feed: %v %+v", err, history)
	}
	first, second := history.Events[0].EventID, history.Events[1].EventID

	// and resume refuses a point past the checkpoint, which would leave
	// the second event out
	if _, err := resume(vars, "--after", second); err == nil || !strings.Contains(err.Error(), "--after "+first) {
		t.Errorf("resume past the checkpoint: %v, want refused naming %s", err, first)
	}

	// and a mistyped stream is not made, even by force
	typo := maps.Clone(vars)
	typo["ORDERAPI_NATS_STREAM"] = names.Stream + "_TYPO"
	if _, err := resume(typo, "--from-start", "--force"); err == nil || !strings.Contains(err.Error(), "no stream") {
		t.Errorf("resume of a mistyped stream: %v, want refused", err)
	}
	if _, err := js.Stream(ctx, typo["ORDERAPI_NATS_STREAM"]); err == nil {
		t.Error("resume made the mistyped stream")
	}

	// and when an operator resumes from the start
	out, err := resume(vars, "--from-start")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "every event") {
		t.Errorf("resume said %q", out)
	}

	// Then both events reach the new stream, and the stop clears
	waitLastSeq(2)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if p := get(t, base+"/v1/projections"); !strings.Contains(p, "stream_mismatch") && strings.Contains(p, `"name":"nats"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stop was never cleared")
		}
	}
	// When someone else replays the first event's message (its id past
	// the duplicate window), and a third order is created, the relay
	// stops again
	s, err := js.Stream(ctx, names.Stream)
	if err != nil {
		t.Fatal(err)
	}
	replay, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	msg := nats.NewMsg(replay.Subject)
	msg.Data, msg.Header = replay.Data, replay.Header
	msg.Header.Del("Nats-Expected-Last-Sequence")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	create()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(get(t, base+"/v1/projections"), `"code":"stream_mismatch"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no stop after a foreign message")
		}
	}
	// Then resume refuses to go on after the replayed event, the stream's
	// last message, naming the last event the relay published, and takes
	// that one
	newest := second
	if _, err := resume(vars, "--after", first); err == nil || !strings.Contains(err.Error(), "--after "+newest) {
		t.Errorf("resume after the replayed event: %v, want refused naming %s", err, newest)
	}
	if _, err := resume(vars, "--after", newest); err != nil {
		t.Fatal(err)
	}
	waitLastSeq(4)

	// and resume refuses what it cannot do
	for _, args := range [][]string{{}, {"--after", "nope"}, {"--after", "0193a000-0000-7000-8000-0000000000ff"}, {"--from-start", "--after", "0193a000-0000-7000-8000-0000000000ff"}} {
		if _, err := resume(vars, append(args, "--force")...); err == nil {
			t.Errorf("nats resume %q passed", args)
		}
	}
}

// TestServePublishesPersonalDataSealed: with
// ORDERAPI_NATS_PERSONAL_DATA=sealed, the messages carry personal data as
// the database keeps it, sealed, saying so, as the contract describes
// them; the order's history shows it in clear until the customer's
// erasure, then null.
func TestServePublishesPersonalDataSealed(t *testing.T) {
	t.Parallel()
	// Given the service publishing personal data sealed, to a stream of
	// its own
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	addr, _ := startServerWith(t, pgtest.NewURL(t), map[string]string{
		"ORDERAPI_NATS_URL": url, "ORDERAPI_NATS_STREAM": names.Stream, "ORDERAPI_NATS_SUBJECT_PREFIX": names.Prefix,
		"ORDERAPI_NATS_PERSONAL_DATA": "sealed",
	}, io.Discard)
	base := "http://" + addr

	// When an order is placed, shipped and delivered, signed for
	newOrder(t, authed, base)

	// Then its messages are the contract's, the address and the signature
	// sealed text, marked so
	_, js := natstest.JetStream(t, url)
	var orderID string
	for seq := uint64(1); seq <= 5; seq++ {
		msg := waitMessage(t, js, names.Stream, seq)
		typ := strings.Split(msg.Subject, ".")[len(strings.Split(names.Prefix, "."))]
		asyncapitest.Validate(t, typ, msg.Data)
		var ce struct {
			Subject      string                     `json:"subject"`
			Data         map[string]json.RawMessage `json:"data"`
			PersonalData string                     `json:"orderapipersonaldata"`
		}
		if err := json.Unmarshal(msg.Data, &ce); err != nil {
			t.Fatal(err)
		}
		orderID = ce.Subject
		personal := map[string]string{"OrderPlaced": "shipping_address", "OrderDelivered": "signature"}[typ]
		var text string
		if personal != "" && (ce.PersonalData != "sealed" || json.Unmarshal(ce.Data[personal], &text) != nil || !personaldata.LooksSealed(text)) {
			t.Errorf("message %d: %s, want its %s sealed", seq, msg.Data, personal)
		}
		if personal == "" && ce.PersonalData != "" {
			t.Errorf("message %d: %s, marked sealed with no personal data", seq, msg.Data)
		}
	}
	// and the order's history shows them in clear
	if h := get(t, base+"/v1/orders/"+orderID+"/events"); !strings.Contains(h, `"line1":"1 Way"`) || !strings.Contains(h, `"signature":"A"`) {
		t.Errorf("history: %s", h)
	}

	// When the customer is erased
	if status := erase(t, base, uuid.MustParse("0193a000-0000-7000-8000-0000000000c1")); status != http.StatusNoContent {
		t.Fatalf("erase = %d", status)
	}

	// Then the erasure is published, and the history shows null
	waitMessage(t, js, names.Stream, 6)
	if h := get(t, base+"/v1/orders/"+orderID+"/events"); strings.Contains(h, `"line1"`) || !strings.Contains(h, `"signature":null`) {
		t.Errorf("history after the erasure: %s", h)
	}
}

// waitMessage waits for the stream's message seq.
func waitMessage(t *testing.T, js jetstream.JetStream, stream string, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if s, err := js.Stream(t.Context(), stream); err == nil {
			if msg, err := s.GetMsg(t.Context(), seq); err == nil {
				return msg
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message %d on the stream", seq)
		}
	}
}
