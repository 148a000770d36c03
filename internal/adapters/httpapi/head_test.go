package httpapi

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/metrics"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// TestHeadAnswersAsGet: HEAD on every GET route gets the status and
// headers GET gets, and no body; on the feed with Accept:
// text/event-stream it answers the live feed's headers at once, without
// opening a stream.
func TestHeadAnswersAsGet(t *testing.T) {
	t.Parallel()
	mx, err := metrics.New(metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var obs observed
	a := newAPI(t, func(c *Config) {
		c.Metrics = mx.Handler()
		c.Observe = obs.observe
	})
	// Given an order with some history
	o := a.create(uuid.New())
	a.addItem(o.ID, "2.50", 2)
	order := "/v1/orders/" + o.ID

	// varies marks answers whose body, and so its length, may change
	// from one request to the next (the runtime's figures, the
	// projections' lag, the feed's watermark).
	tests := []struct {
		path    string
		headers []string
		varies  bool
	}{
		{"/healthz", nil, false},
		{"/readyz", nil, false},
		{"/openapi.yaml", nil, false},
		{"/docs", nil, false},
		{"/docs/", nil, false},
		{"/docs/", []string{"If-None-Match", "*"}, false},
		{"/docs/swagger-ui-bundle.js", nil, false},
		{"/docs/favicon-32x32.png", nil, false},
		{"/docs/nothing.js", nil, false},
		{"/metrics", nil, true},
		{order, nil, false},
		{order + "?version=1", nil, false},
		{order, []string{"If-None-Match", `"2"`}, false},
		{order + "?version=9", nil, false},
		{"/v1/orders/" + uuid.NewString(), nil, false},
		{"/v1/orders/" + strings.ToUpper(o.ID), nil, false},
		{order + "/events?limit=1", nil, false},
		{"/v1/customers/" + o.CustomerID + "/orders", nil, false},
		{"/v1/customers/" + o.CustomerID + "/orders?limit=0", nil, false},
		{"/v1/events?limit=1", nil, true},
		{"/v1/analytics/daily?from=2025-01-01&to=2025-01-02", nil, true},
		{"/v1/analytics/daily?from=2025-01-01", nil, false},
		{"/v1/projections", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			// When the path is asked for with GET, then with HEAD
			get := a.do("GET", tt.path, nil, tt.headers...)
			head := a.do("HEAD", tt.path, nil, tt.headers...)
			// Then HEAD gets the same status and headers, and no body
			if head.Status != get.Status || len(head.Body) != 0 {
				t.Errorf("HEAD %d with %d bytes; GET %d", head.Status, len(head.Body), get.Status)
			}
			sameHeaders(t, get.Header, head.Header, tt.varies)
		})
	}

	t.Run("the live feed", func(t *testing.T) {
		// When the live feed is asked for with GET, then with HEAD
		before := obs.count("HEAD /v1/events OK")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		get := a.request(ctx, "GET", "/v1/events")
		defer get.Body.Close()
		start := time.Now()
		head := a.request(context.Background(), "HEAD", "/v1/events")
		body, err := io.ReadAll(head.Body)
		head.Body.Close()
		// Then HEAD has the stream's status and headers, ends at once and
		// streams nothing
		if err != nil || len(body) != 0 || time.Since(start) > 2*time.Second || head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %d, %d bytes, %v, after %s", head.StatusCode, len(body), err, time.Since(start))
		}
		sameHeaders(t, get.Header, head.Header, false)
		// And the server is done with it: no stream is left open
		if !eventually(func() bool { return obs.count("HEAD /v1/events OK") > before }) {
			t.Error("HEAD /v1/events is still being served")
		}
	})
}

// request asks for the live feed with the spec client, leaving the body
// unread.
func (a *testAPI) request(ctx context.Context, method, path string) *http.Response {
	a.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp
}

// sameHeaders compares two answers' headers but for those that differ from
// one answer to the next whatever the method, and the body's length when
// the body varies.
func sameHeaders(t *testing.T, get, head http.Header, varies bool) {
	t.Helper()
	own := []string{"Date", "X-Request-Id", "X-Projection-Lag-Seconds"}
	if varies {
		own = append(own, "Content-Length")
	}
	for _, h := range []http.Header{get, head} {
		for _, own := range own {
			if h.Get(own) != "" {
				h.Set(own, "-")
			}
		}
	}
	for name := range get {
		if !slices.Equal(get[name], head[name]) {
			t.Errorf("%s: GET %q, HEAD %q", name, get[name], head[name])
		}
	}
	for name := range head {
		if _, ok := get[name]; !ok {
			t.Errorf("%s: HEAD only, %q", name, head[name])
		}
	}
}

// TestRoutesAreTheSpecs: the router serves exactly the operations the
// spec documents, method for method, so that neither can gain a route the
// other lacks.
func TestRoutesAreTheSpecs(t *testing.T) {
	t.Parallel()
	svc, err := app.NewService(nopStore{}, nopStore{}, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewServer(svc, zerolog.Nop(), Config{Ready: func(context.Context) error { return nil }, Metrics: http.NotFoundHandler(), Cursors: testCursors, Fingerprints: testFingerprints, Auth: testAuthenticator,
		DevTokens: newDevKeyMinter(t)})
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	err = chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+specPath(route))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	// /docs and /docs/ are one operation.
	slices.Sort(served)
	served = slices.Compact(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Errorf("routes served:\n%s\noperations documented:\n%s", strings.Join(served, "\n"), strings.Join(documented, "\n"))
	}
}
