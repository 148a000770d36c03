package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// insertEvents writes events rows directly, as an older or newer release
// would have: the events table allows inserts.
func insertEvents(t *testing.T, url, values string) {
	t.Helper()
	pgtest.Exec(t, url, `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at) VALUES `+values)
}

// oldOrder is an order whose OrderCreated is v1 without a currency.
const oldOrder = "0190d6c9-0000-7000-8000-00000000f001"

const oldOrderCreated = `('0190d6cc-0000-7000-8000-00000000e101', '` + oldOrder + `', 1, 'OrderCreated', 1,
 '{"order_id": "` + oldOrder + `", "customer_id": "0190d6c9-0000-7000-8000-0000000000c1"}', '2024-03-01T09:00:00Z')`

const undecodable = `(gen_random_uuid(), gen_random_uuid(), 1, 'OrderTeleported', 1, '{}', now()),
 (gen_random_uuid(), gen_random_uuid(), 1, 'OrderCreated', 9, '{}', now())`

func TestServeRefusesUndecodableEvents(t *testing.T) {
	// Given a database holding events this build cannot decode
	url := pgtest.NewURL(t)
	insertEvents(t, url, oldOrderCreated+", "+undecodable)

	// When the service starts on it
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, []string{"orderapi", "serve"}, env(devAuth(t, map[string]string{
		"DATABASE_URL":  url,
		"ORDERAPI_ADDR": "127.0.0.1:0",
	})), io.Discard)

	// Then it refuses, naming each type and version
	if err == nil {
		t.Fatal("run served")
	}
	for _, want := range []string{`"OrderTeleported" at schema version 1`, `"OrderCreated" at schema version 9`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), `"OrderCreated" at schema version 1`) {
		t.Errorf("error %q names OrderCreated v1, which this build decodes", err)
	}
}

func TestCheckCommand(t *testing.T) {
	url := pgtest.NewURL(t)
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": url}))

	// Given old events this build decodes, check passes and lists them
	insertEvents(t, url, oldOrderCreated)
	var out strings.Builder
	if err := run(context.Background(), []string{"orderapi", "check"}, vars, &out); err != nil {
		t.Fatalf("check: %v", err)
	}
	if !strings.Contains(out.String(), "decodes every stored") || !strings.Contains(out.String(), "OrderCreated v1") {
		t.Errorf("log = %s", out.String())
	}

	// Given also events it does not, check fails naming them
	insertEvents(t, url, undecodable)
	err := run(context.Background(), []string{"orderapi", "check"}, vars, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"OrderTeleported" at schema version 1`) {
		t.Errorf("check = %v, want an error naming OrderTeleported v1", err)
	}
	// and each such event, by its id
	for _, event := range []string{"(OrderTeleported v1, id ", "(OrderCreated v9, id "} {
		if err == nil || !strings.Contains(err.Error(), event) {
			t.Errorf("check = %v, want it to name the event %s...)", err, event)
		}
	}
}

// TestServeReadsOldEventsInTheDefaultCurrency starts the service on a
// database holding an OrderCreated v1 without a currency: it serves, and
// shows the event in the current shape with ORDERAPI_DEFAULT_CURRENCY.
func TestServeReadsOldEventsInTheDefaultCurrency(t *testing.T) {
	url := pgtest.NewURL(t)
	insertEvents(t, url, oldOrderCreated)

	ctx, cancel := context.WithCancel(context.Background())
	stdout, logs := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"orderapi", "serve"}, env(devAuth(t, map[string]string{
			"DATABASE_URL":              url,
			"ORDERAPI_ADDR":             "127.0.0.1:0",
			"ORDERAPI_DEFAULT_CURRENCY": "EUR",
		})), logs)
		logs.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after shutdown", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return after the context ended")
		}
	})
	addr := waitForAddr(t, stdout)

	resp, err := authed.Get("http://" + addr + "/v1/orders/" + oldOrder + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Events []struct {
			Type          string `json:"type"`
			SchemaVersion int    `json:"schema_version"`
			Data          struct {
				Currency string `json:"currency"`
			} `json:"data"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events = %d, %v", resp.StatusCode, err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("%d events, want 1", len(page.Events))
	}
	if e := page.Events[0]; e.Type != "OrderCreated" || e.SchemaVersion != 2 || e.Data.Currency != "EUR" {
		t.Errorf("event = %+v, want OrderCreated v2 in EUR", e)
	}
}
