package metrics

import (
	"context"
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newMetrics(t *testing.T, cfg Config) *Metrics {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRequestsByRouteAndStatus(t *testing.T) {
	t.Parallel()
	// Given fresh metrics
	m := newMetrics(t, Config{})

	// When requests are observed
	m.ObserveRequest("GET", "/v1/orders/{order_id}", 200, 2*time.Millisecond)
	m.ObserveRequest("GET", "/v1/orders/{order_id}", 200, 40*time.Millisecond)
	m.ObserveRequest("GET", "/v1/orders/{order_id}", 404, time.Millisecond)
	m.ObserveRequest("POST", "/v1/orders", 201, 3*time.Millisecond)
	m.ObserveRequest("BREW", "unmatched", 405, time.Millisecond)

	// Then each method, route and status has its count and latency
	f := scrape(t, m)
	for _, c := range []struct {
		method, route, status string
		count                 float64
		sum                   time.Duration
	}{
		{"GET", "/v1/orders/{order_id}", "200", 2, 42 * time.Millisecond},
		{"GET", "/v1/orders/{order_id}", "404", 1, time.Millisecond},
		{"POST", "/v1/orders", "201", 1, 3 * time.Millisecond},
		// An invented method is folded into "other".
		{"other", "unmatched", "405", 1, time.Millisecond},
	} {
		labels := []string{"method", c.method, "route", c.route, "status", c.status}
		if got := f.value(t, "orderapi_http_requests_total", labels...); got != c.count {
			t.Errorf("requests %v = %v, want %v", labels, got, c.count)
		}
		h := f.metric("orderapi_http_request_duration_seconds", labels...)
		if h == nil {
			t.Fatalf("no latency for %v", labels)
		}
		if got := float64(h.Histogram.GetSampleCount()); got != c.count {
			t.Errorf("latency count %v = %v, want %v", labels, got, c.count)
		}
		if got := h.Histogram.GetSampleSum(); math.Abs(got-c.sum.Seconds()) > 1e-9 {
			t.Errorf("latency sum %v = %v, want %v", labels, got, c.sum.Seconds())
		}
	}
	if n := len(f["orderapi_http_requests_total"].Metric); n != 4 {
		t.Errorf("%d request series, want 4", n)
	}
}

func TestCommandsAndEvents(t *testing.T) {
	t.Parallel()
	// Given fresh metrics, used as the service's observer
	m := newMetrics(t, Config{})
	var obs app.Observer = m

	// When commands end in several ways and events are appended
	obs.CommandDone("add_item", app.OutcomeOK, 0)
	obs.CommandDone("add_item", app.OutcomeOK, 2)
	obs.CommandDone("add_item", app.OutcomeConflict, 9)
	obs.CommandDone("place_order", app.OutcomeRejected, 0)
	obs.EventsAppended([]app.NewEvent{{Event: order.ItemAdded{}}, {Event: order.ItemAdded{}}, {Event: order.Placed{}}})
	// and their states come from the cache twice, from the store once
	obs.StateUsed(app.StateCached)
	obs.StateUsed(app.StateCached)
	obs.StateUsed(app.StateLoaded)

	// Then outcomes, retries, events and state sources are counted; event
	// types and sources not seen yet are shown at zero
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	want := `
# HELP orderapi_commands_total Commands finished, by command and outcome (ok, replayed, rejected, invalid, not_found, precondition_failed, conflict, error).
# TYPE orderapi_commands_total counter
orderapi_commands_total{command="add_item",outcome="conflict"} 1
orderapi_commands_total{command="add_item",outcome="ok"} 2
orderapi_commands_total{command="place_order",outcome="rejected"} 1
# HELP orderapi_command_retries_total Commands retried on fresh state after another writer changed the order first, by command.
# TYPE orderapi_command_retries_total counter
orderapi_command_retries_total{command="add_item"} 11
orderapi_command_retries_total{command="place_order"} 0
# HELP orderapi_events_appended_total Events committed to the event store, by event type.
# TYPE orderapi_events_appended_total counter
orderapi_events_appended_total{type="OrderCancelled"} 0
orderapi_events_appended_total{type="OrderCreated"} 0
orderapi_events_appended_total{type="OrderItemAdded"} 2
orderapi_events_appended_total{type="OrderItemRemoved"} 0
orderapi_events_appended_total{type="OrderDelivered"} 0
orderapi_events_appended_total{type="OrderPlaced"} 1
orderapi_events_appended_total{type="OrderShipped"} 0
# HELP orderapi_command_states_total Where command attempts found their order's state: cache (kept from this process's last command on it), store (loaded), stale (a kept state found behind, then loaded).
# TYPE orderapi_command_states_total counter
orderapi_command_states_total{source="cache"} 2
orderapi_command_states_total{source="stale"} 0
orderapi_command_states_total{source="store"} 1
`
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(want),
		"orderapi_commands_total", "orderapi_command_retries_total", "orderapi_events_appended_total",
		"orderapi_command_states_total"); err != nil {
		t.Error(err)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	// Given a store whose snapshot counters have moved
	counts := SnapshotCounts{Hits: 40, Misses: 3, Written: 12, Dropped: 2, Failed: 1, Folded: 900}
	m := newMetrics(t, Config{Snapshots: func() SnapshotCounts { return counts }})

	// When scraped, then they are read as they are then
	counts.Hits++
	f := scrape(t, m)
	for name, want := range map[string]float64{
		"orderapi_snapshot_hits_total":          41,
		"orderapi_snapshot_misses_total":        3,
		"orderapi_snapshots_written_total":      12,
		"orderapi_snapshots_dropped_total":      2,
		"orderapi_snapshots_failed_total":       1,
		"orderapi_snapshot_events_folded_total": 900,
	} {
		if got := f.value(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	// Given a pool with one connection in use
	pool := pgtest.New(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	m := newMetrics(t, Config{Pool: pool})

	// When scraped, then the pool's figures are those of the moment
	f := scrape(t, m)
	for name, want := range map[string]float64{
		"orderapi_db_pool_acquired_conns": 1,
		"orderapi_db_pool_max_conns":      float64(pool.Config().MaxConns),
		"orderapi_db_pool_acquires_total": float64(pool.Stat().AcquireCount()),
	} {
		if got := f.value(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := f.value(t, "orderapi_db_pool_total_conns"); got < 1 {
		t.Errorf("total conns = %v, want at least the acquired one", got)
	}
	for _, name := range []string{"orderapi_db_pool_idle_conns", "orderapi_db_pool_acquire_seconds_total",
		"orderapi_db_pool_empty_acquires_total", "orderapi_db_pool_empty_acquire_wait_seconds_total",
		"orderapi_db_pool_canceled_acquires_total", "orderapi_db_pool_new_conns_total"} {
		f.value(t, name)
	}
}

type fakeProjections func(ctx context.Context) (app.ProjectionsReport, error)

func (f fakeProjections) Projections(ctx context.Context) (app.ProjectionsReport, error) {
	return f(ctx)
}

func TestProjectionLag(t *testing.T) {
	t.Parallel()
	report := app.ProjectionsReport{Projections: []app.ProjectionStatus{
		{Name: app.ProjectionOrderDetails, Inline: true},
		{Name: app.ProjectionAnalytics, LagEvents: 7, Lag: 2500 * time.Millisecond},
	}}

	t.Run("read at scrape time", func(t *testing.T) {
		t.Parallel()
		m := newMetrics(t, Config{Projections: fakeProjections(func(context.Context) (app.ProjectionsReport, error) {
			return report, nil
		})})
		f := scrape(t, m)
		for _, c := range []struct {
			name, projection string
			want             float64
		}{
			{"orderapi_projection_lag_events", "analytics", 7},
			{"orderapi_projection_lag_seconds", "analytics", 2.5},
			{"orderapi_projection_lag_events", "order_details", 0},
			{"orderapi_projection_lag_seconds", "order_details", 0},
		} {
			if got := f.value(t, c.name, "projection", c.projection); got != c.want {
				t.Errorf("%s{%s} = %v, want %v", c.name, c.projection, got, c.want)
			}
		}
		if got := f.value(t, "orderapi_projection_status_failures_total"); got != 0 {
			t.Errorf("failures = %v", got)
		}
	})

	t.Run("a failing read is counted and the scrape goes on", func(t *testing.T) {
		t.Parallel()
		m := newMetrics(t, Config{Projections: fakeProjections(func(context.Context) (app.ProjectionsReport, error) {
			return app.ProjectionsReport{}, errors.New("database unreachable")
		})})
		scrape(t, m)
		f := scrape(t, m)
		if f["orderapi_projection_lag_events"] != nil || f["orderapi_projection_lag_seconds"] != nil {
			t.Error("lag shown although it could not be read")
		}
		if got := f.value(t, "orderapi_projection_status_failures_total"); got != 2 {
			t.Errorf("failures = %v, want 2", got)
		}
		if f["go_goroutines"] == nil || f["orderapi_events_appended_total"] == nil {
			t.Error("the other metrics are missing")
		}
	})

	t.Run("a stalled read gives up after the timeout", func(t *testing.T) {
		t.Parallel()
		m := newMetrics(t, Config{
			ProjectionsTimeout: 50 * time.Millisecond,
			Projections: fakeProjections(func(ctx context.Context) (app.ProjectionsReport, error) {
				<-ctx.Done()
				return app.ProjectionsReport{}, ctx.Err()
			}),
		})
		start := time.Now()
		f := scrape(t, m)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("scrape took %s", d)
		}
		if got := f.value(t, "orderapi_projection_status_failures_total"); got != 1 {
			t.Errorf("failures = %v, want 1", got)
		}
	})
}

func TestUnsetSourcesAreLeftOut(t *testing.T) {
	t.Parallel()
	f := scrape(t, newMetrics(t, Config{}))
	for name := range f {
		for _, prefix := range []string{"orderapi_db_pool_", "orderapi_snapshot", "orderapi_projection_"} {
			if strings.HasPrefix(name, prefix) {
				t.Errorf("%s shown without its source", name)
			}
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total"} {
		if f[name] == nil {
			t.Errorf("runtime or process metric %s missing", name)
		}
	}
}

func TestNewRejectsNegativeTimeout(t *testing.T) {
	if _, err := New(Config{ProjectionsTimeout: -time.Second}); err == nil {
		t.Error("New accepted a negative ProjectionsTimeout")
	}
}

// BenchmarkObserveRequest is the metrics' share of every request's cost,
// many requests at once as in a server.
func BenchmarkObserveRequest(b *testing.B) {
	m, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("GET", "/v1/orders/{order_id}", 200, 3*time.Millisecond)
		}
	})
}
