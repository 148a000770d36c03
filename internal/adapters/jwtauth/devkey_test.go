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
	now := time.Now()
	tok, err := k.Mint(jwtauth.DevToken{Subject: customer.String(), Roles: []string{"customer", "staff"}, ClientID: "curl", TTL: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	p := accepted(t, v, tok)
	want := app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff), CustomerID: customer, ClientID: "curl",
		Expires: time.Unix(now.Add(time.Hour).Unix(), 0)}
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
		tok   jwtauth.DevToken
		want  string
		field string
	}{
		"customer not a UUID":    {jwtauth.DevToken{Subject: "alice", Roles: []string{"customer"}, TTL: time.Hour}, "UUID", "Subject"},
		"customer in upper case": {jwtauth.DevToken{Subject: strings.ToUpper(uuid.NewString()), Roles: []string{"customer"}, TTL: time.Hour}, "lower case", "Subject"},
		"unknown role":           {jwtauth.DevToken{Subject: "x", Roles: []string{"admin"}, TTL: time.Hour}, `unknown role "admin"`, "Roles"},
		"no role":                {jwtauth.DevToken{Subject: "x", TTL: time.Hour}, "at least one role", "Roles"},
		"no subject":             {jwtauth.DevToken{Roles: []string{"staff"}, TTL: time.Hour}, "subject", "Subject"},
		"a blank subject":        {jwtauth.DevToken{Subject: " ", Roles: []string{"staff"}, TTL: time.Hour}, "printable", "Subject"},
		"an invisible subject":   {jwtauth.DevToken{Subject: "\u200b", Roles: []string{"staff"}, TTL: time.Hour}, "printable", "Subject"},
		"an invisible client id": {jwtauth.DevToken{Subject: "x", Roles: []string{"staff"}, ClientID: "\ufeff", TTL: time.Hour}, "client id", "ClientID"},
		"a subject with a NUL":   {jwtauth.DevToken{Subject: "a\x00b", Roles: []string{"staff"}, TTL: time.Hour}, "printable", "Subject"},
		"a subject too long":     {jwtauth.DevToken{Subject: strings.Repeat("x", 101), Roles: []string{"staff"}, TTL: time.Hour}, "at most 100", "Subject"},
		"a client id too long":   {jwtauth.DevToken{Subject: "x", Roles: []string{"staff"}, ClientID: strings.Repeat("c", 101), TTL: time.Hour}, "client id", "ClientID"},
		"no lifetime":            {jwtauth.DevToken{Subject: "x", Roles: []string{"staff"}}, "lifetime", "TTL"},
		"over a day":             {jwtauth.DevToken{Subject: "x", Roles: []string{"staff"}, TTL: jwtauth.MaxDevTTL + time.Second}, "at most 24h", "TTL"},
	} {
		_, err := k.Mint(tt.tok, time.Now())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tt.want)
		}
		if e, ok := errors.AsType[*jwtauth.DevTokenError](err); !ok || e.Field != tt.field {
			t.Errorf("%s: %#v, want a DevTokenError naming %s", name, err, tt.field)
		}
	}
	// The longest lifetime is a day
	if _, err := k.Mint(jwtauth.DevToken{Subject: "x", Roles: []string{"staff"}, TTL: jwtauth.MaxDevTTL}, time.Now()); err != nil {
		t.Errorf("a day: %v", err)
	}
}

// TestDevKeyRefusedWhenOthersMayTouchIt: as ssh with a private key, a
// development key is not used from a folder others may write to (they
// could put their own key there) or a file others may read (they could
// sign tokens with it); the error names the path and the fix.
func TestDevKeyRefusedWhenOthersMayTouchIt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		dirMode, fileMode fs.FileMode
		refused           string // the path named, relative to the folder; "" accepted
		fix               string
	}{
		{"private", 0o700, 0o600, "", ""},
		{"a folder others may read", 0o755, 0o600, "", ""},
		{"a key its owner may only read", 0o700, 0o400, "", ""},
		{"a folder the group may write to", 0o770, 0o600, ".", "chmod go-w"},
		{"a folder anyone may write to", 0o777, 0o600, ".", "chmod go-w"},
		{"a sticky folder anyone may write to", 0o1777, 0o600, ".", "chmod go-w"},
		{"a key the group may read", 0o700, 0o640, jwtauth.DevKeyFile, "chmod 600"},
		{"a key anyone may read", 0o700, 0o644, jwtauth.DevKeyFile, "chmod 600"},
		{"a key others may write", 0o700, 0o602, jwtauth.DevKeyFile, "chmod 600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Given a key kept in a folder, with the modes given
			dir := filepath.Join(t.TempDir(), ".orderapi-dev")
			made, _, err := jwtauth.OpenDevKey(dir)
			if err != nil {
				t.Fatal(err)
			}
			chmod(t, filepath.Join(dir, jwtauth.DevKeyFile), tt.fileMode)
			chmod(t, dir, tt.dirMode)

			// When it is opened and loaded
			k, created, openErr := jwtauth.OpenDevKey(dir)
			_, loadErr := jwtauth.LoadDevKey(dir)

			if tt.refused == "" {
				// Then it is the key made
				if openErr != nil || loadErr != nil || created || k.KID() != made.KID() {
					t.Fatalf("OpenDevKey = %v, %v; LoadDevKey: %v; want the key made", created, openErr, loadErr)
				}
				return
			}
			// Then both refuse it, naming the path and the fix
			path := filepath.Join(dir, tt.refused)
			for name, err := range map[string]error{"OpenDevKey": openErr, "LoadDevKey": loadErr} {
				if err == nil || errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("%s = %v, want it refused", name, err)
				}
				for _, want := range []string{"too open", filepath.Clean(path), tt.fix} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: %q does not say %q", name, err, want)
					}
				}
			}
			// and the key is left as it was: no other was made in its place
			chmod(t, dir, 0o700)
			chmod(t, filepath.Join(dir, jwtauth.DevKeyFile), 0o600)
			if again, err := jwtauth.LoadDevKey(dir); err != nil || again.KID() != made.KID() {
				t.Errorf("after the refusal: %v", err)
			}
		})
	}

	t.Run("an empty folder anyone may write to gets no key", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		chmod(t, dir, 0o777)
		if _, _, err := jwtauth.OpenDevKey(dir); err == nil || !strings.Contains(err.Error(), "chmod go-w "+dir) {
			t.Fatalf("OpenDevKey = %v, want it refused", err)
		}
		if _, err := os.Stat(filepath.Join(dir, jwtauth.DevKeyFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a key was made: %v", err)
		}
	})
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	// os.Chmod takes the sticky bit as os.ModeSticky, not 0o1000.
	m := mode.Perm()
	if mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}
