package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestRebuildWaitsForALongReaderWithoutStoppingTheService: a rebuild whose
// swap finds a long reader on the live table (a report, pg_dump) does not
// stop the service while it waits: order reads and commands keep
// answering quickly; and the rebuild completes once the reader is done.
func TestRebuildWaitsForALongReaderWithoutStoppingTheService(t *testing.T) {
	t.Parallel()
	// Given a serving service with orders
	url, base, client := serveOrders(t, 5)
	id := uuid.NewString()
	if a := call(t, "POST", base+"/v1/orders", `{"id":"`+id+`","customer_id":"0193a000-0000-7000-8000-0000000000c1"}`); a.status != http.StatusCreated {
		t.Fatalf("create = %d %s", a.status, a.code)
	}

	// And a long reader holding order_details
	ctx := context.Background()
	tx := holdOrderDetails(t, url)

	// When order_details is rebuilt meanwhile
	type result struct {
		out string
		err error
	}
	rebuilt := make(chan result, 1)
	go func() {
		out, err := projectionsCmd(t, url, "rebuild", "order_details")
		rebuilt <- result{out, err}
	}()

	// Then reads and commands keep answering quickly while it waits
	var slowest time.Duration
	calls, added := 0, ""
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); calls++ {
		start := time.Now()
		if calls%2 == 0 {
			resp, err := client.Get(base + "/v1/orders/" + id)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("read during the rebuild: %v %v", err, resp)
			}
			resp.Body.Close()
		} else {
			// Commands add an item and remove it again in turn, so that
			// the order never reaches its item limit however many run.
			var req *http.Request
			if added == "" {
				added = uuid.NewString()
				body := fmt.Sprintf(`{"product_id":"%s","product_name":"Cup","quantity":1,"unit_price":"1.00"}`, added)
				req, _ = http.NewRequest("POST", base+"/v1/orders/"+id+"/items", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
			} else {
				req, _ = http.NewRequest("DELETE", base+"/v1/orders/"+id+"/items/"+added, nil)
				added = ""
			}
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				var b []byte
				if resp != nil {
					b, _ = io.ReadAll(resp.Body)
				}
				t.Fatalf("command during the rebuild: %v %v %s", err, resp, b)
			}
			resp.Body.Close()
		}
		slowest = max(slowest, time.Since(start))
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d reads and commands while the rebuild waited, the slowest in %s", calls, slowest)
	if slowest > time.Second {
		t.Errorf("the slowest read or command took %s while the rebuild waited", slowest)
	}
	select {
	case r := <-rebuilt:
		t.Fatalf("the rebuild ended while the reader held the table: %v\n%s", r.err, r.out)
	default:
	}

	// And once the reader is done, the rebuild completes, naming who it
	// waited for, and the projections verify
	pid := tx.Conn().PgConn().PID()
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-rebuilt:
		if r.err != nil || !strings.Contains(r.out, "rebuilt order_details") {
			t.Fatalf("rebuild = %v\n%s", r.err, r.out)
		}
		if !strings.Contains(r.out, fmt.Sprintf("pid %d ", pid)) {
			t.Errorf("the rebuild did not say whom it waited for (pid %d):\n%s", pid, r.out)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the rebuild did not complete within 15s of the reader's end")
	}
	if out, err := projectionsCmd(t, url, "verify"); err != nil {
		t.Fatalf("verify after the rebuild: %v\n%s", err, out)
	}
}

// TestARebuildSwapsInAnErasureMadeWhileItWaited: a customer erased while
// a rebuild of order_details, its rows replayed, waits to swap them in is
// erased in the table swapped in: its rows say so and hold no personal
// data, the API reads the orders erased, and verify finds them clean.
func TestARebuildSwapsInAnErasureMadeWhileItWaited(t *testing.T) {
	t.Parallel()
	// Given a serving service with a customer's orders, placed and
	// delivered with personal data
	url, base, client := serveOrders(t, 2)
	ctx := context.Background()
	db := pgtest.Connect(t, url)
	const c = "0193a000-0000-7000-8000-0000000000c1"
	var orders []string
	rows, err := db.Query(ctx, `SELECT order_id::text FROM customer_orders WHERE customer_id = $1`, c)
	if err != nil {
		t.Fatal(err)
	}
	if orders, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(orders) != 2 {
		t.Fatalf("orders of %s: %v, %v", c, orders, err)
	}
	// And a long reader holding order_details, which keeps a rebuild from
	// swapping its table in
	tx := holdOrderDetails(t, url)
	// And a rebuild of order_details, its rows replayed
	rebuilt := make(chan error, 1)
	go func() {
		out, err := projectionsCmd(t, url, "rebuild", "order_details")
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		rebuilt <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		// Missing until the rebuild makes it: an error, and another look.
		if db.QueryRow(ctx, `SELECT count(*) FROM order_details_next`).Scan(&n) == nil && n == len(orders) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("order_details_next not filled within 30s")
		}
	}

	// When the customer is erased while it waits, and then the reader ends
	if status := erase(t, base, uuid.MustParse(c)); status != http.StatusNoContent {
		t.Fatalf("erasure = %d", status)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-rebuilt:
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the rebuild did not complete within 30s of the reader's end")
	}

	// Then the customer's rows swapped in say they are erased, and hold
	// no personal data
	var erased, personal int
	if err := db.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE erased), count(*) FILTER (WHERE num_nonnulls(shipping_address, signature, cancel_reason) > 0)
  FROM order_details WHERE customer_id = $1`, c).Scan(&erased, &personal); err != nil {
		t.Fatal(err)
	}
	if erased != len(orders) || personal != 0 {
		t.Errorf("%d of %d rows erased, %d with personal data", erased, len(orders), personal)
	}
	// And the API reads the orders erased, delivered as before
	for _, id := range orders {
		var doc struct {
			Status          string
			Erased          bool
			ShippingAddress json.RawMessage `json:"shipping_address"`
			Signature       *string
		}
		if err := json.Unmarshal(send(t, client, "GET", base+"/v1/orders/"+id, "", http.StatusOK), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Status != "delivered" || !doc.Erased || string(doc.ShippingAddress) != "null" || doc.Signature != nil {
			t.Errorf("order %s reads %+v", id, doc)
		}
	}
	// And the read models verify clean
	if out, err := projectionsCmd(t, url, "verify"); err != nil {
		t.Fatalf("verify after the rebuild: %v\n%s", err, out)
	}
}

// serveOrders starts a serving service with n orders of customer
// 0193a000-0000-7000-8000-0000000000c1, each placed and delivered; it
// returns the database's URL, the service's, and a client for it.
func serveOrders(t *testing.T, n int) (url, base string, client *http.Client) {
	t.Helper()
	url = pgtest.NewURL(t)
	addr, _ := startServerWith(t, url, manyRequestsEnv, io.Discard)
	base = "http://" + addr
	client = &http.Client{Timeout: 5 * time.Second, Transport: bearer{}}
	for range n {
		newOrder(t, client, base)
	}
	return url, base, client
}

// holdOrderDetails begins a long reader's transaction (a report, pg_dump)
// that holds order_details until it ends.
func holdOrderDetails(t *testing.T, url string) pgx.Tx {
	t.Helper()
	tx, err := pgtest.Connect(t, url).Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "SELECT count(*) FROM order_details"); err != nil {
		t.Fatal(err)
	}
	return tx
}
