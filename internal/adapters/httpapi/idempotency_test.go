package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// try sends a request without failing the test, so that goroutines may
// use it.
func (a *testAPI) try(method, path, body string, headers ...string) (reply, error) {
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: data}, err
}

// count runs a count(*) query.
func (a *testAPI) count(query string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// sameAnswer fails the test unless replay is first again, byte for byte,
// headers included (but for the request id and the date, which are the
// replay's own), and marked as a replay.
func sameAnswer(t *testing.T, first, replay reply) {
	t.Helper()
	if replay.Status != first.Status || !bytes.Equal(replay.Body, first.Body) {
		t.Errorf("replay %d %s\nfirst  %d %s", replay.Status, replay.Body, first.Status, first.Body)
	}
	if first.Header.Get("Idempotent-Replayed") != "" || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, replay %q", first.Header.Get("Idempotent-Replayed"), replay.Header.Get("Idempotent-Replayed"))
	}
	own := func(h http.Header) http.Header {
		h = h.Clone()
		for _, name := range []string{"X-Request-Id", "Date", "Idempotent-Replayed"} {
			h.Del(name)
		}
		return h
	}
	if f, r := own(first.Header), own(replay.Header); !maps.EqualFunc(f, r, func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }) {
		t.Errorf("replay headers %v\nfirst headers  %v", r, f)
	}
}

func TestIdempotentCreateRacesToOneOrder(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	const n = 20
	body := `{"customer_id": "` + uuid.NewString() + `"}`
	key := uuid.NewString()

	// When 20 identical creates with one key arrive at once
	replies := make([]reply, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := a.try("POST", "/v1/orders", body, "Idempotency-Key", key)
			if err != nil {
				t.Error(err)
			}
			replies[i] = r
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Then exactly one order exists
	if orders := a.count(`SELECT count(*) FROM order_details`); orders != 1 {
		t.Fatalf("%d orders exist, want 1", orders)
	}
	// And every answer is that order, as first answered, or 409 in progress
	var first *reply
	for i := range replies {
		if r := replies[i]; r.Status == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "" {
			if first != nil {
				t.Fatalf("two answers were not replays:\n%s\n%s", first.Body, r.Body)
			}
			first = &replies[i]
		}
	}
	if first == nil {
		t.Fatal("no request created the order")
	}
	inProgress := 0
	for _, r := range replies {
		switch {
		case r.Status == http.StatusConflict:
			r.wantProblem(t, http.StatusConflict, "idempotency_key_in_progress")
			inProgress++
		case r.Header.Get("Idempotent-Replayed") != "":
			sameAnswer(t, *first, r)
		}
	}
	t.Logf("1 created, %d replayed, %d in progress", n-1-inProgress, inProgress)
}

func TestIdempotentAddItemReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	path := "/v1/orders/" + o.ID + "/items"
	body := `{"product_id": "` + uuid.NewString() + `", "product_name": "Espresso cup", "quantity": 3, "unit_price": "19.99"}`

	// Given an item added with a key, and the order changed after that
	first := a.do("POST", path, body, "Idempotency-Key", "add-cup-1", "If-Match", `"1"`).want(t, http.StatusOK)
	a.addItem(o.ID, "4.50", 1)
	a.place(o.ID)
	events := a.count(`SELECT count(*) FROM events`)

	// When the request is repeated with its key
	replay := a.do("POST", path, body, "Idempotency-Key", "add-cup-1", "If-Match", `"1"`).want(t, http.StatusOK)

	// Then the answer is the first one, byte for byte, and nothing is
	// written: not a 412 for the stale If-Match, nor a duplicate product
	sameAnswer(t, first, replay)
	if replay.Header.Get("ETag") != `"2"` {
		t.Errorf("ETag = %s, want the first answer's \"2\"", replay.Header.Get("ETag"))
	}
	if after := a.count(`SELECT count(*) FROM events`); after != events {
		t.Errorf("the replay wrote %d events", after-events)
	}
}

func TestIdempotentRemoveItem(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	product := uuid.NewString()
	a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": product, "product_name": "Mug", "quantity": 1, "unit_price": "9.99",
	}).want(t, http.StatusOK)
	path := "/v1/orders/" + o.ID + "/items/" + product

	first := a.do("DELETE", path, nil, "Idempotency-Key", "remove-mug").want(t, http.StatusOK)
	events := a.count(`SELECT count(*) FROM events`)
	// Without the key, a repeat would be 409 item_not_in_order.
	replay := a.do("DELETE", path, nil, "Idempotency-Key", "remove-mug").want(t, http.StatusOK)
	sameAnswer(t, first, replay)
	if after := a.count(`SELECT count(*) FROM events`); after != events {
		t.Errorf("the replay wrote %d events", after-events)
	}
	// The key belongs to this removal: adding with it is another request.
	a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": product, "product_name": "Mug", "quantity": 1, "unit_price": "9.99",
	}, "Idempotency-Key", "remove-mug").wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
}

func TestIdempotencyKeyReusedForAnotherRequest(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	path := "/v1/orders/" + o.ID + "/items"
	body := `{"product_id": "` + uuid.NewString() + `", "product_name": "Mug", "quantity": 1, "unit_price": "9.99"}`
	a.do("POST", path, body, "Idempotency-Key", "k1").want(t, http.StatusOK)
	events := a.count(`SELECT count(*) FROM events`)

	other := a.create(uuid.New())
	tests := []struct {
		name, method, path, body string
		headers                  []string
	}{
		{"another body", "POST", path, strings.Replace(body, `"quantity": 1`, `"quantity": 2`, 1), nil},
		{"the same body spaced otherwise", "POST", path, strings.ReplaceAll(body, ": ", ":"), nil},
		{"another order", "POST", "/v1/orders/" + other.ID + "/items", body, nil},
		{"another If-Match", "POST", path, body, []string{"If-Match", `"1"`}},
		{"another route", "POST", "/v1/orders", `{"customer_id": "` + uuid.NewString() + `"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := a.try(tt.method, tt.path, tt.body, append([]string{"Idempotency-Key", "k1"}, tt.headers...)...)
			if err != nil {
				t.Fatal(err)
			}
			r.wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
		})
	}
	if after := a.count(`SELECT count(*) FROM events`); after != events+1 { // +1: the other order
		t.Errorf("refused requests wrote %d events", after-events-1)
	}
}

// TestRetryInAnotherCaseIsNotAnotherRequest: an id has one spelling, so a
// retry that only changes the case of one is not refused as another
// request: the upper-case spelling never claimed the key.
func TestRetryInAnotherCaseIsNotAnotherRequest(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customer := uuid.NewString()
	o := a.create(uuid.New())
	product := uuid.NewString()
	item := `{"product_id":"%s","product_name":"Mug","quantity":1,"unit_price":"9.99"}`
	tests := []struct {
		name                string
		upperPath, path     string
		upperBody, body     string
		upperStatus, status int
	}{
		{"an id in the body", "/v1/orders", "/v1/orders",
			`{"customer_id":"` + strings.ToUpper(customer) + `"}`, `{"customer_id":"` + customer + `"}`,
			http.StatusUnprocessableEntity, http.StatusCreated},
		{"an id in the path", "/v1/orders/" + strings.ToUpper(o.ID) + "/items", "/v1/orders/" + o.ID + "/items",
			fmt.Sprintf(item, product), fmt.Sprintf(item, product),
			http.StatusBadRequest, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := uuid.NewString()
			// Given a request that spells an id in upper case
			first, err := a.try("POST", tt.upperPath, tt.upperBody, "Idempotency-Key", key)
			if err != nil {
				t.Fatal(err)
			}
			// When it is retried with the id in lower case
			retry, err := a.try("POST", tt.path, tt.body, "Idempotency-Key", key)
			if err != nil {
				t.Fatal(err)
			}
			// Then the first is refused and the retry is executed
			if first.Status != tt.upperStatus || retry.Status != tt.status {
				t.Errorf("upper case %d %s, then lower case %d %s; want %d, then %d",
					first.Status, first.Body, retry.Status, retry.Body, tt.upperStatus, tt.status)
			}
		})
	}
}

func TestFailedRequestLeavesItsKeyFree(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	items := "/v1/orders/" + o.ID + "/items"
	product := uuid.NewString()

	// A 422 claims nothing: the corrected request goes through with the key.
	a.do("POST", items, map[string]any{"product_id": product, "product_name": "Mug", "quantity": 0, "unit_price": "9.99"},
		"Idempotency-Key", "add-1").wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	a.do("POST", items, map[string]any{"product_id": product, "product_name": "Mug", "quantity": 1, "unit_price": "9.99"},
		"Idempotency-Key", "add-1").want(t, http.StatusOK)

	// So does a 409: placing an empty order fails, placing it once it has
	// an item succeeds with the same key. (Here the first add made it
	// non-empty, so use a fresh order.)
	e := a.create(uuid.New())
	place := "/v1/orders/" + e.ID + "/place"
	a.do("POST", place, testAddress, "Idempotency-Key", "place-1").wantProblem(t, http.StatusConflict, "order_empty")
	a.addItem(e.ID, "1.00", 1)
	placed := a.do("POST", place, testAddress, "Idempotency-Key", "place-1").want(t, http.StatusOK)
	if placed.Header.Get("Idempotent-Replayed") != "" || placed.order(t).Status != "placed" {
		t.Errorf("corrected retry: %v %s", placed.Header, placed.Body)
	}

	// And a 412.
	a.do("POST", "/v1/orders/"+e.ID+"/cancel", map[string]any{"reason": "r"},
		"Idempotency-Key", "cancel-1", "If-Match", `"1"`).wantProblem(t, http.StatusPreconditionFailed, "precondition_failed")
	a.do("POST", "/v1/orders/"+e.ID+"/cancel", map[string]any{"reason": "r"},
		"Idempotency-Key", "cancel-1", "If-Match", `"3"`).want(t, http.StatusOK)
}

func TestIdempotentCreateWithServerChosenID(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	body := `{"customer_id": "` + uuid.NewString() + `"}`
	first := a.do("POST", "/v1/orders", body, "Idempotency-Key", "create-1").want(t, http.StatusCreated)
	replay := a.do("POST", "/v1/orders", body, "Idempotency-Key", "create-1").want(t, http.StatusCreated)
	sameAnswer(t, first, replay)
	if orders := a.count(`SELECT count(*) FROM order_details`); orders != 1 {
		t.Errorf("%d orders, want 1", orders)
	}
}

func TestExpiredIdempotencyKeyIsNew(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	body := `{"customer_id": "` + uuid.NewString() + `"}`
	first := a.do("POST", "/v1/orders", body, "Idempotency-Key", "create-1").want(t, http.StatusCreated)

	// When the key's claim expires
	if _, err := a.pool.Exec(context.Background(), `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}

	// Then the same request creates another order, and claims the key anew
	again := a.do("POST", "/v1/orders", body, "Idempotency-Key", "create-1").want(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Location") == first.Header.Get("Location") {
		t.Errorf("after expiry: %v", again.Header)
	}
	replay := a.do("POST", "/v1/orders", body, "Idempotency-Key", "create-1").want(t, http.StatusCreated)
	sameAnswer(t, again, replay)
	if orders := a.count(`SELECT count(*) FROM order_details`); orders != 2 {
		t.Errorf("%d orders, want 2", orders)
	}
}

func TestMalformedIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	for name, key := range map[string]string{
		"empty":     "",
		"too long":  strings.Repeat("k", 256),
		"space":     "my key",
		"non-ASCII": "clé",
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest("DELETE", a.url+"/v1/orders/"+o.ID+"/items/"+uuid.NewString(), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header["Idempotency-Key"] = []string{key}
			a.send(req).wantProblem(t, http.StatusBadRequest, problem.CodeBadHeader)
		})
	}
	t.Run("repeated", func(t *testing.T) {
		req, err := http.NewRequest("POST", a.url+"/v1/orders", strings.NewReader(`{"customer_id": "`+uuid.NewString()+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header["Idempotency-Key"] = []string{"a", "b"}
		a.send(req).wantProblem(t, http.StatusBadRequest, problem.CodeBadHeader)
	})
	// The longest key, and quotes as the IETF draft's clients send them.
	for _, key := range []string{strings.Repeat("k", 255), `"8e03978e-40d5-43e8-bc93-6894a57f9324"`} {
		a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}, "Idempotency-Key", key).want(t, http.StatusCreated)
	}
}

func TestIdempotentRequestBodyLimits(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// The body is read for the fingerprint first; decode still answers
	// for it. A reader of unknown length, so that the server finds the
	// size by reading, not from Content-Length.
	big := `{"customer_id": "` + uuid.NewString() + `", "pad": "` + strings.Repeat("x", jsonbody.MaxBytes) + `"}`
	req, err := http.NewRequest("POST", a.url+"/v1/orders", io.MultiReader(strings.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "big")
	a.send(req).wantProblem(t, http.StatusRequestEntityTooLarge, problem.CodeTooLarge)
	a.do("POST", "/v1/orders", `{"customer_id": 1}`, "Idempotency-Key", "bad").wantProblem(t, http.StatusBadRequest, problem.CodeWrongType)
	if n := a.count(`SELECT count(*) FROM idempotency_keys`); n != 0 {
		t.Errorf("%d keys claimed by refused requests", n)
	}
}
