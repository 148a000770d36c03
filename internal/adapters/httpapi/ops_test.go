package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/api"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

func TestHealthReadinessAndSpec(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.do("GET", "/healthz", nil).want(t, http.StatusOK)
	a.do("GET", "/readyz", nil).want(t, http.StatusOK)
	r := a.do("GET", "/openapi.yaml", nil).want(t, http.StatusOK)
	if r.Header.Get("Content-Type") != "application/yaml" || !bytes.Equal(r.Body, api.OpenAPI) {
		t.Errorf("GET /openapi.yaml: %q, %d bytes", r.Header.Get("Content-Type"), len(r.Body))
	}

	down := newAPI(t, func(c *Config) {
		c.Ready = func(context.Context) error { return errors.New("database at db.internal:5432 unreachable") }
	})
	p := down.do("GET", "/readyz", nil).wantProblem(t, http.StatusServiceUnavailable, problem.CodeNotReady)
	if strings.Contains(p.Detail, "db.internal") {
		t.Errorf("readiness problem leaks the cause: %q", p.Detail)
	}
	down.do("GET", "/healthz", nil).want(t, http.StatusOK)

	// A reason that says it may be shown is shown
	readOnly := newAPI(t, func(c *Config) {
		c.Ready = func(context.Context) error { return fmt.Errorf("check: %w", publicReason("the database is read-only")) }
	})
	p = readOnly.do("GET", "/readyz", nil).wantProblem(t, http.StatusServiceUnavailable, problem.CodeNotReady)
	if !strings.HasSuffix(p.Detail, ": the database is read-only") {
		t.Errorf("readiness problem hides its public reason: %q", p.Detail)
	}
}

// publicReason is a readiness failure that may be shown to anyone.
type publicReason string

func (r publicReason) Error() string        { return string(r) }
func (r publicReason) PublicReason() string { return string(r) }

func TestTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	a := newAPI(t, func(c *Config) { c.RequestTimeout = time.Nanosecond })
	a.do("GET", "/v1/orders/"+uuid.NewString(), nil).wantProblem(t, http.StatusServiceUnavailable, problem.CodeUnavailable)
	a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).wantProblem(t, http.StatusServiceUnavailable, problem.CodeUnavailable)
}

func TestCORS(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())

	preflight := func(origin string, headers ...string) reply {
		asked := "authorization, content-type, if-match, idempotency-key"
		if len(headers) > 0 {
			asked = strings.Join(headers, ", ")
		}
		return a.preflight("/v1/orders/"+o.ID+"/items", origin, "POST", asked)
	}
	r := preflight(testOrigin).want(t, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != testOrigin ||
		r.Header.Get("Access-Control-Allow-Methods") != "POST" ||
		!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "if-match") ||
		!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") ||
		!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight headers: %v", r.Header)
	}
	if r = preflight("https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin allowed: %v", r.Header)
	}
	// X-Actor is not read, so a browser is not invited to send it.
	if r = preflight(testOrigin, "content-type", "x-actor"); r.Header.Get("Access-Control-Allow-Origin") != "" ||
		strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "x-actor") {
		t.Errorf("preflight for X-Actor allowed: %v", r.Header)
	}

	r = a.do("GET", "/v1/orders/"+o.ID, nil, "Origin", testOrigin).want(t, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != testOrigin {
		t.Errorf("actual request: %v", r.Header)
	}
	exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"etag", "location", "x-request-id", "x-event-position", "idempotent-replayed", "retry-after", "www-authenticate"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, h)
		}
	}
}

func TestAccessLogNamesTheRoutePattern(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	a.do("GET", "/v1/orders/"+o.ID, nil, "X-Request-Id", "log-test-1").want(t, http.StatusOK)
	var line map[string]any
	for _, l := range strings.Split(a.logs.String(), "\n") {
		if strings.Contains(l, `"log-test-1"`) {
			if line != nil {
				t.Fatalf("more than one log line for the request:\n%s", a.logs.String())
			}
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line == nil {
		t.Fatalf("no log line for the request:\n%s", a.logs.String())
	}
	if line["route"] != "/v1/orders/{order_id}" || line["method"] != "GET" || line["status"] != float64(200) ||
		line["request_id"] != "log-test-1" || line["bytes"] == nil || line["duration"] == nil {
		t.Errorf("log line = %v", line)
	}
	if strings.Contains(a.logs.String(), o.ID) {
		t.Errorf("the log holds the raw path:\n%s", a.logs.String())
	}
}
