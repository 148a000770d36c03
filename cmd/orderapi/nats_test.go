package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
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

	// Then its event is on the stream, on its subject, as a CloudEvent
	_, js := natstest.JetStream(t, url)
	ctx := context.Background()
	var msg *jetstream.RawStreamMsg
	for deadline := time.Now().Add(30 * time.Second); msg == nil; time.Sleep(50 * time.Millisecond) {
		if s, err := js.Stream(ctx, names.Stream); err == nil {
			msg, _ = s.GetMsg(ctx, 1)
		}
		if msg == nil && time.Now().After(deadline) {
			t.Fatal("no message on the stream")
		}
	}
	var ce map[string]any
	if err := json.Unmarshal(msg.Data, &ce); err != nil {
		t.Fatal(err)
	}
	if msg.Subject != names.Prefix+".OrderCreated."+created.ID || ce["subject"] != created.ID || ce["source"] != "/orderapi-test" ||
		ce["type"] != "dev.orderapi.order.created.v2" || ce["id"] != msg.Header.Get("Nats-Msg-Id") {
		t.Errorf("message on %s: %s %v", msg.Subject, msg.Data, msg.Header)
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
