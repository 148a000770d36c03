package access

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orderapi/orderapi/internal/app"
)

// TestAuthorize: a principal passes when it holds any one of the roles
// allowed, roles adding up; no principal, no role, or an access that
// allows none is refused.
func TestAuthorize(t *testing.T) {
	t.Parallel()
	staffOrService := app.RolesOf(app.RoleStaff, app.RoleService)
	for _, tc := range []struct {
		name    string
		allowed app.Roles
		p       app.Principal
		pass    bool
	}{
		{"staff", staffOrService, app.Principal{Subject: "s", Roles: app.RolesOf(app.RoleStaff)}, true},
		{"service", staffOrService, app.Principal{Subject: "s", Roles: app.RolesOf(app.RoleService)}, true},
		{"customer and staff", staffOrService, app.Principal{Subject: "s", Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff)}, true},
		{"customer", staffOrService, app.Principal{Subject: "s", Roles: app.RolesOf(app.RoleCustomer)}, false},
		{"no roles", staffOrService, app.Principal{Subject: "s"}, false},
		{"no principal", staffOrService, app.Principal{}, false},
		{"an access that allows none", 0, app.Principal{Subject: "s", Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff, app.RoleService)}, false},
	} {
		passed := false
		h := Authorize(tc.allowed)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true }))
		r := httptest.NewRequest("GET", "/v1/projections", nil)
		if tc.p.Subject != "" {
			r = r.WithContext(WithPrincipal(r.Context(), tc.p))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if passed != tc.pass || !tc.pass && w.Code != http.StatusForbidden {
			t.Errorf("%s: passed %v, status %d; want passed %v", tc.name, passed, w.Code, tc.pass)
		}
	}
}
