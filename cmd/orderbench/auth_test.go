package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/app"
)

// TestTokensAreTheServers: the tokens the benchmark sends are those a
// server started with tokens.env accepts, for the principals meant.
func TestTokensAreTheServers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	auth, err := newTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The server reads the key from the folder env names
	env := auth.env()
	if !slices.Contains(env, "ORDERAPI_AUTH=dev") || !slices.Contains(env, "ORDERAPI_AUTH_DEV_DIR="+dir) {
		t.Fatalf("env %v", env)
	}
	key, err := jwtauth.LoadDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwtauth.New(jwtauth.Config{JWKS: key.JWKS(), Issuer: jwtauth.DevIssuer, Audience: jwtauth.DevAudience})
	if err != nil {
		t.Fatal(err)
	}
	customer := uuid.New()
	tok, err := auth.customer(customer)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(context.Background(), tok)
	if err != nil || p.CustomerID != customer || p.Roles != app.RolesOf(app.RoleCustomer) {
		t.Errorf("customer token: %+v, %v", p, err)
	}
	p, err = v.Authenticate(context.Background(), auth.staff)
	if err != nil || p.Roles != app.RolesOf(app.RoleStaff, app.RoleService) {
		t.Errorf("staff token: %+v, %v", p, err)
	}
	// and variables of the benchmark's environment that would change how
	// tokens are verified are blanked
	for _, name := range []string{"ORDERAPI_AUTH_JWKS_URL", "ORDERAPI_AUTH_ISSUER", "ORDERAPI_AUTH_ROLES_CLAIM"} {
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") }) {
			t.Errorf("%s not set", name)
		}
	}
}
