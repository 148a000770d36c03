package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// testFingerprints keys the fingerprints of the test servers' idempotent
// requests, as a service does with its master key.
var testFingerprints = fingerprintsUnder(masterKey(9))

// masterKey is the file master key of 32 bytes of fill.
func masterKey(fill byte) *personaldata.FileMasterKey {
	k, err := personaldata.NewFileMasterKey(bytes.Repeat([]byte{fill}, personaldata.MasterKeySize))
	if err != nil {
		panic(err)
	}
	return k
}

// fingerprintsUnder are the request fingerprints of a service given
// current as its master key and previous as the previous ones.
func fingerprintsUnder(current personaldata.MasterKey, previous ...personaldata.MasterKey) *personaldata.RequestFingerprints {
	f, err := personaldata.NewRequestFingerprints(personaldata.NewMasterKeys(current, previous...))
	if err != nil {
		panic(err)
	}
	return f
}

// unkeyedDigest is the fingerprint builds before keyed fingerprints
// stored: a SHA-256 of the method, the path, the If-Match version and the
// body, each of the first three ended by a newline.
func unkeyedDigest(method, path string, version int, body string) [32]byte {
	return sha256.Sum256([]byte(method + "\n" + path + "\n" + strconv.Itoa(version) + "\n" + body))
}

// storedFingerprint is the fingerprint of key's claim.
func (a *testAPI) storedFingerprint(key string) [32]byte {
	a.t.Helper()
	var fp []byte
	if err := a.pool.QueryRow(context.Background(), `SELECT fingerprint FROM idempotency_keys WHERE key = $1`, key).Scan(&fp); err != nil {
		a.t.Fatal(err)
	}
	return [32]byte(fp)
}

// servers returns one test server per set of fingerprints, all serving
// one service over one database.
func servers(t *testing.T, fingerprints ...Fingerprinter) []*testAPI {
	t.Helper()
	pool := pgtest.New(t)
	keyring := eventstoretest.Keyring(t, pool)
	store := eventstore.New(pool, eventstore.Config{Keyring: keyring})
	svc, err := app.NewService(store, store, app.Config{Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	apis := make([]*testAPI, len(fingerprints))
	for i, f := range fingerprints {
		apis[i] = newAPIOver(t, pool, svc, func(c *Config) { c.Fingerprints = f })
		apis[i].keyring = keyring
	}
	return apis
}

func TestStoredFingerprintsAreKeyedByTheMasterKey(t *testing.T) {
	t.Parallel()
	// Given two services alike but for their master keys
	apis := servers(t, fingerprintsUnder(masterKey(1)), fingerprintsUnder(masterKey(2)))
	body := `{"customer_id":"` + uuid.NewString() + `"}`

	// When each is sent the same request with a key
	for i, a := range apis {
		a.do("POST", "/v1/orders", body, "Idempotency-Key", "create-"+strconv.Itoa(i)).want(t, http.StatusCreated)
	}

	// Then the fingerprints they store differ, and neither is the digest
	// anyone could compute from a guess of the request
	one, two := apis[0].storedFingerprint("create-0"), apis[1].storedFingerprint("create-1")
	if one == two {
		t.Error("two master keys stored the same fingerprint")
	}
	if plain := unkeyedDigest("POST", "/v1/orders", app.AnyVersion, body); one == plain || two == plain {
		t.Error("a stored fingerprint is the request's unkeyed SHA-256")
	}
}

func TestRetryAfterMasterKeyRotationIsReplayed(t *testing.T) {
	t.Parallel()
	// Given a service under the old master key, the same after a rotation
	// (the new key current, the old one previous), and after the old key
	// was removed
	oldKey, newKey := masterKey(1), masterKey(2)
	apis := servers(t, fingerprintsUnder(oldKey), fingerprintsUnder(newKey, oldKey), fingerprintsUnder(newKey))
	before, rotated, removed := apis[0], apis[1], apis[2]
	o := before.create(uuid.New())
	before.addItem(o.ID, "4.50", 1)
	path := "/v1/orders/" + o.ID + "/place"
	const body = `{"shipping_address":{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}`
	// And an order placed with a key under the old key
	first := before.do("POST", path, body, "Idempotency-Key", "place-1").want(t, http.StatusOK)
	events := before.count(`SELECT count(*) FROM events`)

	// When the request is retried after the rotation
	replay := rotated.do("POST", path, body, "Idempotency-Key", "place-1").want(t, http.StatusOK)

	// Then it is answered as the first time, and nothing is written
	sameAnswer(t, first, replay)
	if after := rotated.count(`SELECT count(*) FROM events`); after != events {
		t.Errorf("the retry wrote %d events", after-events)
	}
	// And another request with that key is still refused
	other := bytes.Replace([]byte(body), []byte("Ada"), []byte("Eve"), 1)
	rotated.do("POST", path, other, "Idempotency-Key", "place-1").wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	// And a key claimed after the rotation is fingerprinted under the new
	// key
	o2 := rotated.create(uuid.New())
	rotated.addItem(o2.ID, "4.50", 1)
	rotated.do("POST", "/v1/orders/"+o2.ID+"/place", body, "Idempotency-Key", "place-2").want(t, http.StatusOK)
	msg := []byte("POST\n/v1/orders/" + o2.ID + "/place\n0\n" + body)
	if rotated.storedFingerprint("place-2") != fingerprintsUnder(newKey).Fingerprint(msg) {
		t.Error("a claim after the rotation is not fingerprinted under the new key")
	}

	// When the old key is no longer configured and the first request is
	// retried again
	r := removed.do("POST", path, body, "Idempotency-Key", "place-1")

	// Then it is refused as another request, never executed twice
	r.wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	if after := removed.count(`SELECT count(*) FROM events`); after != events+3 { // +3: the second order
		t.Errorf("the retries wrote %d events", after-events-3)
	}
}

func TestFingerprintStoredByAnEarlierBuildStillMatches(t *testing.T) {
	t.Parallel()
	// Given an item added with a key, whose claim holds the unkeyed
	// fingerprint that builds before keyed fingerprints stored
	a := newAPI(t)
	o := a.create(uuid.New())
	path := "/v1/orders/" + o.ID + "/items"
	body := `{"product_id":"` + uuid.NewString() + `","product_name":"Mug","quantity":1,"unit_price":"9.99"}`
	first := a.do("POST", path, body, "Idempotency-Key", "add-1", "If-Match", `"1"`).want(t, http.StatusOK)
	plain := unkeyedDigest("POST", path, 1, body)
	if _, err := a.pool.Exec(context.Background(), `UPDATE idempotency_keys SET fingerprint = $1 WHERE key = 'add-1'`, plain[:]); err != nil {
		t.Fatal(err)
	}
	events := a.count(`SELECT count(*) FROM events`)

	// When the request is retried
	replay := a.do("POST", path, body, "Idempotency-Key", "add-1", "If-Match", `"1"`).want(t, http.StatusOK)

	// Then it is answered as the first time, and nothing is written
	sameAnswer(t, first, replay)
	if after := a.count(`SELECT count(*) FROM events`); after != events {
		t.Errorf("the retry wrote %d events", after-events)
	}
	// And another request with that key is still refused
	a.do("POST", path, bytes.Replace([]byte(body), []byte(`"quantity":1`), []byte(`"quantity":2`), 1),
		"Idempotency-Key", "add-1", "If-Match", `"1"`).wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	// And so is the same body with another If-Match
	a.do("POST", path, body, "Idempotency-Key", "add-1", "If-Match", `"2"`).wantProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
}

func TestNewServerNeedsFingerprints(t *testing.T) {
	t.Parallel()
	svc, err := app.NewService(nopStore{}, nopStore{}, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewServer(svc, zerolog.Nop(), Config{Ready: func(context.Context) error { return nil }, Cursors: testCursors, Auth: testAuthenticator})
	if err == nil || !strings.Contains(err.Error(), "Config.Fingerprints") {
		t.Errorf("NewServer without Fingerprints: %v", err)
	}
}

// recordingFingerprinter records the message it fingerprints.
type recordingFingerprinter struct{ msg []byte }

func (f *recordingFingerprinter) Fingerprint(msg []byte) [32]byte {
	f.msg = bytes.Clone(msg)
	return sha256.Sum256(msg)
}

func (f *recordingFingerprinter) Earlier([]byte, [32]byte) bool { return false }

func TestIdempotencyOfFingerprintsWhatEarlierBuildsDigested(t *testing.T) {
	t.Parallel()
	small := `{"reason":"changed my mind"}`
	large := `{"reason":"` + strings.Repeat("x", 2*maxPresized) + `"}`
	tests := []struct {
		name, method, path, body string
		length                   int64
		version                  int
		want                     string
	}{
		{"a body of known length", "POST", "/v1/orders/x/cancel", small, int64(len(small)), 3, "POST\n/v1/orders/x/cancel\n3\n" + small},
		{"a body of unknown length", "POST", "/v1/orders/x/cancel", small, -1, 3, "POST\n/v1/orders/x/cancel\n3\n" + small},
		{"a large body", "POST", "/v1/orders/x/cancel", large, int64(len(large)), 0, "POST\n/v1/orders/x/cancel\n0\n" + large},
		{"a DELETE's body, ignored", "DELETE", "/v1/orders/x/items/y", small, int64(len(small)), 1, "DELETE\n/v1/orders/x/items/y\n1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a request with a key
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.ContentLength = tt.length
			r.Header.Set("Idempotency-Key", "k")
			fp := &recordingFingerprinter{}

			// When it is fingerprinted
			idem, err := idempotencyOf(httptest.NewRecorder(), r, fp, tt.version)
			if err != nil || idem.Key != "k" {
				t.Fatal(idem, err)
			}

			// Then the message is what builds before keyed fingerprints
			// took the SHA-256 of, so that their claims are recognised
			if string(fp.msg) != tt.want {
				t.Errorf("fingerprinted %.80q, want %.80q", fp.msg, tt.want)
			}
			// And the body reads back whole for decoding
			if tt.method != "DELETE" {
				if got, err := io.ReadAll(r.Body); err != nil || string(got) != tt.body {
					t.Errorf("body read back: %d bytes, %v", len(got), err)
				}
			}
		})
	}
}
