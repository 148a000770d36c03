package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// standbyAPI is the API over a primary with a streaming hot standby, its
// reads routed as serve routes them.
type standbyAPI struct {
	*testAPI
	primary, standby *pgtest.Cluster
}

// newStandbyAPI starts the clusters and the router's health checks and
// returns once the standby, named standby-1, is in rotation.
func newStandbyAPI(t *testing.T) *standbyAPI {
	t.Helper()
	primary, sc := pgtest.NewReplicated(t, "orderapi")
	pool := openTestPool(t, primary.URL("orderapi"), nil)
	store := eventstore.New(pool, eventstore.Config{})
	standbyStore := eventstore.New(openTestPool(t, sc.URL("orderapi"), standby.RecoveryTracer(nil)), eventstore.Config{})
	router, err := standby.New(store, standby.Config{
		Standbys: []standby.Standby{{Name: "standby-1", Store: standbyStore}},
		MaxLag:   time.Minute, CheckEvery: 50 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = router.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	for deadline := time.Now().Add(30 * time.Second); !router.Stats().Standbys[0].InRotation; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby is not in rotation: %+v", router.Stats().Standbys[0])
		}
	}
	svc, err := app.NewService(store, store, app.Config{ReadModels: router})
	if err != nil {
		t.Fatal(err)
	}
	return &standbyAPI{testAPI: newAPIOver(t, pool, svc), primary: primary, standby: sc}
}

// openTestPool opens a pool on url whose queries tracer traces (nil: none).
func openTestPool(t *testing.T, url string, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestReadAnswersNameTheDatabase: every answer a database gave to a read
// names it, a 404 or 422 as much as a 200: a lagging standby's "not
// found" for an order just created on the primary says that it is a
// standby's, and how far behind. A refusal of the request's own
// parameters, which no database gave, and a command's answer name none.
func TestReadAnswersNameTheDatabase(t *testing.T) {
	t.Parallel()
	// Given a standby that has replayed order A, then stopped replaying
	a := newStandbyAPI(t)
	customerID := uuid.New()
	api := a.as(customerToken(customerID))
	orderA := api.create(customerID).ID
	a.standby.CatchUp(t, a.primary)
	a.standby.PauseReplay(t)

	// When the customer creates order B and adds an item to A, on the
	// primary
	created := api.do("POST", "/v1/orders", map[string]any{"customer_id": customerID}).want(t, http.StatusCreated)
	orderB, atB := created.order(t).ID, strconv.FormatInt(created.position(t), 10)
	api.addItem(orderA, "2.50", 1)

	// Then the standby's answers without a position say they are its own,
	// the 404s and the 422 too
	for _, read := range []struct {
		path   string
		status int
	}{
		{"/v1/orders/" + orderA, http.StatusOK},
		{"/v1/orders/" + orderB, http.StatusNotFound},
		{"/v1/orders/" + orderB + "/events", http.StatusNotFound},
		{"/v1/orders/" + orderA + "?version=2", http.StatusUnprocessableEntity},
		{"/v1/orders/" + orderB + "?as_of=2030-01-01T00:00:00Z", http.StatusNotFound},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			r := api.do(method, read.path, nil)
			if r.Status != read.status || r.Header.Get("X-Read-Source") != "standby-1" || r.Header.Get("X-Read-Lag-Seconds") == "" {
				t.Errorf("%s %s = %d from %q, lag %q; want %d from standby-1 with its lag", method, read.path, r.Status,
					r.Header.Get("X-Read-Source"), r.Header.Get("X-Read-Lag-Seconds"), read.status)
			}
		}
	}
	// And the primary's answers at B's position say they are the
	// primary's: B, and an order no one has
	for _, read := range []struct {
		path   string
		status int
	}{
		{"/v1/orders/" + orderB + "?min_position=" + atB, http.StatusOK},
		{"/v1/orders/" + uuid.NewString() + "?min_position=" + atB, http.StatusNotFound},
	} {
		r := a.do("GET", read.path, nil)
		if r.Status != read.status || r.Header.Get("X-Read-Source") != "primary" || r.Header.Get("X-Read-Lag-Seconds") != "" {
			t.Errorf("GET %s = %d from %q, lag %q; want %d from the primary, no lag", read.path, r.Status,
				r.Header.Get("X-Read-Source"), r.Header.Get("X-Read-Lag-Seconds"), read.status)
		}
	}
	// And answers no database gave name none: a refused parameter, a
	// customer's list of another customer, a command
	for _, r := range []reply{
		api.do("GET", "/v1/orders/"+orderA+"/events?limit=0", nil).want(t, http.StatusUnprocessableEntity),
		api.do("GET", "/v1/orders/"+orderA+"?version=1&as_of=2030-01-01T00:00:00Z", nil).want(t, http.StatusUnprocessableEntity),
		api.do("GET", "/v1/customers/"+uuid.NewString()+"/orders", nil).want(t, http.StatusForbidden),
		a.do("POST", "/v1/orders/"+uuid.NewString()+"/items", map[string]any{
			"product_id": uuid.NewString(), "product_name": "Cup", "quantity": 1, "unit_price": "2.50",
		}).want(t, http.StatusNotFound),
	} {
		if src := r.Header.Get("X-Read-Source"); src != "" {
			t.Errorf("an answer no database gave names %q: %s", src, r.Body)
		}
	}
}

// TestUnknownPositionIsRefusedOnEveryRead: a min_position no event has,
// nor will, is 422 unknown_position on every read, the live feed's
// included, at once: no retry would find it. No database answered it.
func TestUnknownPositionIsRefusedOnEveryRead(t *testing.T) {
	t.Parallel()
	// Given an order
	a := newStandbyAPI(t)
	customerID := uuid.New()
	created := a.do("POST", "/v1/orders", map[string]any{"customer_id": customerID}).want(t, http.StatusCreated)
	orderID, at := created.order(t).ID, created.position(t)

	// When each read names a position beyond every event
	beyond := "?min_position=" + strconv.FormatInt(at+1000, 10)
	for _, read := range []struct{ method, path, accept string }{
		{"GET", "/v1/orders/" + orderID, ""},
		{"HEAD", "/v1/orders/" + orderID, ""},
		{"GET", "/v1/orders/" + orderID + "/events", ""},
		{"GET", "/v1/customers/" + customerID.String() + "/orders", ""},
		{"GET", "/v1/events", ""},
		{"GET", "/v1/events", "text/event-stream"},
	} {
		began := time.Now()
		r := a.do(read.method, read.path+beyond, nil, "Accept", read.accept)

		// Then it is refused as unknown, naming no database, without
		// waiting
		if r.Status != http.StatusUnprocessableEntity || r.Header.Get("X-Read-Source") != "" || time.Since(began) > 5*time.Second {
			t.Errorf("%s %s (Accept %q) = %d from %q after %s, want 422 from no database, at once", read.method, read.path+beyond,
				read.accept, r.Status, r.Header.Get("X-Read-Source"), time.Since(began))
		}
		if read.method == "GET" {
			r.wantProblem(t, http.StatusUnprocessableEntity, app.ErrUnknownPosition.Code)
		}
	}
}
