package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

const (
	farFutureOrder = "0190d6c9-0000-7000-8000-00000000f0a1"
	// farFutureAt is the instant the client sent, as it was sent: the
	// answer shows it so, the one RFC 3339 text with a four-digit year.
	farFutureAt = "9999-12-31T23:59:59-23:59"
)

// TestAStoreHoldingAFarFutureDeliveryRecovers starts this build on a
// database where an older one accepted a delivery in year 10000 (UTC)
// that it could not read back: every surface that failed on that event
// answers again, by upgrading alone — no stored row is changed.
func TestAStoreHoldingAFarFutureDeliveryRecovers(t *testing.T) {
	t.Parallel()
	// Given the database as the older build left it
	url := pgtest.NewURL(t)
	fixture, err := os.ReadFile("testdata/far_future_delivery.sql")
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, url, string(fixture))
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"}))

	// Then check finds every event readable
	if err := run(context.Background(), []string{"orderapi", "check"}, vars, io.Discard); err != nil {
		t.Fatalf("check: %v", err)
	}
	// And the read models agree with the events
	if out, err := projectionsCmd(t, url, "verify"); err != nil {
		t.Fatalf("projections verify: %v\n%s", err, out)
	}

	// When the service serves it
	addr, _ := startServer(t, url)
	base := "http://" + addr + "/v1/"

	// Then the order, its history, its past and the feed all answer
	doc := getJSON[struct {
		Status      string `json:"status"`
		DeliveredAt string `json:"delivered_at"`
	}](t, base+"orders/"+farFutureOrder, http.StatusOK)
	if doc.Status != "delivered" || doc.DeliveredAt != "9999-12-31T23:59:59.000000-23:59" {
		t.Errorf("order = %+v", doc)
	}
	atVersion := getJSON[struct {
		DeliveredAt string `json:"delivered_at"`
	}](t, base+"orders/"+farFutureOrder+"?version=5", http.StatusOK)
	if atVersion.DeliveredAt != doc.DeliveredAt {
		t.Errorf("?version=5 delivered_at = %s, want %s", atVersion.DeliveredAt, doc.DeliveredAt)
	}
	type eventJSON struct {
		Type string `json:"type"`
		Data struct {
			DeliveredAt string `json:"delivered_at"`
		} `json:"data"`
	}
	history := getJSON[struct{ Events []eventJSON }](t, base+"orders/"+farFutureOrder+"/events", http.StatusOK)
	if n := len(history.Events); n != 5 || history.Events[4].Data.DeliveredAt != farFutureAt {
		t.Errorf("history = %+v", history.Events)
	}
	feed := getJSON[struct{ Events []eventJSON }](t, base+"events", http.StatusOK)
	if n := len(feed.Events); n != 5 || feed.Events[4].Data.DeliveredAt != farFutureAt {
		t.Errorf("feed = %+v", feed.Events)
	}
	if got := liveFeedTypes(t, base+"events", 5); got[4] != "OrderDelivered" {
		t.Errorf("live feed = %v", got)
	}

	// And the client's retry of that request replays its answer
	req, _ := http.NewRequest(http.MethodPost, base+"orders/"+farFutureOrder+"/deliver",
		strings.NewReader(`{"delivered_at": "9999-12-31T23:59:59-23:59"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "far-future-delivery")
	resp, err := authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var replayed struct {
		DeliveredAt string `json:"delivered_at"`
	}
	err = json.NewDecoder(resp.Body).Decode(&replayed)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Idempotent-Replayed") != "true" || replayed.DeliveredAt != doc.DeliveredAt {
		t.Errorf("replay = %d %q, %+v, %v", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), replayed, err)
	}

	// And the analytics consumer counts the delivery and moves on
	waitAnalyticsAtHead(t, url)
	daily := getJSON[struct {
		Days []struct {
			OrdersDelivered int `json:"orders_delivered"`
		} `json:"days"`
	}](t, base+"analytics/daily?from=2026-12-04&to=2026-12-04", http.StatusOK)
	if len(daily.Days) != 1 || daily.Days[0].OrdersDelivered != 1 {
		t.Errorf("analytics = %+v", daily)
	}

	// And the same request now is refused: nothing like it is stored again
	req, _ = http.NewRequest(http.MethodPost, base+"orders/"+farFutureOrder+"/deliver",
		strings.NewReader(`{"delivered_at": "9999-12-31T23:59:59-23:59"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a new far-future delivery = %d, want 422", resp.StatusCode)
	}
}

// getJSON GETs url, expects the status, and decodes the body.
func getJSON[T any](t *testing.T, url string, status int) T {
	t.Helper()
	var v T
	resp, err := authed.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s = %d, want %d: %s", url, resp.StatusCode, status, body)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
	return v
}

// liveFeedTypes opens the feed as server-sent events and returns the
// types of its first n events.
func liveFeedTypes(t *testing.T, url string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("live feed = %d", resp.StatusCode)
	}
	var types []string
	sc := bufio.NewScanner(resp.Body)
	for len(types) < n && sc.Scan() {
		if typ, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			types = append(types, typ)
		}
	}
	if len(types) < n {
		t.Fatalf("live feed gave %v before it ended: %v", types, sc.Err())
	}
	return types
}
