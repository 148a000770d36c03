package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/app"
)

// TestSpecRolesAreTheRouteTable: api/openapi.yaml says who may call each
// operation exactly as the route table decides it, both ways: every
// operation of the spec is a route of the table (HEAD with its GET) and
// every route an operation; a public route is an operation with empty
// security and no roles; every other needs the bearer token, lists the
// table's roles in x-roles and documents its 401 and 403.
func TestSpecRolesAreTheRouteTable(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]policy{}
	for _, rt := range routeTable(nil, Config{}, nil) {
		methods := []string{rt.method}
		if rt.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		for _, m := range methods {
			what := m + " " + specPath(rt.pattern)
			if p, ok := table[what]; ok && p != rt.policy {
				t.Errorf("%s: two routes documented as one have policies %+v and %+v", what, p, rt.policy)
			}
			table[what] = rt.policy
		}
	}

	// The scheme, and the requirement every operation inherits.
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" || scheme.Value.BearerFormat != "JWT" {
		t.Errorf("securitySchemes.bearerAuth = %+v, want http bearer JWT", scheme)
	}
	if len(doc.Security) != 1 || len(doc.Security[0]) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("top-level security = %v, want [{bearerAuth: []}]", doc.Security)
	}

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			what := method + " " + path
			documented[what] = true
			acc, ok := table[what]
			if !ok {
				t.Errorf("%s: documented, not in the route table", what)
				continue
			}
			roles, listed := op.Extensions["x-roles"]
			public := op.Security != nil && len(*op.Security) == 0
			if acc.public {
				if !public || listed {
					t.Errorf("%s: public in the table; the spec has security %v and x-roles %v", what, op.Security, roles)
				}
				continue
			}
			if op.Security != nil {
				t.Errorf("%s: needs a token; the spec overrides security with %v", what, *op.Security)
			}
			got, err := specRoles(roles)
			if err != nil || got != acc.roles {
				t.Errorf("%s: x-roles %v (%v), the table %v", what, roles, err, acc.roles.Names())
			}
			for status, ref := range map[int]string{401: "Unauthorized", 403: "Forbidden"} {
				if r := op.Responses.Status(status); r == nil || r.Ref != "#/components/responses/"+ref {
					t.Errorf("%s: response %d is not the %s response", what, status, ref)
				}
			}
		}
	}
	for what := range table {
		if !documented[what] {
			t.Errorf("%s: in the route table, not documented", what)
		}
	}
}

// specPath is the path under which api/openapi.yaml documents a route:
// its pattern without a trailing slash. Redocly's recommended rules refuse
// a path that ends in one, and routers over the spec (kin-openapi's among
// them) take /docs/ for /docs; the route table serves both.
func specPath(pattern string) string {
	if len(pattern) > 1 {
		return strings.TrimSuffix(pattern, "/")
	}
	return pattern
}

// specRoles reads an operation's x-roles: role names, each known and
// listed once.
func specRoles(v any) (app.Roles, error) {
	names, ok := v.([]any)
	if !ok || len(names) == 0 {
		return 0, errNotRoles
	}
	var rs app.Roles
	for _, n := range names {
		s, _ := n.(string)
		r, ok := app.ParseRole(s)
		if !ok || rs.Has(r) {
			return 0, errNotRoles
		}
		rs = rs.With(r)
	}
	return rs, nil
}

var errNotRoles = errors.New("x-roles must list known roles, each once")

// TestEveryRouteHasAPolicy: no route of the table is left without an
// access of its own, and the public ones are only the operational routes
// and the pages for browsers (with the console's development tokens,
// which exist in development mode only), which carry no order data.
func TestEveryRouteHasAPolicy(t *testing.T) {
	t.Parallel()
	var public []string
	for _, rt := range routeTable(nil, Config{}, nil) {
		switch {
		case rt.policy.public:
			public = append(public, rt.pattern)
		case rt.policy.roles == 0:
			t.Errorf("%s %s admits no one", rt.method, rt.pattern)
		case !strings.HasPrefix(rt.pattern, "/v1/"):
			t.Errorf("%s %s needs a token outside /v1", rt.method, rt.pattern)
		}
	}
	if want := []string{"/healthz", "/readyz", "/openapi.yaml", "/docs", "/docs/", "/docs/{asset}",
		"/console", "/console/", "/console/{asset}", "/console/config", "/console/dev/token", "/metrics"}; !slices.Equal(public, want) {
		t.Errorf("public routes %v, want %v", public, want)
	}
}
