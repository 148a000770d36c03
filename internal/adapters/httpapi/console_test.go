package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/app"
)

// devKeyMinter signs with a development key of its own, as the service in
// development mode does; key verifies what it signs.
type devKeyMinter struct{ key *jwtauth.DevKey }

func newDevKeyMinter(t *testing.T) devKeyMinter {
	t.Helper()
	key, err := jwtauth.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	return devKeyMinter{key: key}
}

func (m devKeyMinter) MintDevToken(roles []string, subject string, ttl time.Duration) (string, error) {
	return m.key.Mint(jwtauth.DevToken{Subject: subject, Roles: roles, TTL: ttl}, time.Now())
}

// verify is the principal a service with m's key reads from token.
func (m devKeyMinter) verify(t *testing.T, token string) app.Principal {
	t.Helper()
	v, err := jwtauth.New(jwtauth.Config{JWKS: m.key.JWKS(), Issuer: jwtauth.DevIssuer, Audience: jwtauth.DevAudience})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("the minted token is refused: %v", err)
	}
	return p
}

const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// TestConsoleIsServedBesideTheAPI: the console answers at /console and
// /console/ without a token and outside the rate limits, with the API's
// security headers but a policy of its own; its files with the API's
// policy and their media types; HEAD as GET; other names and methods as
// anywhere in the API. Each answer matches the spec (the client checks).
func TestConsoleIsServedBesideTheAPI(t *testing.T) {
	t.Parallel()
	// Given a server whose callers may send one read
	a := newAPI(t, func(c *Config) { c.ReadRate = ratelimit.Rate{Limit: 1, Per: time.Hour, Burst: 1} }).as("")

	for path, contentType := range map[string]string{
		"/console":             "text/html; charset=utf-8",
		"/console/":            "text/html; charset=utf-8",
		"/console/app.js":      "text/javascript; charset=utf-8",
		"/console/stream.js":   "text/javascript; charset=utf-8",
		"/console/console.css": "text/css; charset=utf-8",
		"/console/icon.svg":    "image/svg+xml",
	} {
		// When a browser without a token asks for the page and its files
		r := a.do("GET", path, nil).want(t, http.StatusOK)
		// Then each comes with its media type, the API's headers, no
		// rate, and the page with its own policy
		wantCSP := "default-src 'none'; frame-ancestors 'none'"
		if !strings.Contains(strings.TrimPrefix(path, "/console/"), ".") {
			wantCSP = consoleCSP
			if !strings.Contains(string(r.Body), `<script src="/console/app.js" type="module">`) {
				t.Errorf("GET %s: not the console: %d bytes", path, len(r.Body))
			}
		}
		wantPageHeaders(t, path, r, map[string]string{"Content-Type": contentType, "Content-Security-Policy": wantCSP})
		// And HEAD answers as GET, without the body
		head := a.do("HEAD", path, nil).want(t, http.StatusOK)
		for _, name := range []string{"Content-Type", "Content-Length", "Content-Security-Policy", "ETag"} {
			if head.Header.Get(name) != r.Header.Get(name) || len(head.Body) != 0 {
				t.Errorf("HEAD %s: %s %q, GET's %q; %d bytes", path, name, head.Header.Get(name), r.Header.Get(name), len(head.Body))
			}
		}
		// And a browser revalidating its copy gets a 304
		a.do("GET", path, nil, "If-None-Match", r.Header.Get("ETag")).want(t, http.StatusNotModified)
	}

	// When a file the console does not have is asked for, or a path below
	// it, or the docs' files, Then it is not found, as any path of the API
	for _, path := range []string{"/console/index.html", "/console/init.js", "/console/app.js.map", "/console/dev", "/console/console/app.js"} {
		a.do("GET", path, nil).wantProblem(t, http.StatusNotFound, problem.CodeRouteNotFound)
	}
	a.do("HEAD", "/console/index.html", nil).want(t, http.StatusNotFound)
	// When another method is sent, Then GET and HEAD are named
	for _, path := range []string{"/console", "/console/app.js", "/console/config"} {
		r := a.do("POST", path, map[string]any{})
		r.wantProblem(t, http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed)
		if got := r.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("POST %s: Allow %q", path, got)
		}
	}
}

// TestDevTokensDoNotExistOutsideDevelopmentMode: without a minter, as in
// production, POST /console/dev/token is a path like any the API does
// not have, whatever it is sent, and the console is told to offer no
// role picker.
func TestDevTokensDoNotExistOutsideDevelopmentMode(t *testing.T) {
	t.Parallel()
	// Given a server outside development mode
	a := newAPI(t).as("")

	// When a token is asked for, Then there is no such path
	unknown := a.do("POST", "/console/nothing/here", map[string]any{"roles": []string{"staff"}}).wantProblem(t, http.StatusNotFound, problem.CodeRouteNotFound)
	for _, body := range []any{map[string]any{"roles": []string{"staff"}}, "roles=staff", nil} {
		r := a.do("POST", "/console/dev/token", body)
		if p := r.wantProblem(t, http.StatusNotFound, problem.CodeRouteNotFound); p.Detail != unknown.Detail {
			t.Errorf("POST /console/dev/token (%v): %q, an unknown path's %q", body, p.Detail, unknown.Detail)
		}
	}
	a.do("GET", "/console/dev/token", nil).wantProblem(t, http.StatusNotFound, problem.CodeRouteNotFound)

	// And the console's configuration says so
	if got := consoleConfig(t, a); got.DevTokens {
		t.Errorf("GET /console/config = %+v outside development mode", got)
	}
}

func consoleConfig(t *testing.T, a *testAPI) consoleConfigJSON {
	t.Helper()
	r := a.do("GET", "/console/config", nil).want(t, http.StatusOK)
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("GET /console/config: Cache-Control %q", got)
	}
	var c consoleConfigJSON
	decodeStrict(t, r.Body, &c)
	return c
}

// TestDevTokenIsAVerifiedToken: in development mode, a browser on this
// machine gets a token that the development key verifies, with the roles
// and subject it asked for, for an hour unless it asks for less.
func TestDevTokenIsAVerifiedToken(t *testing.T) {
	t.Parallel()
	// Given a server in development mode (the test's client is on loopback)
	mint := newDevKeyMinter(t)
	a := newAPI(t, func(c *Config) { c.DevTokens = mint }).as("")
	if got := consoleConfig(t, a); !got.DevTokens {
		t.Errorf("GET /console/config = %+v in development mode, from loopback", got)
	}
	customer := uuid.New()
	for _, tt := range []struct {
		body map[string]any
		want app.Principal
		ttl  time.Duration
	}{
		{map[string]any{"roles": []string{"staff"}, "subject": "support-7"}, app.Principal{Subject: "support-7", Roles: app.RolesOf(app.RoleStaff)}, time.Hour},
		{map[string]any{"roles": []string{"customer"}, "subject": customer.String(), "ttl_seconds": 60},
			app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer), CustomerID: customer}, time.Minute},
		{map[string]any{"roles": []string{"staff", "service"}, "subject": "ops", "ttl_seconds": 86400},
			app.Principal{Subject: "ops", Roles: app.RolesOf(app.RoleStaff, app.RoleService)}, 24 * time.Hour},
	} {
		// When it asks for one
		before := time.Now().Truncate(time.Second)
		r := a.do("POST", "/console/dev/token", tt.body).want(t, http.StatusOK)

		// Then the token verifies, naming whom it asked for
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		var answer devTokenJSON
		decodeStrict(t, r.Body, &answer)
		p := mint.verify(t, answer.Token)
		if p.Subject != tt.want.Subject || p.Roles != tt.want.Roles || p.CustomerID != tt.want.CustomerID {
			t.Errorf("%v: %+v, want %+v", tt.body, p, tt.want)
		}
		if life := p.Expires.Sub(before); life < tt.ttl || life > tt.ttl+2*time.Second {
			t.Errorf("%v: valid for %s, want %s", tt.body, life, tt.ttl)
		}
	}
}

// TestDevTokenRefusesBadRequests: what `orderapi token` would not sign,
// and a body that is not the request, are 4xx problems, and no token.
func TestDevTokenRefusesBadRequests(t *testing.T) {
	t.Parallel()
	a := newAPI(t, func(c *Config) { c.DevTokens = newDevKeyMinter(t) }).as("")
	for _, tt := range []struct {
		name    string
		body    any
		headers []string
		status  int
		code    string
		field   string
	}{
		{"not JSON", "roles=staff", nil, http.StatusBadRequest, problem.CodeMalformedJSON, ""},
		{"sent as a form", "roles=staff", []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, problem.CodeUnsupportedMedia, ""},
		{"sent as text", `{"roles":["staff"]}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, problem.CodeUnsupportedMedia, ""},
		{"an unknown field", map[string]any{"roles": []string{"staff"}, "admin": true}, nil, http.StatusBadRequest, problem.CodeUnknownField, ""},
		{"roles not a list", map[string]any{"roles": "staff"}, nil, http.StatusBadRequest, problem.CodeWrongType, ""},
		{"no roles", map[string]any{"subject": "x"}, nil, http.StatusUnprocessableEntity, "validation_failed", "roles"},
		{"an empty list of roles", map[string]any{"roles": []string{}}, nil, http.StatusUnprocessableEntity, "validation_failed", "roles"},
		{"an unknown role", map[string]any{"roles": []string{"admin"}, "subject": "x"}, nil, http.StatusUnprocessableEntity, "validation_failed", "roles"},
		{"a customer without an id", map[string]any{"roles": []string{"customer"}}, nil, http.StatusUnprocessableEntity, "validation_failed", "subject"},
		{"a customer not a UUID", map[string]any{"roles": []string{"customer"}, "subject": "alice"}, nil, http.StatusUnprocessableEntity, "validation_failed", "subject"},
		{"a customer in upper case", map[string]any{"roles": []string{"customer"}, "subject": strings.ToUpper(uuid.NewString())}, nil, http.StatusUnprocessableEntity, "validation_failed", "subject"},
		{"a subject with a control character", map[string]any{"roles": []string{"staff"}, "subject": "a\tb"}, nil, http.StatusUnprocessableEntity, "validation_failed", "subject"},
		{"a subject too long", map[string]any{"roles": []string{"staff"}, "subject": strings.Repeat("s", 101)}, nil, http.StatusUnprocessableEntity, "validation_failed", "subject"},
		{"a lifetime of none", map[string]any{"roles": []string{"staff"}, "ttl_seconds": 0}, nil, http.StatusUnprocessableEntity, "validation_failed", "ttl_seconds"},
		{"a lifetime over a day", map[string]any{"roles": []string{"staff"}, "ttl_seconds": 86401}, nil, http.StatusUnprocessableEntity, "validation_failed", "ttl_seconds"},
		{"a lifetime beyond counting", map[string]any{"roles": []string{"staff"}, "ttl_seconds": int64(1) << 62}, nil, http.StatusUnprocessableEntity, "validation_failed", "ttl_seconds"},
		{"a lifetime below", map[string]any{"roles": []string{"staff"}, "ttl_seconds": -(int64(1) << 62)}, nil, http.StatusUnprocessableEntity, "validation_failed", "ttl_seconds"},
	} {
		// When it is sent, Then it is refused, naming the field
		p := a.do("POST", "/console/dev/token", tt.body, tt.headers...).wantProblem(t, tt.status, tt.code)
		if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
			t.Errorf("%s: errors %+v, want one naming %s", tt.name, p.Errors, tt.field)
		}
	}
}

// TestDevTokensOnlyForThisMachine: even in development mode, a request
// from another address, for a name that is not this machine's (DNS
// rebinding), or relayed by a proxy, finds no such path, and the console
// is told to offer no role picker; loopback, in IPv4 and IPv6, is served.
func TestDevTokensOnlyForThisMachine(t *testing.T) {
	t.Parallel()
	mint := newDevKeyMinter(t)
	issue, config := handleDevToken(mint), handleConsoleConfig(mint)
	for _, tt := range []struct {
		name, remote, host string
		headers            []string
		served             bool
	}{
		{"IPv4 loopback", "127.0.0.1:50000", "127.0.0.1:8080", nil, true},
		{"anywhere in 127/8", "127.8.9.10:50000", "localhost:8080", nil, true},
		{"IPv6 loopback", "[::1]:50000", "[::1]:8080", nil, true},
		{"IPv4 loopback in IPv6", "[::ffff:127.0.0.1]:50000", "localhost", nil, true},
		{"a name under .localhost", "127.0.0.1:50000", "console.localhost:8080", nil, true},
		{"another machine", "192.0.2.7:50000", "127.0.0.1:8080", nil, false},
		{"another machine over IPv6", "[2001:db8::7]:50000", "localhost:8080", nil, false},
		{"this machine's LAN address", "10.0.0.5:50000", "10.0.0.5:8080", nil, false},
		{"any address", "0.0.0.0:50000", "localhost:8080", nil, false},
		{"no address", "", "localhost:8080", nil, false},
		{"another site's name pointed at loopback", "127.0.0.1:50000", "attacker.example:8080", nil, false},
		{"a name that only starts like localhost", "127.0.0.1:50000", "localhost.attacker.example", nil, false},
		{"relayed, Forwarded", "127.0.0.1:50000", "localhost:8080", []string{"Forwarded", "for=192.0.2.7"}, false},
		{"relayed, X-Forwarded-For", "127.0.0.1:50000", "localhost:8080", []string{"X-Forwarded-For", "192.0.2.7"}, false},
		{"relayed, X-Real-IP", "127.0.0.1:50000", "localhost:8080", []string{"X-Real-IP", "192.0.2.7"}, false},
	} {
		// Given a request from that address, for that host
		req := httptest.NewRequest("POST", "/console/dev/token", strings.NewReader(`{"roles":["staff"],"subject":"dev-staff"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr, req.Host = tt.remote, tt.host
		for i := 0; i+1 < len(tt.headers); i += 2 {
			req.Header.Set(tt.headers[i], tt.headers[i+1])
		}
		// When a token is asked for
		w := httptest.NewRecorder()
		issue.ServeHTTP(w, req)
		// Then only this machine gets one; anyone else a 404 as at a path
		// that does not exist
		var answer struct{ Token, Code, Detail string }
		_ = json.Unmarshal(w.Body.Bytes(), &answer)
		switch {
		case tt.served && (w.Code != http.StatusOK || answer.Token == ""):
			t.Errorf("%s: %d %s, want a token", tt.name, w.Code, w.Body)
		case !tt.served && (w.Code != http.StatusNotFound || answer.Token != "" || answer.Code != problem.CodeRouteNotFound ||
			!strings.Contains(answer.Detail, "there is no resource at this path")):
			t.Errorf("%s: %d %s, want a 404 as at an unknown path", tt.name, w.Code, w.Body)
		}
		// And the console's configuration says the same
		w = httptest.NewRecorder()
		config.ServeHTTP(w, req.Clone(context.Background()))
		var c consoleConfigJSON
		if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != http.StatusOK || c.DevTokens != tt.served {
			t.Errorf("%s: config %d %s, want dev_tokens %v", tt.name, w.Code, w.Body, tt.served)
		}
	}
}

// TestDevTokenLifetimeIsTheSpecs: the spec's longest ttl_seconds is the
// development key's longest lifetime.
func TestDevTokenLifetimeIsTheSpecs(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	ttl := doc.Components.Schemas["DevTokenRequest"].Value.Properties["ttl_seconds"].Value
	if ttl.Max == nil || *ttl.Max != jwtauth.MaxDevTTL.Seconds() || ttl.Default != devTokenTTL.Seconds() {
		t.Errorf("the spec's ttl_seconds: at most %v, default %v; want %v and %v", ttl.Max, ttl.Default, jwtauth.MaxDevTTL.Seconds(), devTokenTTL.Seconds())
	}
}
