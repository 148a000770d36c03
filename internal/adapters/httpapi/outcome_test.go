package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
)

// The request deadline of these tests: appends are made to outlast it.
const outcomeTimeout = 300 * time.Millisecond

// async sends a JSON request on its own goroutine; the reply arrives on
// the channel.
func (a *testAPI) async(method, path string, body any, headers ...string) <-chan reply {
	data, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(data))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	out := make(chan reply, 1)
	go func() {
		resp, err := a.client.Do(req)
		if err != nil {
			a.t.Errorf("%s %s: %v", method, path, err)
			close(out)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out <- reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}()
	return out
}

// blockedAppend waits until an append waits for a lock in the database of
// url, and returns its session's pid.
func blockedAppend(t *testing.T, url string) uint32 {
	t.Helper()
	conn := pgtest.Connect(t, url)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid uint32
		err := conn.QueryRow(context.Background(), `
SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%WITH appended AS%'`).Scan(&pid)
		if err == nil {
			return pid
		}
		if err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no append blocked within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockRow locks an order's projection row, which its commands write, in a
// transaction it returns.
func lockRow(t *testing.T, url, orderID string) pgx.Tx {
	t.Helper()
	tx, err := pgtest.Connect(t, url).Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "SELECT 1 FROM order_details WHERE order_id = $1 FOR UPDATE", orderID); err != nil {
		t.Fatal(err)
	}
	return tx
}

var cupItem = map[string]any{"product_id": "0193a000-0000-7000-8000-00000000c0f1", "product_name": "Cup", "quantity": 1, "unit_price": "1.00"}

// TestCommitAfterTheDeadlineIsAnsweredAsDone: an append sent before the
// request's deadline and committed after it is answered as what it is,
// done (never 503, which says "retry": a client without an
// Idempotency-Key would do it twice).
func TestCommitAfterTheDeadlineIsAnsweredAsDone(t *testing.T) {
	t.Parallel()
	// Given an order whose projection row another transaction locks
	url := pgtest.NewURL(t)
	a := newAPIOn(t, openPool(t, url), func(c *Config) { c.RequestTimeout = outcomeTimeout })
	o := a.create(uuid.New())
	ctx := context.Background()
	tx := lockRow(t, url, o.ID)

	// When a command's append waits for it past the request's deadline,
	// and then commits
	answer := a.async("POST", "/v1/orders/"+o.ID+"/items", cupItem)
	blockedAppend(t, url)
	time.Sleep(2 * outcomeTimeout)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// Then the answer is the command's success
	r := (<-answer).want(t, http.StatusOK)
	if got := r.order(t); got.Version != 2 || len(got.Items) != 1 {
		t.Errorf("answer: order at version %d with %d items, want 2 and 1", got.Version, len(got.Items))
	}
	if r.Header.Get("ETag") != `"2"` || r.Header.Get("X-Event-Position") == "" {
		t.Errorf("answer headers: %v", r.Header)
	}
	// And the order has its event
	if evs := a.events(o.ID); len(evs) != 2 || evs[1].Type != "OrderItemAdded" {
		t.Errorf("events: %+v", evs)
	}
}

// TestRefusalAfterTheDeadlineIsAnsweredAsRefused: an append sent before
// the deadline and refused after it is answered with the usual error.
func TestRefusalAfterTheDeadlineIsAnsweredAsRefused(t *testing.T) {
	t.Parallel()
	// Given an order, and another transaction appending its version 2
	url := pgtest.NewURL(t)
	a := newAPIOn(t, openPool(t, url), func(c *Config) { c.RequestTimeout = outcomeTimeout })
	o := a.create(uuid.New())
	ctx := context.Background()
	tx, err := pgtest.Connect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at)
SELECT gen_random_uuid(), stream_id, 2, 'OrderCancelled', 1, '{"reason":"by another","cancelled_by":"ops"}', now()
  FROM events WHERE stream_id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}

	// When a command for version 1 waits for it past the deadline, and it
	// commits first
	answer := a.async("POST", "/v1/orders/"+o.ID+"/items", cupItem, "If-Match", `"1"`)
	blockedAppend(t, url)
	time.Sleep(2 * outcomeTimeout)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Then the answer is the precondition that failed, not a 503
	(<-answer).wantProblem(t, http.StatusPreconditionFailed, app.ErrPreconditionFailed.Code)
	// And the command wrote nothing
	if evs := a.events(o.ID); len(evs) != 2 || evs[1].Type != "OrderCancelled" {
		t.Errorf("events: %+v", evs)
	}
}

// TestLostAnswerIsResolved: when the answer to an append is lost with its
// connection after the append committed, the service finds its events
// before it answers, and answers that it is done.
func TestLostAnswerIsResolved(t *testing.T) {
	t.Parallel()
	// Given an order, reached through a network that can fail, whose
	// projection row another transaction locks
	url := pgtest.NewURL(t)
	proxy, proxied := newDBProxy(t, url)
	a := newAPIOn(t, openPool(t, proxied), func(c *Config) { c.RequestTimeout = outcomeTimeout })
	o := a.create(uuid.New())
	ctx := context.Background()
	tx := lockRow(t, url, o.ID)

	// When a command's append waits for it, commits once it is released,
	// and its answer is lost with its connection
	answer := a.async("POST", "/v1/orders/"+o.ID+"/items", cupItem)
	pid := blockedAppend(t, url)
	cut := proxy.loseAnswers()
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, url, pid)
	cut()

	// Then the answer is the command's success, and the order has its event
	r := (<-answer).want(t, http.StatusOK)
	if got := r.order(t); got.Version != 2 {
		t.Errorf("answer: order at version %d, want 2", got.Version)
	}
	if evs := a.events(o.ID); len(evs) != 2 {
		t.Errorf("events: %+v", evs)
	}
}

// waitIdle waits until session pid has finished its statement.
func waitIdle(t *testing.T, url string, pid uint32) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var state string
		if err := conn.QueryRow(context.Background(), "SELECT state FROM pg_stat_activity WHERE pid = $1", pid).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "idle" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %d still %s after 10s", pid, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLostSessionIsResolved: when the session running an append is lost
// mid-statement, the service finds out whether it committed before it
// answers: here it did not, so the answer is 503 and nothing is written.
func TestLostSessionIsResolved(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	a := newAPIOn(t, openPool(t, url), func(c *Config) { c.RequestTimeout = outcomeTimeout })
	o := a.create(uuid.New())
	lockRow(t, url, o.ID)

	// When the session of a blocked append is ended
	answer := a.async("POST", "/v1/orders/"+o.ID+"/items", cupItem)
	pid := blockedAppend(t, url)
	pgtest.Exec(t, url, "SELECT pg_terminate_backend($1)", pid)

	// Then the answer says not done, and nothing was
	(<-answer).wantProblem(t, http.StatusServiceUnavailable, problem.CodeUnavailable)
	if evs := a.events(o.ID); len(evs) != 1 {
		t.Errorf("events: %+v", evs)
	}
}

// TestUnknownOutcomeIsSaid: when the database goes away while an append
// runs, and cannot be asked afterwards, the answer says the outcome is
// unknown (a 500 of its own, without Retry-After), and what to do.
func TestUnknownOutcomeIsSaid(t *testing.T) {
	t.Parallel()
	// Given an order on a cluster of the test's own, its row locked
	pg := pgtest.NewCluster(t)
	url := pg.NewDatabase(t, "orderapi")
	a := newAPIOn(t, openPool(t, url), func(c *Config) { c.RequestTimeout = outcomeTimeout })
	o := a.create(uuid.New())
	lockRow(t, url, o.ID)

	// When the server stops while a command's append waits
	answer := a.async("POST", "/v1/orders/"+o.ID+"/items", cupItem)
	blockedAppend(t, url)
	if err := pg.Stop("immediate"); err != nil {
		t.Fatal(err)
	}

	// Then the answer is outcome_unknown, telling how to find out
	r := <-answer
	p := r.wantProblem(t, http.StatusInternalServerError, app.ErrOutcomeUnknown.Code)
	if r.Header.Get("Retry-After") != "" {
		t.Errorf("outcome_unknown with Retry-After %q", r.Header.Get("Retry-After"))
	}
	if !strings.Contains(p.Detail, "Idempotency-Key") || !strings.Contains(p.Detail, "read the order") {
		t.Errorf("detail %q does not say how to find out", p.Detail)
	}
}
