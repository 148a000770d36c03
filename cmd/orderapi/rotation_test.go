package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestARollingMasterKeyRotationNeverMeetsAKeyAReplicaLacks runs the
// README's rotation with two replicas on one database, restarted one at a
// time: every replica holds the new key before any wraps with it, so a
// replica not yet switched reads and commands what a switched one sealed,
// and a retry is recognised whichever replica claimed its key.
func TestARollingMasterKeyRotationNeverMeetsAKeyAReplicaLacks(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	oldFile, newFile := masterKeyFile(t, strings.Repeat("55", 32)), masterKeyFile(t, strings.Repeat("66", 32))
	serveWith := func(master string, previous ...string) (string, func() error) {
		t.Helper()
		return serveWithMasterKeys(t, dbURL, master, previous...)
	}
	post := func(base, path, body, key string) (int, string) {
		t.Helper()
		status, header := postWithKey(t, base+path, body, key)
		return status, header.Get("Idempotent-Replayed")
	}
	// place creates an order of a new customer through base and places it
	// with key, shipped to name, and returns the place command's path.
	place := func(base, name, key string) (path, body string) {
		t.Helper()
		id := uuid.NewString()
		if status, _ := post(base, "/v1/orders", `{"id":"`+id+`","customer_id":"`+uuid.NewString()+`"}`, ""); status != http.StatusCreated {
			t.Fatalf("create through %s: %d", base, status)
		}
		if status, _ := post(base, "/v1/orders/"+id+"/items", `{"product_id":"`+uuid.NewString()+`","product_name":"Tea","quantity":1,"unit_price":"4.50"}`, ""); status != http.StatusOK {
			t.Fatalf("add an item through %s: %d", base, status)
		}
		path = "/v1/orders/" + id + "/place"
		body = `{"shipping_address":{"name":"` + name + `","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`
		if status, _ := post(base, path, body, key); status != http.StatusOK {
			t.Fatalf("place through %s: %d", base, status)
		}
		return path, body
	}
	replays := func(base, path, body, key, when string) {
		t.Helper()
		if status, replayed := post(base, path, body, key); status != http.StatusOK || replayed != "true" {
			t.Errorf("%s: retry of %s through %s = %d, Idempotent-Replayed %q", when, key, base, status, replayed)
		}
	}

	// Given two replicas on the old master key, one of which placed an
	// order with an Idempotency-Key
	a, stopA := serveWith(oldFile)
	_, stopB := serveWith(oldFile)
	beforePath, beforeBody := place(a, "Ada Before", "before")

	// When each is restarted in turn with the old key current and the new
	// one previous (step 2), then in turn with the two switched (step 3)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	a, stopA = serveWith(oldFile, newFile)
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	b, stopB := serveWith(oldFile, newFile)
	phase1Path, phase1Body := place(b, "Ada Phase One", "phase-1")
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	b, _ = serveWith(newFile, oldFile)
	// And replica B, switched, seals a new customer's data under the new
	// key while replica A is not yet switched
	switchedPath, switchedBody := place(b, "Ada Switched", "switched")
	switchedOrder := strings.TrimSuffix(switchedPath, "/place")

	// Then replica A reads the order B sealed under the new key
	if got := call(t, "GET", a+switchedOrder, ""); got.status != http.StatusOK || !strings.Contains(string(got.body), "Ada Switched") {
		t.Errorf("GET the switched replica's order through the replica not yet switched = %d: %s", got.status, got.body)
	}
	// And the feed reads through every event, the new key's too
	if got := call(t, "GET", a+"/v1/events?limit=1000", ""); got.status != http.StatusOK ||
		!strings.Contains(string(got.body), "Ada Switched") || !strings.Contains(string(got.body), "Ada Before") {
		t.Errorf("GET /v1/events through the replica not yet switched = %d: %s", got.status, got.body)
	}
	// And it commands that order
	if status, _ := post(a, switchedOrder+"/ship", `{"tracking_number":"1Z","carrier":"UPS"}`, "ship"); status != http.StatusOK {
		t.Errorf("ship the switched replica's order through the replica not yet switched = %d", status)
	}
	// And every retry is recognised by either replica, whichever key
	// fingerprinted its claim
	for _, base := range []string{a, b} {
		replays(base, beforePath, beforeBody, "before", "replicas in step 3")
		replays(base, phase1Path, phase1Body, "phase-1", "replicas in step 3")
		replays(base, switchedPath, switchedBody, "switched", "replicas in step 3")
	}
	replays(b, switchedOrder+"/ship", `{"tracking_number":"1Z","carrier":"UPS"}`, "ship", "replicas in step 3")

	// When replica A is switched too and keys rewrap runs (step 4)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	a, _ = serveWith(newFile, oldFile)
	rotating := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile,
		"ORDERAPI_MASTER_KEY_PREVIOUS_FILES": oldFile}
	var out strings.Builder
	if err := run(t.Context(), []string{"orderapi", "keys", "rewrap"}, env(rotating), &out); err != nil {
		t.Fatal(err)
	}
	// Then the old key wraps nothing more, and the database is bound to
	// the new one alone
	if !strings.Contains(out.String(), "re-wrapped 2 data keys") || !strings.Contains(out.String(), "may be emptied") {
		t.Errorf("keys rewrap printed %q", out.String())
	}
	onlyNew := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile}
	if err := run(t.Context(), []string{"orderapi", "check"}, env(onlyNew), io.Discard); err != nil {
		t.Errorf("check with the new key alone after the rotation = %v", err)
	}
	onlyOld := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": oldFile}
	if err := run(t.Context(), []string{"orderapi", "check"}, env(onlyOld), io.Discard); err == nil || !strings.Contains(err.Error(), "bound to master key") {
		t.Errorf("check with the old key alone after the rotation = %v, want a refusal", err)
	}
	// And the retries of claims of every step are still recognised
	for _, base := range []string{a, b} {
		replays(base, beforePath, beforeBody, "before", "after keys rewrap")
		replays(base, phase1Path, phase1Body, "phase-1", "after keys rewrap")
		replays(base, switchedPath, switchedBody, "switched", "after keys rewrap")
	}
}
