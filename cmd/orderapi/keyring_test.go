package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestCommandsRefuseToRunWithoutAMasterKey(t *testing.T) {
	t.Parallel()
	// Given an environment that verifies a provider's tokens and names no
	// master key
	url := pgtest.NewURL(t)
	vars := map[string]string{"DATABASE_URL": url, "ORDERAPI_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn",
		"ORDERAPI_AUTH_JWKS_URL": "http://127.0.0.1:1/jwks", "ORDERAPI_AUTH_ISSUER": "https://id.example", "ORDERAPI_AUTH_AUDIENCE": "orderapi"}
	for _, args := range [][]string{{"serve"}, {"check"}, {"projections", "verify"}, {"keys", "rewrap"}} {
		// When the command runs
		err := run(context.Background(), append([]string{"orderapi"}, args...), env(vars), io.Discard)

		// Then it refuses, saying what to set and how to make a key
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_FILE is not set") ||
			!strings.Contains(err.Error(), "openssl rand -hex 32") || !strings.Contains(err.Error(), "ORDERAPI_AUTH=dev") {
			t.Errorf("%s: %v, want a refusal naming ORDERAPI_MASTER_KEY_FILE", args, err)
		}
	}
}

func TestAMasterKeyFileOthersMayReadIsRefused(t *testing.T) {
	t.Parallel()
	// Given a master key file anyone may read
	path := masterKeyFile(t, testMasterKey)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t), "ORDERAPI_MASTER_KEY_FILE": path}

	// When a command reads it
	err := run(context.Background(), []string{"orderapi", "check"}, env(vars), io.Discard)

	// Then it is refused, and how to fix it is said
	if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_FILE") || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("check = %v", err)
	}
}

func TestAMasterKeyFileThatIsANamedPipeIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	// Given ORDERAPI_MASTER_KEY_FILE naming a named pipe, private, that no
	// one writes to
	path := filepath.Join(t.TempDir(), "master-key.hex")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t), "ORDERAPI_MASTER_KEY_FILE": path}

	// When a command reads it
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"orderapi", "check"}, env(vars), io.Discard) }()

	// Then it is refused at once, naming the variable and why
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_FILE") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("check = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("check still reading the named pipe after 10s")
	}
}

func TestDevelopmentModeMakesTheMasterKeyOnceInItsFolder(t *testing.T) {
	t.Parallel()
	// Given development mode with no master key set
	url := pgtest.NewURL(t)
	vars := devAuth(t, map[string]string{"DATABASE_URL": url, "ORDERAPI_ADDR": "127.0.0.1:0"})
	delete(vars, "ORDERAPI_MASTER_KEY_FILE")
	path := filepath.Join(vars["ORDERAPI_AUTH_DEV_DIR"], personaldata.DevMasterKeyFile)

	// When the service starts
	_, stop := startServerEnv(t, vars, io.Discard)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Then it made a master key in the development folder, for its owner
	// alone
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("development master key: %v, %v", fi, err)
	}
	made, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// And the other commands of development mode use that one
	vars["LOG_LEVEL"] = "warn"
	if err := run(context.Background(), []string{"orderapi", "check"}, env(vars), io.Discard); err != nil {
		t.Fatalf("check: %v", err)
	}
	if again, err := os.ReadFile(path); err != nil || string(again) != string(made) {
		t.Errorf("the key was made again: %v", err)
	}
}

func TestKeysRewrapRotatesTheMasterKey(t *testing.T) {
	t.Parallel()
	// Given data keys wrapped by an old master key
	url := pgtest.NewURL(t)
	oldHex, newHex := strings.Repeat("11", 32), strings.Repeat("22", 32)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := fileMasterKey(t, oldHex)
	ids := make([]uuid.UUID, 3)
	for i := range ids {
		k, err := personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(old)).ForSealing(t.Context(), uuid.New())
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = k.ID
	}
	oldFile, newFile := masterKeyFile(t, oldHex), masterKeyFile(t, newHex)
	onlyNew := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile}

	// When a command is given only the new master key
	err = run(context.Background(), []string{"orderapi", "check"}, env(onlyNew), io.Discard)
	// Then it refuses, naming the old key and what to set
	if err == nil || !strings.Contains(err.Error(), old.ID()+" (3 data keys)") || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_PREVIOUS_FILES") {
		t.Fatalf("check with the new key alone = %v", err)
	}

	// When keys rewrap runs with the new key and the old one as previous
	rotating := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile,
		"ORDERAPI_MASTER_KEY_PREVIOUS_FILES": oldFile}
	var out strings.Builder
	if err := run(context.Background(), []string{"orderapi", "keys", "rewrap"}, env(rotating), &out); err != nil {
		t.Fatal(err)
	}
	// Then it says how many it re-wrapped, and that the old key is free
	if !strings.Contains(out.String(), "re-wrapped 3 data keys") || !strings.Contains(out.String(), "may be emptied") {
		t.Errorf("keys rewrap printed %q", out.String())
	}
	// And the new key alone opens every data key
	if err := run(context.Background(), []string{"orderapi", "check"}, env(onlyNew), io.Discard); err != nil {
		t.Errorf("check with the new key alone after rewrap = %v", err)
	}
	ring := personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(fileMasterKey(t, newHex)))
	for _, id := range ids {
		if _, err := ring.Key(t.Context(), id); err != nil {
			t.Errorf("data key %s: %v", id, err)
		}
	}
	// And a second run has nothing to do
	out.Reset()
	if err := run(context.Background(), []string{"orderapi", "keys", "rewrap"}, env(rotating), &out); err != nil || !strings.Contains(out.String(), "re-wrapped 0 data keys") {
		t.Errorf("second keys rewrap: %q, %v", out.String(), err)
	}
}

func TestSealingOffIsRefusedOutsideDevelopmentMode(t *testing.T) {
	t.Parallel()
	// Given a production configuration, complete, that turns sealing off
	vars := withMasterKey(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t), "ORDERAPI_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn",
		"ORDERAPI_AUTH_JWKS_URL": "http://127.0.0.1:1/jwks", "ORDERAPI_AUTH_ISSUER": "https://id.example", "ORDERAPI_AUTH_AUDIENCE": "orderapi",
		"ORDERAPI_PERSONAL_DATA_SEALING": "off"})

	// When the service starts
	err := run(context.Background(), []string{"orderapi", "serve"}, env(vars), io.Discard)

	// Then it refuses, saying that only development mode accepts it
	if err == nil || !strings.Contains(err.Error(), "ORDERAPI_PERSONAL_DATA_SEALING=off") || !strings.Contains(err.Error(), "ORDERAPI_AUTH=dev") {
		t.Errorf("serve = %v, want a refusal naming ORDERAPI_AUTH=dev", err)
	}
	// And a value other than on or off is refused by every command
	vars["ORDERAPI_PERSONAL_DATA_SEALING"] = "no"
	if err := run(context.Background(), []string{"orderapi", "check"}, env(vars), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "ORDERAPI_PERSONAL_DATA_SEALING") {
		t.Errorf("check with sealing %q = %v", "no", err)
	}
}

func TestSealingOffStoresPersonalDataInClearAndSaysSo(t *testing.T) {
	t.Parallel()
	// Given development mode with sealing off, on a fresh database
	dbURL := pgtest.NewURL(t)
	vars := devAuth(t, map[string]string{"DATABASE_URL": dbURL, "ORDERAPI_ADDR": "127.0.0.1:0", "ORDERAPI_PERSONAL_DATA_SEALING": "off"})
	log := &lockedBuilder{}
	addr, stop := startServerEnv(t, vars, log)
	base := "http://" + addr

	// When an order is placed
	id := uuid.New()
	for _, r := range []struct{ path, body string }{
		{"/v1/orders", `{"id":"` + id.String() + `","customer_id":"` + uuid.NewString() + `"}`},
		{"/v1/orders/" + id.String() + "/items", `{"product_id":"` + uuid.NewString() + `","product_name":"Tea","quantity":1,"unit_price":"4.50"}`},
		{"/v1/orders/" + id.String() + "/place", `{"shipping_address":{"name":"Ada Cleartext","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`},
	} {
		resp, err := authed.Post(base+r.path, "application/json", strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d", r.path, resp.StatusCode)
		}
	}

	// Then it reads back as ever
	resp, err := authed.Get(base + "/v1/orders/" + id.String())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ShippingAddress struct{ Name string } `json:"shipping_address"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || doc.ShippingAddress.Name != "Ada Cleartext" {
		t.Errorf("GET the order: %d, %+v, %v", resp.StatusCode, doc, err)
	}
	// And the database holds the address in clear, and no data key
	pool := pgtest.Connect(t, dbURL)
	var inClear, keys int
	if err := pool.QueryRow(t.Context(), `SELECT
	  (SELECT count(*) FROM events WHERE data::text LIKE '%Ada Cleartext%' AND personal_key IS NULL)
	+ (SELECT count(*) FROM order_details WHERE shipping_address::text LIKE '%Ada Cleartext%'),
	  (SELECT count(*) FROM customer_data_keys)`).Scan(&inClear, &keys); err != nil {
		t.Fatal(err)
	}
	if inClear != 2 || keys != 0 {
		t.Errorf("%d rows hold the address in clear, want the event's and the read model's; %d data keys, want none", inClear, keys)
	}
	// And the service said, at start, that sealing was off and what for
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), `"level":"warn"`) || !strings.Contains(log.String(), "ORDERAPI_PERSONAL_DATA_SEALING=off") ||
		!strings.Contains(log.String(), "never for production") {
		t.Errorf("no warning that sealing is off in the log:\n%s", log.String())
	}

	// When a data key is made in the database, and the service starts
	// again with sealing off
	customerWithKey(t, dbURL)
	err = run(context.Background(), []string{"orderapi", "serve"}, env(vars), io.Discard)

	// Then it refuses: it could not read what that key sealed
	if err == nil || !strings.Contains(err.Error(), "1 data keys") || !strings.Contains(err.Error(), "a database of its own") {
		t.Errorf("serve with sealing off on a database with a data key = %v", err)
	}
}

func TestADevelopmentMasterKeyTheDatabaseIsNotBoundToIsNamedAsSuch(t *testing.T) {
	t.Parallel()
	// Given a database bound to the master key of a file
	url := pgtest.NewURL(t)
	bound := withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"})
	if err := run(context.Background(), []string{"orderapi", "check"}, env(bound), io.Discard); err != nil {
		t.Fatal(err)
	}
	// And development mode with no master key file set
	dev := devAuth(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"})
	delete(dev, "ORDERAPI_MASTER_KEY_FILE")

	// When a command runs on the database with the development master key
	err := run(context.Background(), []string{"orderapi", "check"}, env(dev), io.Discard)

	// Then it refuses, naming the development folder's key, not a file
	// variable that is not set
	devKey := filepath.Join(dev["ORDERAPI_AUTH_DEV_DIR"], personaldata.DevMasterKeyFile)
	if err == nil || !strings.Contains(err.Error(), "the database is bound to master key") ||
		!strings.Contains(err.Error(), "development master key in "+devKey) || strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_FILE names") {
		t.Errorf("check with the development master key: %v", err)
	}
}

func fileMasterKey(t *testing.T, hex string) *personaldata.FileMasterKey {
	t.Helper()
	k, err := personaldata.LoadMasterKeyFile(masterKeyFile(t, hex))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestASecondMasterKeyIsRefusedBeforeAnyDataKeyExists: replicas given
// different master keys would each fail the other's customers; the
// database is bound to the first, even while it holds no data key.
func TestASecondMasterKeyIsRefusedBeforeAnyDataKeyExists(t *testing.T) {
	t.Parallel()
	// Given a database a replica has started on, with no data key yet
	url := pgtest.NewURL(t)
	startServerWith(t, url, withMasterKey(t, nil), io.Discard)

	// When a command runs on it with another master key
	other := withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn",
		"ORDERAPI_MASTER_KEY_FILE": masterKeyFile(t, strings.Repeat("ab", 32))})
	err := run(context.Background(), []string{"orderapi", "check"}, env(other), io.Discard)

	// Then it refuses, naming the key the database is bound to
	if err == nil || !strings.Contains(err.Error(), "the database is bound to master key") {
		t.Errorf("check with another master key: %v", err)
	}
}

func TestIdempotentRetryAcrossAMasterKeyRotation(t *testing.T) {
	t.Parallel()
	// Given a service under an old master key
	dbURL := pgtest.NewURL(t)
	oldFile, newFile := masterKeyFile(t, strings.Repeat("33", 32)), masterKeyFile(t, strings.Repeat("44", 32))
	serveWith := func(master string, previous ...string) (string, func() error) {
		return serveWithMasterKeys(t, dbURL, master, previous...)
	}
	send := func(base, path, body, key string) (int, http.Header) {
		t.Helper()
		return postWithKey(t, base+path, body, key)
	}
	base, stop := serveWith(oldFile)
	id := uuid.NewString()
	place := "/v1/orders/" + id + "/place"
	const address = `{"shipping_address":{"name":"Ada Rotation","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`
	if status, _ := send(base, "/v1/orders", `{"id":"`+id+`","customer_id":"`+uuid.NewString()+`"}`, ""); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	if status, _ := send(base, "/v1/orders/"+id+"/items", `{"product_id":"`+uuid.NewString()+`","product_name":"Tea","quantity":1,"unit_price":"4.50"}`, ""); status != http.StatusOK {
		t.Fatalf("add an item: %d", status)
	}
	// And an order placed with an Idempotency-Key, whose answer was lost
	if status, _ := send(base, place, address, "place-1"); status != http.StatusOK {
		t.Fatalf("place: %d", status)
	}
	// Whose stored fingerprint is not the digest a guess of the address
	// could be checked against
	pool := pgtest.Connect(t, dbURL)
	var stored []byte
	if err := pool.QueryRow(t.Context(), `SELECT fingerprint FROM idempotency_keys WHERE key = 'place-1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if plain := sha256.Sum256([]byte("POST\n" + place + "\n0\n" + address)); string(stored) == string(plain[:]) {
		t.Error("the stored fingerprint is the request's unkeyed SHA-256")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// When the master key is rotated (the old one previous, the data keys
	// re-wrapped) and the request is retried
	base, stop = serveWith(newFile, oldFile)
	rotating := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile,
		"ORDERAPI_MASTER_KEY_PREVIOUS_FILES": oldFile}
	if err := run(t.Context(), []string{"orderapi", "keys", "rewrap"}, env(rotating), io.Discard); err != nil {
		t.Fatal(err)
	}
	status, header := send(base, place, address, "place-1")

	// Then it is answered again, not refused
	if status != http.StatusOK || header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry after the rotation: %d, Idempotent-Replayed %q", status, header.Get("Idempotent-Replayed"))
	}
	// And another request with the key is still refused
	if status, _ := send(base, place, strings.Replace(address, "Ada", "Eve", 1), "place-1"); status != http.StatusUnprocessableEntity {
		t.Errorf("another request with the key after the rotation: %d, want 422", status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
