package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// newAnalyticsAPI is newAPI with the analytics projection wired in; its
// consumer runs only when running is set. wait bounds min_position waits.
func newAnalyticsAPI(t *testing.T, running bool, wait time.Duration) *testAPI {
	t.Helper()
	return newAnalyticsAPIOn(t, pgtest.New(t), running, wait)
}

// newAnalyticsAPIOn is newAnalyticsAPI over a pool of the test's own.
func newAnalyticsAPIOn(t *testing.T, pool *pgxpool.Pool, running bool, wait time.Duration) *testAPI {
	t.Helper()
	store := eventstore.New(pool, eventstore.Config{Keyring: eventstoretest.Keyring(t, pool)})
	logs := &syncBuffer{}
	log := zerolog.New(io.MultiWriter(logs, zerolog.NewTestWriter(t)))
	analytics, err := analytics.New(store, log, analytics.Config{Poll: 20 * time.Millisecond, LockRetry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if running {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- analytics.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("analytics.Run = %v", err)
			}
		})
	}
	svc, err := app.NewService(store, store, app.Config{Analytics: analytics, AnalyticsWait: wait,
		Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	// The role table's walk sends hundreds of requests as one caller.
	h, err := NewServer(svc, log, Config{Ready: func(ctx context.Context) error { return pool.Ping(ctx) }, Cursors: testCursors, Fingerprints: testFingerprints, Auth: testAuthenticator,
		CommandRate: manyRequestsRate, ReadRate: manyRequestsRate})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testAPI{t: t, url: ts.URL, client: specClient(t), pool: pool, logs: logs}
}

// position is a command's X-Event-Position.
func (r reply) position(t *testing.T) int64 {
	t.Helper()
	p, err := strconv.ParseInt(r.Header.Get("X-Event-Position"), 10, 64)
	if err != nil {
		t.Fatalf("X-Event-Position %q: %v", r.Header.Get("X-Event-Position"), err)
	}
	return p
}

func TestDailyAnalytics(t *testing.T) {
	t.Parallel()
	a := newAnalyticsAPI(t, true, 5*time.Second)

	// Given a placed USD order, a cancelled EUR draft and a JPY order
	// placed, then cancelled
	usd := a.create(uuid.New())
	a.addItem(usd.ID, "19.99", 3)
	a.addItem(usd.ID, "4.5", 2)
	a.place(usd.ID)
	eur := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New(), "currency": "EUR"}).want(t, http.StatusCreated).order(t)
	a.do("POST", "/v1/orders/"+eur.ID+"/cancel", map[string]any{"reason": "test"}).want(t, http.StatusOK)
	jpy := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New(), "currency": "JPY"}).want(t, http.StatusCreated).order(t)
	a.addItem(jpy.ID, "1200", 1)
	a.place(jpy.ID)
	last := a.do("POST", "/v1/orders/"+jpy.ID+"/cancel", map[string]any{"reason": "test"}).
		want(t, http.StatusOK).position(t)

	// When the figures are read once the last command is counted
	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
	r := a.do("GET", "/v1/analytics/daily?from="+from+"&to="+to+"&min_position="+strconv.FormatInt(last, 10), nil).want(t, http.StatusOK)

	// Then every currency's day is there, amounts in its minor units
	var got analyticsJSON
	decodeStrict(t, r.Body, &got)
	date := today.Format(time.DateOnly)
	if n := len(got.Days); n != 3 {
		t.Fatalf("days = %+v, want three currencies (the test may have run across midnight)", got.Days)
	}
	want := []dailyJSON{
		{Date: date, Currency: "EUR", OrdersCreated: 1, OrdersCancelled: 1, RevenuePlaced: "0.00", RevenueCancelled: "0.00"},
		{Date: date, Currency: "JPY", OrdersCreated: 1, OrdersPlaced: 1, OrdersCancelled: 1, RevenuePlaced: "1200", RevenueCancelled: "1200", ItemsSold: 1},
		{Date: date, Currency: "USD", OrdersCreated: 1, OrdersPlaced: 1, RevenuePlaced: "68.97", RevenueCancelled: "0.00", ItemsSold: 5},
	}
	if !slices.Equal(got.Days, want) {
		t.Errorf("days =\n%+v\nwant\n%+v", got.Days, want)
	}
	// And the projection's position and lag, in the body and the headers
	if got.Position.Position < last || got.LagEvents != 0 || got.LagSeconds != 0 {
		t.Errorf("position %+v, lag %d events, %gs", got.Position, got.LagEvents, got.LagSeconds)
	}
	if r.Header.Get("X-Projection-Position") != strconv.FormatInt(got.Position.Position, 10) ||
		r.Header.Get("X-Projection-Lag-Events") != "0" || r.Header.Get("X-Projection-Lag-Seconds") != "0" {
		t.Errorf("headers %v", r.Header)
	}

	// And a currency filter, and a range without activity
	r = a.do("GET", "/v1/analytics/daily?from="+date+"&to="+date+"&currency=JPY", nil).want(t, http.StatusOK)
	decodeStrict(t, r.Body, &got)
	if len(got.Days) != 1 || got.Days[0] != want[1] {
		t.Errorf("JPY only: %+v", got.Days)
	}
	r = a.do("GET", "/v1/analytics/daily?from=2020-01-01&to=2020-12-31", nil).want(t, http.StatusOK)
	decodeStrict(t, r.Body, &got)
	if got.Days == nil || len(got.Days) != 0 {
		t.Errorf("2020: %+v", got.Days)
	}
}

func TestDailyAnalyticsInvalidParameters(t *testing.T) {
	t.Parallel()
	a := newAnalyticsAPI(t, false, time.Second)
	tests := map[string][]string{
		"":                                               {"from", "to"},
		"?from=2026-03-01":                               {"to"},
		"?from=2026-3-1&to=2026-03-01":                   {"from"},
		"?from=2026-02-30&to=2026-03-01":                 {"from"},
		"?from=0001-01-01&to=2026-03-01":                 {"from"},
		"?from=0000-01-01&to=0000-01-02":                 {"from", "to"},
		"?from=1969-12-31&to=1970-01-01":                 {"from"},
		"?from=9998-12-31&to=9999-01-01":                 {"to"},
		"?from=9999-12-31&to=9999-12-31":                 {"from", "to"},
		"?from=2026-03-02&to=2026-03-01":                 {"to"},
		"?from=2025-01-01&to=2026-01-03":                 {"to"},
		"?from=a&to=b&currency=usd":                      {"from", "to", "currency"},
		"?from=2026-03-01&to=2026-03-01&min_position=0":  {"min_position"},
		"?from=2026-03-01&to=2026-03-01&min_position=x":  {"min_position"},
		"?from=2026-03-01&from=2026-03-02&to=2026-03-03": {"from"},

		"?from=2026-03-01&to=2026-03-01&min_position=99999999999999999999": {"min_position"},
	}
	for query, fields := range tests {
		p := a.do("GET", "/v1/analytics/daily"+query, nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		var named []string
		for _, e := range p.Errors {
			named = append(named, e.Field)
		}
		slices.Sort(named)
		slices.Sort(fields)
		if !slices.Equal(named, fields) {
			t.Errorf("%q names %v, want %v", query, named, fields)
		}
	}
}

func TestDailyAnalyticsLagging(t *testing.T) {
	t.Parallel()
	// Given a projection that is not running
	a := newAnalyticsAPI(t, false, 100*time.Millisecond)
	a.create(uuid.New())

	// When a client waits for its write, or for one never made
	for _, q := range []string{"1", "1000000"} {
		r := a.do("GET", "/v1/analytics/daily?from=2026-03-01&to=2026-03-01&min_position="+q, nil)

		// Then it is told to retry
		r.wantProblem(t, http.StatusServiceUnavailable, app.ErrProjectionLagging.Code)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After: %v", r.Header)
		}
	}
	// And without min_position it gets the figures so far, with the lag
	r := a.do("GET", "/v1/analytics/daily?from=2026-03-01&to=2026-03-01", nil).want(t, http.StatusOK)
	var got analyticsJSON
	decodeStrict(t, r.Body, &got)
	if got.LagEvents != 1 || got.Position.Position != 0 || r.Header.Get("X-Projection-Lag-Events") != "1" {
		t.Errorf("lagging projection: %+v, headers %v", got, r.Header)
	}
}

func TestProjectionsStatus(t *testing.T) {
	t.Parallel()
	a := newAnalyticsAPI(t, true, 5*time.Second)
	o := a.create(uuid.New())
	a.addItem(o.ID, "1.00", 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := a.do("GET", "/v1/projections", nil).want(t, http.StatusOK)
		var got projectionsJSON
		decodeStrict(t, r.Body, &got)
		if len(got.Projections) != 3 {
			t.Fatalf("projections = %+v", got.Projections)
		}
		names := []string{got.Projections[0].Name, got.Projections[1].Name, got.Projections[2].Name}
		if !slices.Equal(names, []string{"order_details", "customer_orders", "analytics"}) {
			t.Fatalf("names = %v", names)
		}
		for _, p := range got.Projections[:2] {
			if p.Mode != "inline" || p.Position.Position != 2 || p.LagEvents != 0 || p.UpdatedAt != nil {
				t.Errorf("inline projection %+v", p)
			}
		}
		an := got.Projections[2]
		if an.Mode != "async" || an.UpdatedAt == nil {
			t.Errorf("analytics %+v", an)
		}
		if got.AnalyticsLockHeld && an.Position == got.Projections[0].Position && an.LagEvents == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the analytics projection never caught up: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
