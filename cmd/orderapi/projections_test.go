package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// projectionsCmd runs `orderapi projections args...` and returns its
// output and result.
func projectionsCmd(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), append([]string{"orderapi", "projections"}, args...),
		env(withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"})), &out)
	return out.String(), err
}

func TestProjectionsVerifyCommand(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	addr, stop := startServer(t, url)
	for range 3 {
		newOrder(t, authed, "http://"+addr)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A consistent store verifies
	out, err := projectionsCmd(t, url, "verify")
	if err != nil || out != "verified 3 orders, 15 events: no differences\n" {
		t.Fatalf("verify = %v, output:\n%s", err, out)
	}

	// A tampered one fails, naming the difference
	execSQL(t, url, `UPDATE order_details SET total = 1 WHERE order_id = (SELECT order_id FROM order_details ORDER BY order_id LIMIT 1)`)
	out, err = projectionsCmd(t, url, "verify")
	if !errors.Is(err, errDifferences) || !strings.Contains(out, ": total 1, want ") {
		t.Fatalf("verify = %v, output:\n%s", err, out)
	}

	// And rebuild repairs it
	if out, err := projectionsCmd(t, url, "rebuild", "order_details"); err != nil || !strings.Contains(out, "rebuilt order_details from 3 orders") {
		t.Fatalf("rebuild = %v, output:\n%s", err, out)
	}
	if out, err := projectionsCmd(t, url, "verify"); err != nil {
		t.Fatalf("verify after rebuild = %v, output:\n%s", err, out)
	}

	// Bad arguments are refused
	for _, args := range [][]string{{}, {"frobnicate"}, {"rebuild", "events"}, {"verify", "all"}} {
		if _, err := projectionsCmd(t, url, args...); err == nil {
			t.Errorf("projections %v accepted", args)
		}
	}
}

func TestProjectionsRefuseAnOldSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	dropSchema(t, url)
	_, err := projectionsCmd(t, url, "verify")
	if err == nil || !strings.Contains(err.Error(), "orderapi migrate") {
		t.Fatalf("verify on an unmigrated database = %v", err)
	}
}

// TestRebuildUnderLoad rebuilds every projection, twice, while writers
// keep sending commands to a running server: no command fails, and the
// projections then verify.
func TestRebuildUnderLoad(t *testing.T) {
	url := pgtest.NewURL(t)
	addr, stop := startServerWith(t, url, manyRequestsEnv, io.Discard)
	base := "http://" + addr
	client := &http.Client{Timeout: 60 * time.Second, Transport: bearer{}}

	const writers = 4
	var (
		commands atomic.Int64
		failures = make(chan error, 100)
		wg       sync.WaitGroup
	)
	done := make(chan struct{})
	for range writers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := orderLife(client, base); err != nil {
					select {
					case failures <- err:
					default:
					}
					return
				}
				commands.Add(5) // and two reads
			}
		})
	}
	// Let the load start before the first rebuild.
	for commands.Load() < 400 {
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 2 {
		out, err := projectionsCmd(t, url, "rebuild", "all")
		if err != nil {
			t.Fatalf("rebuild %d: %v\n%s", i, err, out)
		}
		t.Logf("rebuild %d: %s", i, strings.TrimSpace(out))
	}
	// Keep writing a little after the last swap: writes must reach the
	// new tables.
	after := commands.Load()
	for commands.Load() < after+40 {
		time.Sleep(10 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Errorf("command failed: %v", err)
	}
	t.Logf("%d commands during the rebuilds", commands.Load())

	// The server's consumer recounts analytics; verify compares up to its
	// checkpoint, so it need not wait.
	out, err := projectionsCmd(t, url, "verify")
	if err != nil {
		t.Fatalf("verify after rebuilds under load: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(out))

	// And once the running consumer has counted every event again, the
	// whole analytics projection verifies.
	waitAnalyticsAtHead(t, url)
	if out, err := projectionsCmd(t, url, "verify"); err != nil {
		t.Fatalf("verify after the consumer caught up: %v\n%s", err, out)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// orderLife creates an order, takes it through four more commands and
// reads it back from both read models.
func orderLife(client *http.Client, base string) error {
	id := uuid.NewString()
	steps := []struct{ path, body string }{
		{"/v1/orders", `{"id":"` + id + `","customer_id":"0193a000-0000-7000-8000-0000000000c1"}`},
		{"/v1/orders/" + id + "/items", `{"product_id":"` + uuid.NewString() + `","product_name":"Cup","quantity":2,"unit_price":"4.50"}`},
		{"/v1/orders/" + id + "/place", `{"shipping_address":{"name":"Ada","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`},
		{"/v1/orders/" + id + "/ship", `{"tracking_number":"1Z","carrier":"UPS"}`},
		{"/v1/orders/" + id + "/deliver", `{"signature":"A"}`},
	}
	for _, s := range steps {
		resp, err := client.Post(base+s.path, "application/json", strings.NewReader(s.body))
		if err != nil {
			return fmt.Errorf("POST %s: %w", s.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s = %d: %s", s.path, resp.StatusCode, body)
		}
	}
	// Both read models answer, through the server's prepared statements.
	for _, path := range []string{"/v1/orders/" + id, "/v1/customers/0193a000-0000-7000-8000-0000000000c1/orders?limit=5"} {
		resp, err := client.Get(base + path)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s = %d: %s", path, resp.StatusCode, body)
		}
		if path == "/v1/orders/"+id && !strings.Contains(string(body), `"version":5`) {
			return fmt.Errorf("GET %s: not at version 5: %s", path, body)
		}
	}
	return nil
}

// newOrder takes one order through its life on the server, failing the
// test on any error.
func newOrder(t *testing.T, client *http.Client, base string) {
	t.Helper()
	if err := orderLife(client, base); err != nil {
		t.Fatal(err)
	}
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	pgtest.Exec(t, url, sql)
}

// waitAnalyticsAtHead waits until the analytics checkpoint is at the last
// event in feed order.
func waitAnalyticsAtHead(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var atHead bool
		err := conn.QueryRow(ctx, `
SELECT (c.transaction_id, c.position) = (e.transaction_id, e.position)
  FROM projection_checkpoints c,
       (SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1) e
 WHERE c.name = 'analytics'`).Scan(&atHead)
		if err != nil {
			t.Fatal(err)
		}
		if atHead {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the analytics consumer did not catch up within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
