package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
)

// TestSecurityHeadersOnEveryAnswer: whatever the answer (a document, a
// creation, a problem, a route or method that does not exist, a HEAD, a
// refusal over the rate, an operational route), browsers are told not to
// sniff, frame, load from or refer from it; every /v1 answer is kept out
// of every cache but an order at a version, which its caller alone may
// keep.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	// Three commands, the fourth refused: the answers below send three to
	// routes (a method a path does not take reaches none, and is not
	// counted).
	a := newAPI(t, withMetrics, func(c *Config) {
		c.CommandRate, c.ReadRate = ratelimit.Rate{Limit: 1, Per: time.Minute, Burst: 3}, manyRequestsRate
	})
	o := a.create(uuid.New())
	order := "/v1/orders/" + o.ID
	answers := []struct {
		name  string
		r     reply
		cache string // the Cache-Control wanted; "" for no opinion
	}{
		{"an order", a.do("GET", order, nil).want(t, http.StatusOK), "no-store"},
		{"its headers", a.do("HEAD", order, nil).want(t, http.StatusOK), "no-store"},
		{"an order at a version", a.do("GET", order+"?version=1", nil).want(t, http.StatusOK), immutable},
		{"its 304", a.do("GET", order+"?version=1", nil, "If-None-Match", `"1"`).want(t, http.StatusNotModified), immutable},
		{"the current order's 304", a.do("GET", order, nil, "If-None-Match", `"1"`).want(t, http.StatusNotModified), "no-store"},
		{"a creation", a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).want(t, http.StatusCreated), "no-store"},
		{"an order not found", a.do("GET", "/v1/orders/"+uuid.NewString(), nil).want(t, http.StatusNotFound), "no-store"},
		{"a problem", a.do("POST", order+"/place", "x", "Content-Type", "text/plain").want(t, http.StatusUnsupportedMediaType), "no-store"},
		{"a path under /v1 that does not exist", a.do("GET", "/v1/nothing", nil).want(t, http.StatusNotFound), "no-store"},
		{"a path that does not exist", a.do("GET", "/nothing", nil).want(t, http.StatusNotFound), "no-store"},
		{"a method not allowed", a.do("DELETE", order, nil).want(t, http.StatusMethodNotAllowed), "no-store"},
		{"a refusal over the rate", a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).want(t, http.StatusTooManyRequests), "no-store"},
		{"health", a.do("GET", "/healthz", nil).want(t, http.StatusOK), ""},
		{"the spec", a.do("GET", "/openapi.yaml", nil).want(t, http.StatusOK), ""},
		{"metrics", a.do("GET", "/metrics", nil).want(t, http.StatusOK), ""},
	}
	for _, ans := range answers {
		for name, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := ans.r.Header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s %q, want %q", ans.name, name, got, want)
			}
		}
		if got := ans.r.Header.Values("Cache-Control"); ans.cache != "" && (len(got) != 1 || got[0] != ans.cache) {
			t.Errorf("%s: Cache-Control %q, want %q", ans.name, got, ans.cache)
		}
	}
	// A version may be kept by a browser, never for another token.
	if vary := a.do("GET", order+"?version=1", nil, "Origin", testOrigin).want(t, http.StatusOK).Header.Values("Vary"); !strings.Contains(strings.Join(vary, ","), "Authorization") ||
		!strings.Contains(strings.Join(vary, ","), "Origin") {
		t.Errorf("an order at a version varies by %q, want Authorization and Origin", vary)
	}
	if !strings.HasPrefix(immutable, "private,") {
		t.Errorf("an order at a version is cached as %q: a shared cache could hand it to another caller", immutable)
	}
}

// TestCORSAllowsBearerTokensFromTheConfiguredOrigins: a frontend of a
// configured origin may send its token and read the rate headers; another
// origin is allowed nothing.
func TestCORSAllowsBearerTokensFromTheConfiguredOrigins(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	preflight := func(origin string) reply {
		return a.preflight("/v1/orders", origin, "POST", "authorization, content-type")
	}
	r := preflight(testOrigin).want(t, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != testOrigin ||
		!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight from %s: %v", testOrigin, r.Header)
	}
	if r := preflight("https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight from a foreign origin allowed: %v", r.Header)
	}
	r = a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}, "Origin", testOrigin).want(t, http.StatusCreated)
	exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"ratelimit", "ratelimit-policy", "retry-after"} {
		if !strings.Contains(","+strings.ReplaceAll(exposed, " ", "")+",", ","+h+",") {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, h)
		}
	}
}

// preflight asks, as a browser does before a cross-origin request, whether
// origin may send method to path with the request headers named.
func (a *testAPI) preflight(path, origin, method, headers string) reply {
	a.t.Helper()
	req, err := http.NewRequest("OPTIONS", a.url+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", headers)
	return a.send(req)
}

// TestCORSOriginsAreExact: an origin with a * in it is refused at start,
// since the CORS handler would take it as a pattern ("https://*" is every
// site); exact origins are taken.
func TestCORSOriginsAreExact(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"*", "https://*", "https://shop.*", "https://*.shop.example", "http://localhost:*"} {
		if err := checkOrigin(o); err == nil {
			t.Errorf("checkOrigin(%q) took a pattern", o)
		}
	}
	for _, o := range []string{"https://shop.example", "http://localhost:5173"} {
		if err := checkOrigin(o); err != nil {
			t.Errorf("checkOrigin(%q) = %v", o, err)
		}
	}
}
