package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestMetrics count HTTP requests. Each request looks its series up in
// a map of its own rather than through the vectors, which would hash the
// labels and allocate on every request.
type requestMetrics struct {
	count    *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu     sync.RWMutex
	series map[requestKey]requestSeries
}

type requestKey struct {
	method, route string
	status        int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

func newRequestMetrics() *requestMetrics {
	labels := []string{"method", "route", "status"}
	return &requestMetrics{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help: "Time from a request's arrival to the end of its answer, by method, route pattern and status code.",
			// Reads from the projections take about a millisecond.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		series: make(map[requestKey]requestSeries),
	}
}

// ObserveRequest counts one answered request. route must be one of a
// fixed set, such as the router's patterns, never a raw path: every
// distinct value is a series kept for the life of the process.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	s := m.requests.seriesFor(requestKey{method: methodLabel(method), route: route, status: status})
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

func (r *requestMetrics) seriesFor(k requestKey) requestSeries {
	r.mu.RLock()
	s, ok := r.series[k]
	r.mu.RUnlock()
	if ok {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.series[k]; ok {
		return s
	}
	status := strconv.Itoa(k.status)
	s = requestSeries{
		count:    r.count.WithLabelValues(k.method, k.route, status),
		duration: r.duration.WithLabelValues(k.method, k.route, status),
	}
	r.series[k] = s
	return s
}

// methodLabel keeps the standard methods and folds any other a client
// invents into one label, so that clients cannot add series at will.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}
