package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
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
	// and so are those that would give the server a master key of its
	// own, so that it makes and keeps development mode's in the folder
	for _, name := range []string{"ORDERAPI_AUTH_JWKS_URL", "ORDERAPI_AUTH_ISSUER", "ORDERAPI_AUTH_ROLES_CLAIM",
		"ORDERAPI_MASTER_KEY_FILE", "ORDERAPI_MASTER_KEY_PREVIOUS_FILES"} {
		if !slices.Contains(env, name+"=") {
			t.Errorf("%s not blanked", name)
		}
	}
	// where the benchmark's own stores find it too
	keyring, err := auth.keyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	dev, _, err := personaldata.OpenDevMasterKey(dir)
	if err != nil || keyring.CurrentMasterKeyID() != dev.ID() {
		t.Errorf("the benchmark's master key %s, the folder's %v (%v)", keyring.CurrentMasterKeyID(), dev, err)
	}
}
