package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestRebuildWaitsForALongReaderWithoutStoppingTheService: a rebuild whose
// swap finds a long reader on the live table (a report, pg_dump) does not
// stop the service while it waits: order reads and commands keep
// answering quickly; and the rebuild completes once the reader is done.
func TestRebuildWaitsForALongReaderWithoutStoppingTheService(t *testing.T) {
	t.Parallel()
	// Given a serving service with orders
	url := pgtest.NewURL(t)
	addr, _ := startServerWith(t, url, manyRequestsEnv, io.Discard)
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second, Transport: bearer{}}
	for range 5 {
		newOrder(t, client, base)
	}
	id := uuid.NewString()
	if a := call(t, "POST", base+"/v1/orders", `{"id":"`+id+`","customer_id":"0193a000-0000-7000-8000-0000000000c1"}`); a.status != http.StatusCreated {
		t.Fatalf("create = %d %s", a.status, a.code)
	}

	// And a long reader holding order_details
	ctx := context.Background()
	reader := pgtest.Connect(t, url)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM order_details"); err != nil {
		t.Fatal(err)
	}

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
	pid := reader.PgConn().PID()
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
