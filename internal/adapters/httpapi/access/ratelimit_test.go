package access

import (
	"net/http/httptest"
	"testing"

	"github.com/orderapi/orderapi/internal/app"
)

// TestCallerIsThePrincipalFirst: rates and live feeds count against the principal's subject, and
// only without one (which the routes never let through) against the
// address, the two kept apart.
func TestCallerIsThePrincipalFirst(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/v1/events", nil)
	r.RemoteAddr = "192.0.2.7:4242"
	if got := Caller(r); got != "addr:192.0.2.7" {
		t.Errorf("without a principal: %q", got)
	}
	r = r.WithContext(WithPrincipal(r.Context(), app.Principal{Subject: "192.0.2.7"}))
	if got := Caller(r); got != "sub:192.0.2.7" {
		t.Errorf("with a principal: %q", got)
	}
}
