package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

const (
	brokenOrder = "0190d6c9-0000-7000-8000-00000000f0b1"
	brokenEvent = "01a242c5-0000-7000-8000-00000000e0b5"
)

// brokenStream is an order whose last event holds a value no build of
// orderapi can decode: a known type and schema version, so the start-up
// check lets it through, but a delivery time that is no time at all.
const brokenStream = `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at) VALUES
('01a242c5-0000-7000-8000-00000000e0b1', '` + brokenOrder + `', 1, 'OrderCreated', 2,
 '{"currency": "USD", "order_id": "` + brokenOrder + `", "customer_id": "0190d6c9-0000-7000-8000-0000000000c8"}', '2026-12-04T10:00:00Z'),
('01a242c5-0000-7000-8000-00000000e0b2', '` + brokenOrder + `', 2, 'OrderItemAdded', 1,
 '{"order_id": "` + brokenOrder + `", "quantity": 1, "product_id": "0190d6c9-0000-7000-8000-0000000000a1", "unit_price": "5.00", "product_name": "Cup"}', '2026-12-04T10:01:00Z'),
('01a242c5-0000-7000-8000-00000000e0b3', '` + brokenOrder + `', 3, 'OrderPlaced', 1,
 '{"order_id": "` + brokenOrder + `", "total_amount": "5.00", "shipping_address": {"city": "London", "name": "A", "line1": "1 Road", "country": "GB", "postal_code": "N1"}}', '2026-12-04T10:02:00Z'),
('01a242c5-0000-7000-8000-00000000e0b4', '` + brokenOrder + `', 4, 'OrderShipped', 1,
 '{"carrier": "UPS", "order_id": "` + brokenOrder + `", "tracking_number": "1Z"}', '2026-12-04T10:03:00Z'),
('` + brokenEvent + `', '` + brokenOrder + `', 5, 'OrderDelivered', 1,
 '{"order_id": "` + brokenOrder + `", "delivered_at": "the day after tomorrow"}', '2026-12-04T10:04:00Z')`

// TestAnUnreadableEventStopsOnlyWhatNeedsIt: an event this build cannot
// decode stops the readers that need its content, loudly and naming it;
// every reader that does not goes on.
func TestAnUnreadableEventStopsOnlyWhatNeedsIt(t *testing.T) {
	t.Parallel()
	// Given a store holding an unreadable event, and a service on it
	url := pgtest.NewURL(t)
	execSQL(t, url, brokenStream)
	addr, _ := startServer(t, url)
	base := "http://" + addr

	// When other orders are written after it
	other := newOrderID(t, base)

	// Then the feed goes on past it, marking it
	type feedEvent struct {
		EventID    string `json:"event_id"`
		OrderID    string `json:"order_id"`
		Unreadable bool   `json:"unreadable"`
	}
	feed := getJSON[struct{ Events []feedEvent }](t, base+"/v1/events", http.StatusOK)
	if n := len(feed.Events); n != 6 || !feed.Events[4].Unreadable || feed.Events[4].EventID != brokenEvent ||
		feed.Events[5].OrderID != other || feed.Events[5].Unreadable {
		t.Errorf("feed = %+v", feed.Events)
	}
	if got := liveFeedTypes(t, base+"/v1/events", 6); got[5] != "OrderCreated" {
		t.Errorf("live feed = %v", got)
	}
	// And so does the order's own history
	history := getJSON[struct{ Events []feedEvent }](t, base+"/v1/orders/"+brokenOrder+"/events", http.StatusOK)
	if len(history.Events) != 5 || !history.Events[4].Unreadable {
		t.Errorf("history = %+v", history.Events)
	}
	// And other orders are served
	getJSON[struct{}](t, base+"/v1/orders/"+other, http.StatusOK)

	// But its state, which needs the event's content, is a 500 naming it
	problem := getJSON[struct{ Code, Detail string }](t, base+"/v1/orders/"+brokenOrder+"?version=5", http.StatusInternalServerError)
	if problem.Code != "event_unreadable" || !strings.Contains(problem.Detail, brokenEvent) && !strings.Contains(problem.Detail, "event 5") {
		t.Errorf("?version=5 = %+v", problem)
	}

	// And analytics stops before it, and says so everywhere
	type projections struct {
		Projections []struct {
			Name    string
			Stalled *struct {
				EventID  string `json:"event_id"`
				Position int64
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := getJSON[projections](t, base+"/v1/projections", http.StatusOK)
		if st := p.Projections[2].Stalled; st != nil {
			if p.Projections[2].Name != "analytics" || st.EventID != brokenEvent || st.Position != 5 {
				t.Fatalf("projections = %+v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics never reported its stall: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ready := getJSON[struct {
		Status  string
		Details []struct{ Code, Detail string }
	}](t, base+"/readyz", http.StatusOK)
	if ready.Status != "ok" || len(ready.Details) != 2 || ready.Details[0].Code != "projection_stalled" ||
		!strings.Contains(ready.Details[0].Detail, brokenEvent) || ready.Details[1].Code != "events_unreadable" {
		t.Errorf("readyz = %+v", ready)
	}
	metrics := getText(t, base+"/metrics")
	for _, want := range []string{`orderapi_projection_stalled{projection="analytics"} 1`, "orderapi_events_unreadable_total "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, "orderapi_events_unreadable_total 0\n") {
		t.Error("metrics count no unreadable event")
	}

	// And orderapi check names the event
	err := run(context.Background(), []string{"orderapi", "check"}, env(withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"})), io.Discard)
	if err == nil || !strings.Contains(err.Error(), brokenEvent) {
		t.Errorf("check = %v, want an error naming %s", err, brokenEvent)
	}
}

// newOrderID creates an order and returns its id.
func newOrderID(t *testing.T, base string) string {
	t.Helper()
	resp, err := authed.Post(base+"/v1/orders", "application/json",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, "/v1/orders/") {
		t.Fatalf("create = %d, Location %q", resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, "/v1/orders/")
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := authed.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v", url, resp.StatusCode, err)
	}
	return string(body)
}

// TestEventsOutOfBoundsAreRefusedOrReadAsUnreadable: the events table
// refuses, from any writer, an envelope time the service could not have
// written or metadata that is no object; a row stored before it did is
// read as unreadable, never failing the feed.
func TestEventsOutOfBoundsAreRefusedOrReadAsUnreadable(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	insert := func(id, occurredAt, metadata string) string {
		return `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at) VALUES
('` + id + `', gen_random_uuid(), 1, 'OrderCreated', 2,
 '{"currency": "USD", "order_id": "0190d6c9-0000-7000-8000-00000000f0c1", "customer_id": "0190d6c9-0000-7000-8000-0000000000c9"}', '` + metadata + `', '` + occurredAt + `')`
	}
	// Given writers that try to store what no reader could show
	for _, bad := range []string{
		insert(uuidOf(1), "infinity", "{}"),
		insert(uuidOf(2), "0044-03-15 12:00:00+00 BC", "{}"),
		insert(uuidOf(3), "200000-01-01 00:00:00+00", "{}"),
		insert(uuidOf(4), "2026-12-04 10:00:00+00", `["meta"]`),
	} {
		// Then the table refuses each
		if err := tryExec(url, bad); err == nil || !strings.Contains(err.Error(), "23514") {
			t.Errorf("%s: %v, want a check violation", bad, err)
		}
	}

	// Given such a row stored before the table refused it
	execSQL(t, url, `ALTER TABLE events DROP CONSTRAINT events_times_check;`+
		insert(uuidOf(5), "infinity", "{}")+`;`+
		`ALTER TABLE events ADD CONSTRAINT events_times_check CHECK (
        occurred_at >= '1970-01-01 00:00:00+00' AND occurred_at < '9999-01-01 00:00:00+00' AND
        recorded_at >= '1970-01-01 00:00:00+00' AND recorded_at < '9999-01-01 00:00:00+00') NOT VALID`)
	addr, _ := startServer(t, url)
	base := "http://" + addr
	other := newOrderID(t, base)

	// Then the feed serves it, marked, and goes on past it
	feed := getJSON[struct {
		Events []struct {
			EventID    string `json:"event_id"`
			OrderID    string `json:"order_id"`
			OccurredAt string `json:"occurred_at"`
			Unreadable bool   `json:"unreadable"`
		}
	}](t, base+"/v1/events", http.StatusOK)
	if n := len(feed.Events); n != 2 || feed.Events[0].EventID != uuidOf(5) || !feed.Events[0].Unreadable ||
		feed.Events[0].OccurredAt != "9998-12-31T23:59:59.999999Z" || feed.Events[1].OrderID != other {
		t.Errorf("feed = %+v", feed.Events)
	}
	// And check names it
	err := run(context.Background(), []string{"orderapi", "check"}, env(withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"})), io.Discard)
	if err == nil || !strings.Contains(err.Error(), uuidOf(5)) || !strings.Contains(err.Error(), "occurred_at or recorded_at") {
		t.Errorf("check = %v, want an error naming %s", err, uuidOf(5))
	}
}

func uuidOf(n int) string { return fmt.Sprintf("01a242c5-0000-7000-8000-%012d", n) }

// tryExec runs sql on a connection of its own and returns its error.
func tryExec(url, sql string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
