package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// BenchmarkServerOverhead is what the whole middleware chain and router
// add to a request: GET /healthz through NewServer, against the same
// handler alone. No database is involved.
func BenchmarkServerOverhead(b *testing.B) {
	svc, err := app.NewService(nopStore{}, nopStore{}, app.Config{})
	if err != nil {
		b.Fatal(err)
	}
	full, err := NewServer(svc, zerolog.New(io.Discard), Config{
		Ready:   func(context.Context) error { return nil },
		Observe: func(string, string, int, time.Duration) {},
		Cursors: testCursors, Fingerprints: testFingerprints,
		Auth: testAuthenticator,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", handleHealth()}, {"server", full}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/healthz", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// nopStore satisfies the service's stores; /healthz never calls them.
type nopStore struct {
	app.EventStore
	app.ReadModel
}

// BenchmarkAccessControl is what a /v1 route pays for knowing its caller
// before its handler runs: the bearer token verified (found in the
// verifier's cache, as every request after a token's first is), the
// caller's rate counted, its roles checked. The handler does nothing, so
// that the difference between "open" and "guarded" is that cost alone.
func BenchmarkAccessControl(b *testing.B) {
	keys := jwtauthtest.New(b)
	token := keys.Staff(b)
	// Rates that never refuse: the count is still taken, and measured.
	limits, err := access.NewRateLimits(nil, manyRequestsRate, manyRequestsRate)
	if err != nil {
		b.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	guarded := access.Identify(keys.Verifier)(limits.Limit(access.RequireAuth(access.Authorize(app.RolesOf(app.RoleStaff))(ok))))
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"open", ok}, {"guarded", guarded}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/v1/projections", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
