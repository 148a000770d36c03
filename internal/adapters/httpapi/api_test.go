package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testOrigin = "https://shop.example.com"

// testAPI is the real server over a fresh database, behind an
// httptest.Server, reached through a client that checks every exchange
// against the spec.
type testAPI struct {
	t      *testing.T
	url    string
	client *http.Client
	pool   *pgxpool.Pool
	logs   *syncBuffer
	// keyring is the one the server's store seals with, when it was made
	// by newAPIOn: other stores over pool read with it.
	keyring *personaldata.Keyring
}

func newAPI(t *testing.T, opts ...func(*Config)) *testAPI {
	t.Helper()
	return newAPIOn(t, pgtest.New(t), opts...)
}

// newAPIOn is newAPI over a pool of the test's own.
func newAPIOn(t *testing.T, pool *pgxpool.Pool, opts ...func(*Config)) *testAPI {
	t.Helper()
	keyring := eventstoretest.Keyring(t, pool)
	store := eventstore.New(pool, eventstore.Config{Keyring: keyring})
	svc, err := app.NewService(store, store, app.Config{Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPIOver(t, pool, svc, opts...)
	a.keyring = keyring
	return a
}

// newAPIOver is newAPI serving svc, whose primary database pool is.
func newAPIOver(t *testing.T, pool *pgxpool.Pool, svc *app.Service, opts ...func(*Config)) *testAPI {
	t.Helper()
	logs := &syncBuffer{}
	log := zerolog.New(io.MultiWriter(logs, zerolog.NewTestWriter(t)))
	cfg := Config{
		CORSOrigins: []string{testOrigin},
		Ready:       func(ctx context.Context) error { return pool.Ping(ctx) },
		Cursors:     testCursors, Fingerprints: testFingerprints,
		Auth: testAuthenticator,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := NewServer(svc, log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testAPI{t: t, url: ts.URL, client: specClient(t), pool: pool, logs: logs}
}

// newEveryRouteAPI is newAPI serving every route of the table, the
// metrics and the development tokens too.
func newEveryRouteAPI(t *testing.T) *testAPI {
	t.Helper()
	return newAPI(t, func(c *Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("Content-Type", "text/plain") })
		c.DevTokens = newDevKeyMinter(t)
	})
}

// routePath is a path rt serves: its pattern with o's id and customer, a
// new product and one of the pages' files filled in.
func routePath(rt route, o orderJSON) string {
	asset := "init.js"
	if strings.HasPrefix(rt.pattern, "/console/") {
		asset = "app.js"
	}
	return strings.NewReplacer("{order_id}", o.ID, "{product_id}", uuid.NewString(), "{customer_id}", o.CustomerID, "{asset}", asset).Replace(rt.pattern)
}

// as is the API reached by a client that sends token as its bearer token;
// "" sends none.
func (a *testAPI) as(token string) *testAPI {
	b := *a
	b.client = specClientAs(a.t, token)
	return &b
}

// reply is a finished exchange.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request. body is sent as is when it is a string or []byte and
// as JSON otherwise; nil sends none. headers come in name, value pairs; a
// JSON body gets Content-Type application/json unless they set one.
func (a *testAPI) do(method, path string, body any, headers ...string) reply {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.send(req)
}

func (a *testAPI) send(req *http.Request) reply {
	a.t.Helper()
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// want fails the test unless the reply has the status.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

func (r reply) order(t *testing.T) orderJSON {
	t.Helper()
	var o orderJSON
	decodeStrict(t, r.Body, &o)
	return o
}

func (r reply) problem(t *testing.T) problem.Problem {
	t.Helper()
	var p problem.Problem
	decodeStrict(t, r.Body, &p)
	return p
}

// wantProblem fails the test unless the reply is a problem with the
// status and code.
func (r reply) wantProblem(t *testing.T, status int, code string) problem.Problem {
	t.Helper()
	r.want(t, status)
	p := r.problem(t)
	if p.Code != code || p.Status != status || p.Type != problem.TypeBase+code {
		t.Fatalf("problem = %+v, want status %d code %s", p, status, code)
	}
	if p.RequestID == "" || p.RequestID != r.Header.Get("X-Request-Id") {
		t.Errorf("problem request_id %q, X-Request-Id %q", p.RequestID, r.Header.Get("X-Request-Id"))
	}
	return p
}

func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, data)
	}
}

// Shortcuts for the usual steps; each fails the test unless it succeeds.

func (a *testAPI) create(customerID uuid.UUID) orderJSON {
	a.t.Helper()
	return a.do("POST", "/v1/orders", map[string]any{"customer_id": customerID}).want(a.t, http.StatusCreated).order(a.t)
}

func (a *testAPI) addItem(orderID string, price string, quantity int64) orderJSON {
	a.t.Helper()
	return a.do("POST", "/v1/orders/"+orderID+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": "Espresso beans", "quantity": quantity, "unit_price": price,
	}).want(a.t, http.StatusOK).order(a.t)
}

var testAddress = map[string]any{
	"shipping_address": map[string]any{
		"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
		"postal_code": "SW1Y 4JH", "country": "GB",
	},
}

func (a *testAPI) place(orderID string) orderJSON {
	a.t.Helper()
	return a.do("POST", "/v1/orders/"+orderID+"/place", testAddress).want(a.t, http.StatusOK).order(a.t)
}

func (a *testAPI) events(orderID string) []eventJSON {
	a.t.Helper()
	var doc eventsJSON
	decodeStrict(a.t, a.do("GET", "/v1/orders/"+orderID+"/events", nil).want(a.t, http.StatusOK).Body, &doc)
	if doc.NextAfterVersion != nil {
		a.t.Fatalf("events of order %s: more than one page", orderID)
	}
	return doc.Events
}

// syncBuffer is a log sink that concurrent requests may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
