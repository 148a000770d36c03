package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestServeReadsFromAHotStandby: the built binary, given a standby in
// ORDERAPI_READ_DATABASE_URL, answers reads from it, and says so; a read
// with a command's X-Event-Position as min_position is never older than
// that command, even while the standby's replay is paused; a position
// no event has is refused; and reads go on from the primary
// while the standby is down, and return to it once it is back.
func TestServeReadsFromAHotStandby(t *testing.T) {
	t.Parallel()
	// Given the service on a primary with a standby, which is in rotation
	primary, standby := pgtest.NewReplicated(t, "orderapi")
	bin := buildBinary(t)
	base := startReplica(t, bin, primary.URL("orderapi"),
		"ORDERAPI_READ_DATABASE_URL="+standby.URL("orderapi"), "ORDERAPI_READ_MAX_LAG=1m").base
	waitMetric(t, base, `orderapi_standby_in_rotation{standby="standby-1"} 1`)

	// And an order the standby has replayed
	created := call(t, "POST", base+"/v1/orders", newOrderBody)
	if created.status != http.StatusCreated {
		t.Fatalf("create = %d %s", created.status, created.code)
	}
	var doc struct{ ID string }
	if err := json.Unmarshal(created.body, &doc); err != nil {
		t.Fatal(err)
	}
	orderURL := base + "/v1/orders/" + doc.ID
	standby.CatchUp(t, primary)
	if a := call(t, "GET", orderURL, ""); a.status != http.StatusOK || a.header.Get("X-Read-Source") != "standby-1" ||
		a.header.Get("X-Read-Lag-Seconds") == "" {
		t.Fatalf("GET the order = %d from %q, lag %q; want 200 from standby-1 with its lag", a.status,
			a.header.Get("X-Read-Source"), a.header.Get("X-Read-Lag-Seconds"))
	}

	// When the standby stops replaying and an item is added
	standby.PauseReplay(t)
	added := call(t, "POST", orderURL+"/items", `{"product_id":"0193a000-0000-7000-8000-0000000000d1","product_name":"Cup","quantity":1,"unit_price":"2.50"}`)
	if added.status != http.StatusOK {
		t.Fatalf("add item = %d %s", added.status, added.code)
	}
	position, err := strconv.ParseInt(added.header.Get("X-Event-Position"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	// Then a read without a position is the standby's older one, and says
	// so
	if a := call(t, "GET", orderURL, ""); a.header.Get("ETag") != `"1"` || a.header.Get("X-Read-Source") != "standby-1" {
		t.Errorf("GET without min_position = version %s from %q, want version 1 from standby-1", a.header.Get("ETag"), a.header.Get("X-Read-Source"))
	}
	// And every read with the item's position has it, from the primary
	at := fmt.Sprintf("min_position=%d", position)
	for _, read := range []struct{ url, has string }{
		{orderURL + "?" + at, `"version":2`},
		{orderURL + "?version=2&" + at, `"version":2`},
		{orderURL + "/events?" + at, `"OrderItemAdded"`},
		{base + "/v1/customers/0193a000-0000-7000-8000-0000000000c1/orders?" + at, `"item_count":1`},
		{base + "/v1/events?" + at, `"OrderItemAdded"`},
	} {
		a := call(t, "GET", read.url, "")
		if a.status != http.StatusOK || !strings.Contains(string(a.body), read.has) || a.header.Get("X-Read-Source") != "primary" {
			t.Errorf("GET %s = %d from %q, want 200 from the primary with %s:\n%s", read.url, a.status, a.header.Get("X-Read-Source"), read.has, a.body)
		}
	}
	// And a position no event has is refused, not answered older: as
	// unknown, for no retry would find it
	if a := call(t, "GET", fmt.Sprintf("%s?min_position=%d", orderURL, position+1000), ""); a.status != http.StatusUnprocessableEntity ||
		a.code != "unknown_position" {
		t.Errorf("GET at a position not written = %d %s; want 422 unknown_position", a.status, a.code)
	}
	// And so is analytics', whose min_position is the same position
	today := time.Now().UTC().Format(time.DateOnly)
	if a := call(t, "GET", fmt.Sprintf("%s/v1/analytics/daily?from=%s&to=%s&min_position=%d", base, today, today, position+1000), ""); a.status != http.StatusUnprocessableEntity ||
		a.code != "unknown_position" {
		t.Errorf("analytics at a position not written = %d %s; want 422 unknown_position", a.status, a.code)
	}

	// When the standby stops, reads go on from the primary, and it is out
	if err := standby.Stop("fast"); err != nil {
		t.Fatal(err)
	}
	if a := call(t, "GET", orderURL, ""); a.status != http.StatusOK {
		t.Errorf("GET with the standby down = %d %s, want 200 from the primary", a.status, a.code)
	}
	waitMetric(t, base, `orderapi_standby_in_rotation{standby="standby-1"} 0`)
	// And /readyz stays ready, and says why the standby is out
	if a := call(t, "GET", base+"/readyz", ""); a.status != http.StatusOK || !strings.Contains(string(a.body), `"code":"standby_out_of_rotation"`) ||
		!strings.Contains(string(a.body), "standby-1 is out of rotation (unreachable: ") {
		t.Errorf("GET /readyz with the standby down = %d, want 200 naming the standby out of rotation, unreachable:\n%s", a.status, a.body)
	}

	// And once it is back, it catches up and answers again
	if err := standby.Start(); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, base, `orderapi_standby_in_rotation{standby="standby-1"} 1`)
	standby.CatchUp(t, primary)
	if a := call(t, "GET", orderURL, ""); a.header.Get("ETag") != `"2"` || a.header.Get("X-Read-Source") != "standby-1" {
		t.Errorf("GET once the standby is back = version %s from %q, want version 2 from standby-1", a.header.Get("ETag"), a.header.Get("X-Read-Source"))
	}
	if a := call(t, "GET", base+"/metrics", ""); !strings.Contains(string(a.body), `orderapi_standby_fallbacks_total{reason="behind",standby="standby-1"}`) ||
		!strings.Contains(string(a.body), `orderapi_reads_total{source="primary"}`) {
		t.Errorf("/metrics lacks the standby's fallbacks or the reads by source:\n%s", a.body)
	}
}

// waitMetric waits until the service's /metrics shows line.
func waitMetric(t *testing.T, base, line string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if a := call(t, "GET", base+"/metrics", ""); strings.Contains(string(a.body), line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s", line)
		}
	}
}
