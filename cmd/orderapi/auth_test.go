package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

func TestAuthConfig(t *testing.T) {
	t.Parallel()
	// Unset, authentication is jwt with the default claims
	cfg, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := authConfig{Mode: authJWT, RolesClaim: "roles", CustomerClaim: "sub", DevDir: ".orderapi-dev"}
	if cfg.Auth != want {
		t.Errorf("defaults %+v, want %+v", cfg.Auth, want)
	}
	// An unknown mode is refused: there is none that turns it off
	for _, mode := range []string{"none", "off", "false", "DEV"} {
		if _, err := loadConfig(env(map[string]string{"ORDERAPI_AUTH": mode})); err == nil || !strings.Contains(err.Error(), "ORDERAPI_AUTH") {
			t.Errorf("ORDERAPI_AUTH=%s: %v, want an error naming the variable", mode, err)
		}
	}

	complete := map[string]string{
		"ORDERAPI_AUTH_JWKS_URL": "https://idp.example/jwks.json",
		"ORDERAPI_AUTH_ISSUER":   "https://idp.example/",
		"ORDERAPI_AUTH_AUDIENCE": "orderapi",
	}
	without := func(name string) map[string]string {
		vars := map[string]string{}
		for k, v := range complete {
			if k != name {
				vars[k] = v
			}
		}
		return vars
	}
	tests := []struct {
		name    string
		vars    map[string]string
		missing []string // what the error names; none: accepted
	}{
		{"complete, by URL", complete, nil},
		{"complete, by file", map[string]string{"ORDERAPI_AUTH_JWKS_FILE": "/etc/orderapi/jwks.json",
			"ORDERAPI_AUTH_ISSUER": "i", "ORDERAPI_AUTH_AUDIENCE": "a"}, nil},
		{"nothing", nil, []string{"ORDERAPI_AUTH_JWKS_URL", "ORDERAPI_AUTH_JWKS_FILE", "ORDERAPI_AUTH_ISSUER", "ORDERAPI_AUTH_AUDIENCE", "ORDERAPI_AUTH=dev"}},
		{"no JWKS", without("ORDERAPI_AUTH_JWKS_URL"), []string{"ORDERAPI_AUTH_JWKS_URL"}},
		{"no issuer", without("ORDERAPI_AUTH_ISSUER"), []string{"ORDERAPI_AUTH_ISSUER"}},
		{"no audience", without("ORDERAPI_AUTH_AUDIENCE"), []string{"ORDERAPI_AUTH_AUDIENCE"}},
		{"URL and file", map[string]string{"ORDERAPI_AUTH_JWKS_URL": "https://x/jwks", "ORDERAPI_AUTH_JWKS_FILE": "/jwks",
			"ORDERAPI_AUTH_ISSUER": "i", "ORDERAPI_AUTH_AUDIENCE": "a"}, []string{"ORDERAPI_AUTH_JWKS_URL", "ORDERAPI_AUTH_JWKS_FILE"}},
		{"URL not http", map[string]string{"ORDERAPI_AUTH_JWKS_URL": "ftp://x/jwks", "ORDERAPI_AUTH_ISSUER": "i",
			"ORDERAPI_AUTH_AUDIENCE": "a"}, []string{"ORDERAPI_AUTH_JWKS_URL"}},
		{"dev", map[string]string{"ORDERAPI_AUTH": "dev"}, nil},
		{"dev with an issuer", map[string]string{"ORDERAPI_AUTH": "dev", "ORDERAPI_AUTH_ISSUER": "i"}, []string{"ORDERAPI_AUTH_ISSUER"}},
		{"dev with a JWKS", map[string]string{"ORDERAPI_AUTH": "dev", "ORDERAPI_AUTH_JWKS_FILE": "/jwks"}, []string{"ORDERAPI_AUTH_JWKS_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Auth.check()
			if tt.missing == nil {
				if err != nil {
					t.Errorf("check = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("check accepted it")
			}
			for _, name := range tt.missing {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
			}
		})
	}
}

// TestServeRefusesToStartWithoutAuthentication: outside development mode,
// serve needs an identity provider's keys, issuer and audience, and
// fails before it touches the database.
func TestServeRefusesToStartWithoutAuthentication(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"orderapi", "serve"}, env(map[string]string{
		"DATABASE_URL":         "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
		"ORDERAPI_AUTH_ISSUER": "https://idp.example/",
	}), io.Discard)
	if err == nil {
		t.Fatal("serve started")
	}
	for _, want := range []string{"ORDERAPI_AUTH_JWKS_URL", "ORDERAPI_AUTH_AUDIENCE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "ORDERAPI_AUTH_ISSUER") {
		t.Errorf("error %q names ORDERAPI_AUTH_ISSUER, which is set", err)
	}
}

// TestDevModeKeepsItsKey: development mode makes its key on first start,
// warns, and uses the same key on the next start.
func TestDevModeKeepsItsKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".orderapi-dev")
	a := authConfig{Mode: authDev, DevDir: dir, RolesClaim: "roles", CustomerClaim: "sub"}
	var logs strings.Builder
	v, err := newVerifier(a, zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "development authentication") {
		t.Errorf("no warning that development authentication is on: %s", logs.String())
	}
	key, err := jwtauth.LoadDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := key.Mint(jwtauth.DevToken{Subject: "ops", Roles: []string{"staff"}, TTL: time.Minute}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(context.Background(), tok); err != nil {
		t.Errorf("a token of the key kept: %v", err)
	}
	again, err := newVerifier(a, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Authenticate(context.Background(), tok); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}

// TestReadyWaitsForTheKeys: a service whose identity provider is down
// starts, is not ready and answers 503 auth_unavailable, then becomes
// ready once the keys can be fetched.
func TestReadyWaitsForTheKeys(t *testing.T) {
	t.Parallel()
	key := jwtauthtest.NewKey(t, "EdDSA")
	idp := jwtauthtest.NewServer(t, key)
	idp.SetDown(true)
	addr := startServerOfProvider(t, idp)

	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Detail string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body.Detail, "bearer tokens") {
		t.Fatalf("readyz = %d %q, want 503 naming the keys", resp.StatusCode, body.Detail)
	}

	idp.SetDown(false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz = %d after the keys came back", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startServerOfProvider starts the service, on a database of its own,
// verifying the tokens of idp, and returns its address.
func startServerOfProvider(t *testing.T, idp *jwtauthtest.Server) string {
	t.Helper()
	addr, _ := startServerEnv(t, withMasterKey(t, map[string]string{
		"DATABASE_URL":           pgtest.NewURL(t),
		"ORDERAPI_ADDR":          "127.0.0.1:0",
		"ORDERAPI_AUTH_JWKS_URL": idp.URL,
		"ORDERAPI_AUTH_ISSUER":   jwtauthtest.Issuer,
		"ORDERAPI_AUTH_AUDIENCE": jwtauthtest.Audience,
	}), io.Discard)
	return addr
}

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dev")
	vars := map[string]string{"ORDERAPI_AUTH_DEV_DIR": dir}
	tokenOf := func(t *testing.T, vars map[string]string, args ...string) (string, error) {
		t.Helper()
		var out strings.Builder
		err := run(context.Background(), append([]string{"orderapi", "token"}, args...), env(vars), &out)
		return strings.TrimSpace(out.String()), err
	}
	customer := uuid.New()

	// Given no key yet, When a customer's token is asked for
	tok, err := tokenOf(t, vars, "--role", "customer", "--subject", customer.String(), "--role", "staff", "--ttl", "5m", "--client-id", "curl")
	if err != nil {
		t.Fatal(err)
	}
	// Then the key is made, in the folder the environment names, and the
	// token is the customer's, verified as a service in development mode
	// verifies it
	v, err := newVerifier(authConfig{Mode: authDev, DevDir: dir}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp, Iat int64
	}
	payload, _ := jwtPayload(tok)
	claimsErr := json.Unmarshal(payload, &claims)
	want := app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff), CustomerID: customer, ClientID: "curl",
		Expires: time.Unix(claims.Exp, 0)}
	if p != want {
		t.Errorf("%+v, want %+v", p, want)
	}
	// valid for the lifetime asked
	if err := claimsErr; err != nil || claims.Exp-claims.Iat != 300 {
		t.Errorf("lifetime %ds (%v), want 300s", claims.Exp-claims.Iat, err)
	}

	// A staff token needs no subject; --dir overrides the environment
	other := filepath.Join(t.TempDir(), "other")
	tok, err = tokenOf(t, vars, "--role", "staff", "--dir", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other, jwtauth.DevKeyFile)); err != nil {
		t.Errorf("--dir: %v", err)
	}
	if _, err := v.Authenticate(context.Background(), tok); err == nil {
		t.Error("a token of another folder's key was accepted")
	}

	// What would be refused is not minted
	for name, args := range map[string][]string{
		"no role":              {"--subject", "x"},
		"customer, no subject": {"--role", "customer"},
		"customer, not a UUID": {"--role", "customer", "--subject", "alice"},
		"unknown role":         {"--role", "admin"},
		"bad ttl":              {"--role", "staff", "--ttl", "soon"},
		"negative ttl":         {"--role", "staff", "--ttl", "-1h"},
		"zero ttl":             {"--role", "staff", "--ttl", "0s"},
		"ttl over a day":       {"--role", "staff", "--ttl", "25h"},
		"customer upper case":  {"--role", "customer", "--subject", strings.ToUpper(uuid.NewString())},
		"an unknown flag":      {"--role", "staff", "--admin"},
		"a stray argument":     {"--role", "staff", "extra"},
	} {
		if tok, err := tokenOf(t, vars, args...); err == nil || tok != "" {
			t.Errorf("%s: printed %q, %v; want an error", name, tok, err)
		}
	}
	if out, err := tokenOf(t, vars, "-h"); err != nil || !strings.Contains(out, "--subject") {
		t.Errorf("token -h = %q, %v", out, err)
	}
	// The longest lifetime is a day, and the usage says so
	if _, err := tokenOf(t, vars, "--role", "staff", "--ttl", "24h"); err != nil {
		t.Errorf("--ttl 24h: %v", err)
	}
	if _, err := tokenOf(t, vars, "--role", "staff", "--ttl", "25h"); err == nil || !strings.Contains(err.Error(), "at most 24h") {
		t.Errorf("--ttl 25h: %v, want an error saying at most 24h", err)
	}
	if out, _ := tokenOf(t, vars, "-h"); !strings.Contains(out, "at most 24h") {
		t.Errorf("token -h does not give the longest --ttl:\n%s", out)
	}
}

// TestTokenRefusesWhereAProviderIsConfigured: where the environment
// verifies an identity provider's tokens, a development token is useless
// and a development key a mistake: orderapi token refuses, naming the
// setting, and makes no key. Unset or dev, it signs.
func TestTokenRefusesWhereAProviderIsConfigured(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		vars map[string]string
		says string // the setting named; "" signs
	}{
		{"a JWKS URL", map[string]string{"ORDERAPI_AUTH_JWKS_URL": "https://idp.example/jwks.json"}, "ORDERAPI_AUTH_JWKS_URL"},
		{"a JWKS file", map[string]string{"ORDERAPI_AUTH_JWKS_FILE": "/etc/orderapi/jwks.json"}, "ORDERAPI_AUTH_JWKS_FILE"},
		{"an issuer", map[string]string{"ORDERAPI_AUTH_ISSUER": "https://idp.example/"}, "ORDERAPI_AUTH_ISSUER"},
		{"an audience", map[string]string{"ORDERAPI_AUTH_AUDIENCE": "orderapi"}, "ORDERAPI_AUTH_AUDIENCE"},
		{"jwt named", map[string]string{"ORDERAPI_AUTH": "jwt"}, "ORDERAPI_AUTH=jwt"},
		{"dev with a JWKS URL", map[string]string{"ORDERAPI_AUTH": "dev", "ORDERAPI_AUTH_JWKS_URL": "https://idp.example/jwks.json"}, "ORDERAPI_AUTH_JWKS_URL"},
		{"a complete provider", map[string]string{"ORDERAPI_AUTH": "jwt", "ORDERAPI_AUTH_JWKS_URL": "https://idp.example/jwks.json",
			"ORDERAPI_AUTH_ISSUER": "https://idp.example/", "ORDERAPI_AUTH_AUDIENCE": "orderapi"}, "ORDERAPI_AUTH_JWKS_URL"},
		{"dev", map[string]string{"ORDERAPI_AUTH": "dev"}, ""},
		{"nothing", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Given an environment with a development key folder
			dir := filepath.Join(t.TempDir(), "dev")
			vars := map[string]string{"ORDERAPI_AUTH_DEV_DIR": dir}
			for k, v := range tt.vars {
				vars[k] = v
			}
			// When a token is asked for
			var out strings.Builder
			err := run(context.Background(), []string{"orderapi", "token", "--role", "staff"}, env(vars), &out)
			_, statErr := os.Stat(dir)
			if tt.says == "" {
				// Then it is signed, with a key made
				if err != nil || out.Len() == 0 || statErr != nil {
					t.Fatalf("token = %q, %v; key folder: %v", out.String(), err, statErr)
				}
				return
			}
			// Then it is refused, naming the setting, and no key is made
			if err == nil || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "identity provider") {
				t.Errorf("token = %v, want a refusal naming %s", err, tt.says)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q", out.String())
			}
			if !errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("the key folder was made: %v", statErr)
			}
		})
	}
}

// TestDevKeyMustBePrivate: serve in development mode and orderapi token
// refuse a key folder others may write to and a key others may read,
// naming the path and the chmod that fixes it, as ssh does.
func TestDevKeyMustBePrivate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		dirMode, fileMode os.FileMode
		path, fix         string // the path named, in the folder; "" accepted
	}{
		{"private", 0o700, 0o600, "", ""},
		{"a folder the group may write to", 0o770, 0o600, ".", "chmod go-w"},
		{"a folder anyone may write to", 0o777, 0o600, ".", "chmod go-w"},
		{"a key the group may read", 0o700, 0o640, jwtauth.DevKeyFile, "chmod 600"},
		{"a key anyone may read", 0o700, 0o644, jwtauth.DevKeyFile, "chmod 600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Given a development key kept with these modes
			dir := filepath.Join(t.TempDir(), ".orderapi-dev")
			if _, _, err := jwtauth.OpenDevKey(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, jwtauth.DevKeyFile), tt.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"ORDERAPI_AUTH": "dev", "ORDERAPI_AUTH_DEV_DIR": dir,
				"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"}

			// When orderapi token signs with it, and serve starts with it
			tokenErr := run(context.Background(), []string{"orderapi", "token", "--role", "staff"}, env(vars), io.Discard)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			serveErr := run(ctx, []string{"orderapi", "serve"}, env(vars), io.Discard)

			if tt.path == "" {
				// Then the token is signed, and serve gets past the key
				// (to the database, which is not there)
				if tokenErr != nil {
					t.Errorf("token: %v", tokenErr)
				}
				if serveErr == nil || strings.Contains(serveErr.Error(), "signing key") {
					t.Errorf("serve: %v, want it to fail at the database", serveErr)
				}
				return
			}
			// Then both refuse it, naming the path and the fix
			for name, err := range map[string]error{"token": tokenErr, "serve": serveErr} {
				if err == nil {
					t.Fatalf("%s accepted the key", name)
				}
				for _, want := range []string{filepath.Join(dir, tt.path), tt.fix} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: %q does not say %q", name, err, want)
					}
				}
			}
		})
	}
}

// jwtPayload is the decoded claims part of a JWT.
func jwtPayload(tok string) ([]byte, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, io.ErrUnexpectedEOF
	}
	return base64URL.DecodeString(parts[1])
}

var base64URL = base64.RawURLEncoding
