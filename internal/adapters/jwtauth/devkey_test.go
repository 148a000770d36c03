package jwtauth_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/app"
)

func TestDevKeyIsMadeOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".orderapi-dev")
	// Given no key, When one is opened, Then it is made, private
	k, created, err := jwtauth.OpenDevKey(dir)
	if err != nil || !created {
		t.Fatalf("OpenDevKey = %v, %v; want a new key", created, err)
	}
	for path, want := range map[string]fs.FileMode{dir: 0o700, filepath.Join(dir, jwtauth.DevKeyFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", path, fi.Mode().Perm(), want)
		}
	}
	// When opened again, Then it is the same key
	again, created, err := jwtauth.OpenDevKey(dir)
	if err != nil || created || again.KID() != k.KID() {
		t.Fatalf("second OpenDevKey = %v, %v; want the same key", created, err)
	}
	// and saving another over it is refused
	other, err := jwtauth.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(dir); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Save over a key = %v, want fs.ErrExist", err)
	}
	if _, err := jwtauth.LoadDevKey(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadDevKey of an empty folder = %v, want fs.ErrNotExist", err)
	}
}

func TestDevTokensVerify(t *testing.T) {
	t.Parallel()
	k, err := jwtauth.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwtauth.New(jwtauth.Config{JWKS: k.JWKS(), Issuer: jwtauth.DevIssuer, Audience: jwtauth.DevAudience})
	if err != nil {
		t.Fatal(err)
	}
	customer := uuid.New()
	tok, err := k.Mint(jwtauth.DevToken{Subject: customer.String(), Roles: []string{"customer", "staff"}, ClientID: "curl", TTL: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := accepted(t, v, tok)
	want := app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff), CustomerID: customer, ClientID: "curl"}
	if p != want {
		t.Errorf("%+v, want %+v", p, want)
	}

	// Claims named otherwise are minted as the verifier reads them
	cv, err := jwtauth.New(jwtauth.Config{JWKS: k.JWKS(), Issuer: jwtauth.DevIssuer, Audience: jwtauth.DevAudience,
		RolesClaim: "groups", CustomerClaim: "customer_id"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err = k.Mint(jwtauth.DevToken{Subject: customer.String(), Roles: []string{"customer"}, TTL: time.Hour,
		RolesClaim: "groups", CustomerClaim: "customer_id"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p := accepted(t, cv, tok); p.CustomerID != customer || !p.Roles.Has(app.RoleCustomer) {
		t.Errorf("%+v", p)
	}

	// A token minted long ago has expired
	old, err := k.Mint(jwtauth.DevToken{Subject: "ops", Roles: []string{"staff"}, TTL: time.Minute}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	refused(t, v, old, "expired")
}

func TestMintRefusesWhatWouldBeRefused(t *testing.T) {
	t.Parallel()
	k, err := jwtauth.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		tok  jwtauth.DevToken
		want string
	}{
		"customer not a UUID": {jwtauth.DevToken{Subject: "alice", Roles: []string{"customer"}, TTL: time.Hour}, "UUID"},
		"unknown role":        {jwtauth.DevToken{Subject: "x", Roles: []string{"admin"}, TTL: time.Hour}, `unknown role "admin"`},
		"no subject":          {jwtauth.DevToken{Roles: []string{"staff"}, TTL: time.Hour}, "subject"},
		"no lifetime":         {jwtauth.DevToken{Subject: "x", Roles: []string{"staff"}}, "lifetime"},
	} {
		if _, err := k.Mint(tt.tok, time.Now()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tt.want)
		}
	}
}
