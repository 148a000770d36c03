package httpapi

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
)

// TestDocsIsServedBesideTheAPI: the API reference answers at /docs and
// /docs/ without a token and outside the rate limits, with the API's
// security headers but a policy of its own; its files are answered with
// the API's policy; each answer matches the spec (the client checks).
func TestDocsIsServedBesideTheAPI(t *testing.T) {
	t.Parallel()
	// Given a server whose callers may send one read
	a := newAPI(t, func(c *Config) { c.ReadRate = ratelimit.Rate{Limit: 1, Per: time.Hour, Burst: 1} }).as("")

	for _, path := range []string{"/docs", "/docs/", "/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/favicon-32x32.png", "/docs/LICENSE"} {
		// When a browser without a token asks for the page and its files
		r := a.do("GET", path, nil).want(t, http.StatusOK)
		// Then each comes with the API's headers, no rate, and the page
		// with its own policy
		wantCSP := "default-src 'none'; frame-ancestors 'none'"
		if path == "/docs" || path == "/docs/" {
			wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
			if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" || !strings.Contains(string(r.Body), `<div id="swagger-ui">`) {
				t.Errorf("GET %s: %q, %d bytes", path, ct, len(r.Body))
			}
		}
		wantPageHeaders(t, path, r, map[string]string{"Content-Security-Policy": wantCSP})
		// And a browser revalidating its copy gets a 304
		a.do("GET", path, nil, "If-None-Match", r.Header.Get("ETag")).want(t, http.StatusNotModified)
	}

	// When a file the page does not have is asked for, or a path below
	// it, Then it is not found, as any path of the API
	a.do("GET", "/docs/swagger-ui-bundle.js.map", nil).wantProblem(t, http.StatusNotFound, problem.CodeRouteNotFound)
	a.do("HEAD", "/docs/oauth2-redirect.html", nil).want(t, http.StatusNotFound)
	a.do("GET", "/docs/swagger-ui/swagger-ui.css", nil).wantProblem(t, http.StatusNotFound, problem.CodeRouteNotFound)
	// When another method is sent, Then GET and HEAD are named
	for _, path := range []string{"/docs", "/docs/init.js"} {
		r := a.do("POST", path, "x", "Content-Type", "text/plain")
		r.wantProblem(t, http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed)
		if got := r.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("POST %s: Allow %q", path, got)
		}
	}
}

// wantPageHeaders fails unless r, the answer to GET path of a page for
// browsers or one of its files, has the API's security headers, is
// revalidated before reuse, is outside the rate limits, and has the
// headers of want.
func wantPageHeaders(t *testing.T, path string, r reply, want map[string]string) {
	t.Helper()
	all := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-cache",
	}
	maps.Copy(all, want)
	for name, v := range all {
		if got := r.Header.Values(name); len(got) != 1 || got[0] != v {
			t.Errorf("GET %s: %s %q, want %q", path, name, got, v)
		}
	}
	if got := r.Header.Get("RateLimit-Policy"); got != "" {
		t.Errorf("GET %s: RateLimit-Policy %q", path, got)
	}
}
