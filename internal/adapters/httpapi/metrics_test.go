package httpapi

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/metrics"
	"github.com/rs/zerolog"
)

// observed is an Observe hook that remembers the requests it was told of.
type observed struct {
	mu   sync.Mutex
	seen []string
}

func (o *observed) observe(method, route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, method+" "+route+" "+http.StatusText(status))
}

func (o *observed) has(want string) bool { return o.count(want) > 0 }

// count tells how many requests were observed as want.
func (o *observed) count(want string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, s := range o.seen {
		if s == want {
			n++
		}
	}
	return n
}

// eventually retries cond for a while: a request is observed after its
// answer is written, so possibly just after the client has it.
func eventually(cond func() bool) bool {
	for range 100 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestMetricsCountRoutePatternsNotPaths(t *testing.T) {
	t.Parallel()
	mx, err := metrics.New(metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var obs observed
	a := newAPI(t, func(c *Config) {
		c.Observe = func(method, route string, status int, d time.Duration) {
			obs.observe(method, route, status, d)
			mx.ObserveRequest(method, route, status, d)
		}
		c.Metrics = mx.Handler()
	})

	// Given an order
	o := a.create(uuid.New())
	// When it is read by its path, and a path no route matches is asked for
	a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK)
	a.do("GET", "/v1/nothing/"+o.ID, nil).want(t, http.StatusNotFound)

	// Then the hook is told of the route patterns, "unmatched" for the 404
	for _, want := range []string{
		"POST /v1/orders Created",
		"GET /v1/orders/{order_id} OK",
		"GET unmatched Not Found",
	} {
		if !eventually(func() bool { return obs.has(want) }) {
			t.Errorf("not observed: %s", want)
		}
	}
	// And GET /metrics, checked against the spec, counts them so, never
	// by the raw path
	var body string
	scraped := eventually(func() bool {
		body = string(a.do("GET", "/metrics", nil).want(t, http.StatusOK).Body)
		return strings.Contains(body, `orderapi_http_requests_total{method="GET",route="/v1/orders/{order_id}",status="200"} 1`) &&
			strings.Contains(body, `orderapi_http_requests_total{method="GET",route="unmatched",status="404"} 1`) &&
			strings.Contains(body, `orderapi_http_requests_total{method="POST",route="/v1/orders",status="201"} 1`)
	})
	if !scraped {
		t.Errorf("metrics lack the requests:\n%s", body)
	}
	if strings.Contains(body, o.ID) || strings.Contains(body, "/v1/nothing") {
		t.Errorf("metrics name a raw path:\n%s", body)
	}
}

func TestMetricsRouteOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	// Given a server without a metrics handler (and no Observe hook)
	a := newAPI(t)
	// When /metrics is asked for (not through the spec client: the spec
	// documents the route the binary always serves)
	resp, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Then there is no such route, and other routes work without the hook
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics = %d, want 404", resp.StatusCode)
	}
	a.do("GET", "/healthz", nil).want(t, http.StatusOK)
}

// BenchmarkAccessLog is what the access log costs each request, without
// and with the metrics hook: the difference is the metrics' share.
func BenchmarkAccessLog(b *testing.B) {
	mx, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		observe func(method, route string, status int, d time.Duration)
	}{
		{"log", nil},
		{"log+metrics", mx.ObserveRequest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mux := chi.NewRouter()
			mux.Use(requestID(zerolog.New(io.Discard)), accessLog(bc.observe))
			mux.Method("GET", "/v1/orders/{order_id}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			}))
			req, err := http.NewRequest("GET", "/v1/orders/"+uuid.NewString(), nil)
			if err != nil {
				b.Fatal(err)
			}
			w := discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				mux.ServeHTTP(w, req)
			}
		})
	}
}

// discardWriter is a ResponseWriter that costs nothing, so that the
// benchmark measures the middleware alone.
type discardWriter struct{ header http.Header }

func (w discardWriter) Header() http.Header         { return w.header }
func (w discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w discardWriter) WriteHeader(int)             {}
