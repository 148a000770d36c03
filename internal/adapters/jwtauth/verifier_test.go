package jwtauth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
	"github.com/orderapi/orderapi/internal/app"
)

// keys are one key of each accepted algorithm, and a Verifier trusting
// them.
type keys struct {
	rs, es, ed *jwtauthtest.Key
	v          *jwtauth.Verifier
}

func newKeys(t *testing.T, cfg jwtauth.Config) keys {
	t.Helper()
	k := keys{
		rs: jwtauthtest.NewKey(t, "RS256"),
		es: jwtauthtest.NewKey(t, "ES256"),
		ed: jwtauthtest.NewKey(t, "EdDSA"),
	}
	cfg.JWKS = jwtauthtest.JWKS(t, k.rs, k.es, k.ed)
	k.v = jwtauthtest.NewVerifier(t, cfg)
	return k
}

// refused checks that token is refused as invalid, saying why, and that
// the error does not quote it.
func refused(t *testing.T, v *jwtauth.Verifier, token, why string) {
	t.Helper()
	p, err := v.Authenticate(context.Background(), token)
	if !errors.Is(err, app.ErrInvalidToken) {
		t.Fatalf("Authenticate = %+v, %v; want invalid_token (%s)", p, err, why)
	}
	if !strings.Contains(err.Error(), why) {
		t.Errorf("error %q does not say %q", err, why)
	}
	if len(token) > 8 && strings.Contains(err.Error(), token) {
		t.Errorf("error %q quotes the token", err)
	}
}

func accepted(t *testing.T, v *jwtauth.Verifier, token string) app.Principal {
	t.Helper()
	p, err := v.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

func TestAcceptsEachAlgorithm(t *testing.T) {
	t.Parallel()
	// Given a set with an RSA, a P-256 and an Ed25519 key
	k := newKeys(t, jwtauth.Config{})
	customer := uuid.New()
	claims := jwtauthtest.CustomerClaims(customer)
	for _, key := range []*jwtauthtest.Key{k.rs, k.es, k.ed} {
		// When each signs a customer's token
		p := accepted(t, k.v, key.Sign(t, claims))
		// Then the token is the customer's, until its exp
		want := app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer), CustomerID: customer,
			Expires: time.Unix(claims["exp"].(int64), 0)}
		if p != want {
			t.Errorf("%s: %+v, want %+v", key.Alg, p, want)
		}
	}
}

// changed is claims with changes made: a nil value removes a claim.
func changed(claims, changes jwt.MapClaims) jwt.MapClaims {
	for name, v := range changes {
		if v == nil {
			delete(claims, name)
		} else {
			claims[name] = v
		}
	}
	return claims
}

// unsigned is a token of header and claims with the signature given.
func unsigned(t *testing.T, header map[string]any, claims jwt.MapClaims, sig string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	tok.Header = header
	s, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return s + "." + sig
}

func TestRefusesTokens(t *testing.T) {
	t.Parallel()
	k := newKeys(t, jwtauth.Config{})
	now := time.Now()
	valid := func(changes jwt.MapClaims) jwt.MapClaims { return changed(jwtauthtest.StaffClaims(), changes) }
	rsaPub, err := x509.MarshalPKIXPublicKey(k.rs.Public())
	if err != nil {
		t.Fatal(err)
	}
	// An attacker's HS256 token whose HMAC key is the RSA public key, as
	// a verifier that took the header's alg would use it.
	confusion := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid(nil))
		tok.Header["kid"] = k.rs.KID
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	impostor := jwtauthtest.NewKey(t, "EdDSA")
	impostor.KID = k.ed.KID
	signed := k.ed.Sign(t, valid(nil))
	parts := strings.Split(signed, ".")
	otherClaims := strings.Split(k.ed.Sign(t, valid(jwt.MapClaims{"roles": []string{"staff", "service"}})), ".")[1]
	// A P-256 signature over a token naming the RSA key, which declares
	// no alg: the key's type does not fit ES256.
	noAlgRSA := jwtauthtest.NewKey(t, "RS256")
	noAlgRSA.PublishedAlg = ""
	es := jwtauthtest.NewKey(t, "ES256")
	es.KID = noAlgRSA.KID

	tests := []struct {
		name, token, why string
	}{
		{"empty", "", "malformed"},
		{"not a JWT", "not-a-token", "malformed"},
		{"two parts", parts[0] + "." + parts[1], "malformed"},
		{"four parts", signed + ".x", "malformed"},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], "malformed"},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], "malformed"},
		{"claims not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + "." + parts[2], "malformed"},
		{"no alg", unsigned(t, map[string]any{"kid": k.ed.KID}, valid(nil), parts[2]), "malformed"},
		{"expired", k.ed.Sign(t, valid(jwt.MapClaims{"exp": now.Add(-2 * time.Minute).Unix()})), "expired"},
		{"no exp", k.ed.Sign(t, valid(jwt.MapClaims{"exp": nil})), "no expiry"},
		{"exp not a number", k.ed.Sign(t, valid(jwt.MapClaims{"exp": "tomorrow"})), "malformed"},
		{"nbf ahead beyond the leeway", k.ed.Sign(t, valid(jwt.MapClaims{"nbf": now.Add(2 * time.Minute).Unix()})), "not yet valid"},
		{"iat ahead beyond the leeway", k.ed.Sign(t, valid(jwt.MapClaims{"iat": now.Add(2 * time.Minute).Unix()})), "issued in the future"},
		{"wrong issuer", k.ed.Sign(t, valid(jwt.MapClaims{"iss": "https://other.example"})), "wrong issuer"},
		{"no issuer", k.ed.Sign(t, valid(jwt.MapClaims{"iss": nil})), "no issuer"},
		{"wrong audience", k.ed.Sign(t, valid(jwt.MapClaims{"aud": "another-api"})), "wrong audience"},
		{"audiences without ours", k.ed.Sign(t, valid(jwt.MapClaims{"aud": []string{"a", "b"}})), "wrong audience"},
		{"no audience", k.ed.Sign(t, valid(jwt.MapClaims{"aud": nil})), "no audience"},
		{"signed by another key under a known kid", impostor.Sign(t, valid(nil)), "signature does not verify"},
		{"claims changed after signing", parts[0] + "." + otherClaims + "." + parts[2], "signature does not verify"},
		{"signature removed", parts[0] + "." + parts[1] + ".", "signature does not verify"},
		{"alg none", unsigned(t, map[string]any{"alg": "none", "kid": k.ed.KID}, valid(nil), ""), "algorithm not allowed"},
		{"alg none with a signature", unsigned(t, map[string]any{"alg": "none", "kid": k.ed.KID}, valid(nil), parts[2]), "algorithm not allowed"},
		{"HS256 keyed with the RSA public key (DER)", confusion(rsaPub), "algorithm not allowed"},
		{"HS256 keyed with the RSA public key (PEM)", confusion(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})), "algorithm not allowed"},
		{"RS384", unsigned(t, map[string]any{"alg": "RS384", "kid": k.rs.KID}, valid(nil), parts[2]), "algorithm not allowed"},
		{"PS256", unsigned(t, map[string]any{"alg": "PS256", "kid": k.rs.KID}, valid(nil), parts[2]), "algorithm not allowed"},
		{"an alg jwt does not know", unsigned(t, map[string]any{"alg": "XS999", "kid": k.rs.KID}, valid(nil), parts[2]), "algorithm not allowed"},
		{"an alg other than the key declares", k.es.SignHeader(t, map[string]any{"kid": k.ed.KID}, valid(nil)), "algorithm not allowed for its key"},
		{"kid not in the set", k.ed.SignHeader(t, map[string]any{"kid": "no-such-key"}, valid(nil)), "unknown key id"},
		{"kid not a string", k.ed.SignHeader(t, map[string]any{"kid": 7}, valid(nil)), "malformed"},
		{"no kid, several keys", k.ed.SignHeader(t, map[string]any{"kid": nil}, valid(nil)), "no key id"},
		{"jku", k.ed.SignHeader(t, map[string]any{"jku": "https://evil.example/jwks"}, valid(nil)), `header "jku" not accepted`},
		{"x5u", k.ed.SignHeader(t, map[string]any{"x5u": "https://evil.example/cert"}, valid(nil)), `header "x5u" not accepted`},
		{"jwk", k.ed.SignHeader(t, map[string]any{"jwk": impostor.JWK(t)}, valid(nil)), `header "jwk" not accepted`},
		{"x5c", k.ed.SignHeader(t, map[string]any{"x5c": []string{"MIIB"}}, valid(nil)), `header "x5c" not accepted`},
		{"crit", k.ed.SignHeader(t, map[string]any{"crit": []string{"exp"}}, valid(nil)), `header "crit" not accepted`},
		{"customer without a UUID", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "alice", "roles": []string{"customer"}})), "not a customer id"},
		{"customer with a UUID in braces", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "{" + uuid.NewString() + "}", "roles": []string{"customer"}})), "not a customer id"},
		{"roles not strings", k.ed.Sign(t, valid(jwt.MapClaims{"roles": []any{"staff", 1}})), `claim "roles"`},
		{"roles an object", k.ed.Sign(t, valid(jwt.MapClaims{"roles": map[string]any{"staff": true}})), `claim "roles"`},
		{"sub not a string", k.ed.Sign(t, valid(jwt.MapClaims{"sub": 42})), `claim "sub"`},
		{"no subject, no client", k.ed.Sign(t, valid(jwt.MapClaims{"sub": nil})), "no subject"},
		// RFC 9068 §2.2: sub is required; the client does not stand in
		// for it, or a client named like a user would share its keys.
		{"no subject, a client_id", k.ed.Sign(t, valid(jwt.MapClaims{"sub": nil, "client_id": "reporting", "roles": []string{"service"}})), "no subject (sub)"},
		{"no subject, an azp", k.ed.Sign(t, valid(jwt.MapClaims{"sub": nil, "azp": "web"})), "no subject (sub)"},
		{"an empty subject, a client_id", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "", "client_id": "reporting"})), "no subject (sub)"},
		// Names are written into history for good: printable, not blank,
		// no longer than cancelled_by may be.
		{"a NUL in the subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "a\x00b"})), `claim "sub" holds control characters`},
		{"a newline in the subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "evil\nINFO fake log"})), `claim "sub" holds control characters`},
		{"a blank subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "   "})), `claim "sub" is blank`},
		// Blank as the domain has it for every text: what shows nothing,
		// which cancelled_by could never record.
		{"a zero-width space as the subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "\u200b"})), `claim "sub" is blank`},
		{"a byte order mark as the subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "\ufeff"})), `claim "sub" is blank`},
		{"a Hangul filler as the subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "\u3164"})), `claim "sub" is blank`},
		{"a soft hyphen and a space as the subject", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "\u00ad "})), `claim "sub" is blank`},
		{"a zero-width space as client_id", k.ed.Sign(t, valid(jwt.MapClaims{"client_id": "\u200b"})), `claim "client_id" is blank`},
		{"a word joiner as azp", k.ed.Sign(t, valid(jwt.MapClaims{"azp": "\u2060"})), `claim "azp" is blank`},
		{"a subject of 101 characters", k.ed.Sign(t, valid(jwt.MapClaims{"sub": strings.Repeat("s", 101)})), `claim "sub" is longer than 100 characters`},
		{"a NUL in client_id", k.ed.Sign(t, valid(jwt.MapClaims{"client_id": "a\x00b"})), `claim "client_id" holds control characters`},
		{"a newline in azp", k.ed.Sign(t, valid(jwt.MapClaims{"azp": "a\nb"})), `claim "azp" holds control characters`},
		// The same customer spelt otherwise would be another subject, and
		// another scope for its idempotency keys.
		{"customer with an upper-case UUID", k.ed.Sign(t, valid(jwt.MapClaims{"sub": strings.ToUpper(uuid.NewString()), "roles": []string{"customer"}})), "a UUID in lower case"},
		{"customer with a mixed-case UUID", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "7C0e8a52-4a4e-4d7e-9d3c-2b1f6a9e0c11", "roles": []string{"customer"}})), "a UUID in lower case"},
		{"customer with a URN", k.ed.Sign(t, valid(jwt.MapClaims{"sub": "urn:uuid:" + uuid.NewString(), "roles": []string{"customer"}})), "not a customer id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused(t, k.v, tt.token, tt.why)
		})
	}

	t.Run("a key whose type does not fit the token's alg", func(t *testing.T) {
		v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, noAlgRSA, k.ed)})
		refused(t, v, es.Sign(t, valid(nil)), "algorithm not allowed for its key")
	})
	t.Run("a key published with an alg its type does not fit is not used", func(t *testing.T) {
		wrong := jwtauthtest.NewKey(t, "EdDSA")
		jwk := wrong.JWK(t)
		jwk.ALG = "ES256"
		set, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk, k.ed.JWK(t)}})
		if err != nil {
			t.Fatal(err)
		}
		v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: set})
		refused(t, v, wrong.Sign(t, valid(nil)), "unknown key id")
		refused(t, v, wrong.SignHeader(t, map[string]any{"alg": "ES256"}, valid(nil)), "unknown key id")
	})
}

func TestAcceptsWithinTheLeeway(t *testing.T) {
	t.Parallel()
	k := newKeys(t, jwtauth.Config{})
	now := time.Now()
	for name, changes := range map[string]jwt.MapClaims{
		"expired 30s ago":     {"exp": now.Add(-30 * time.Second).Unix()},
		"nbf 30s ahead":       {"nbf": now.Add(30 * time.Second).Unix()},
		"iat 30s ahead":       {"iat": now.Add(30 * time.Second).Unix()},
		"nbf past":            {"nbf": now.Add(-time.Hour).Unix()},
		"no iat":              {"iat": nil},
		"audience among many": {"aud": []string{"another-api", jwtauthtest.Audience}},
	} {
		t.Run(name, func(t *testing.T) {
			accepted(t, k.v, k.ed.Sign(t, changed(jwtauthtest.StaffClaims(), changes)))
		})
	}
}

func TestNoKidWithOneKey(t *testing.T) {
	t.Parallel()
	// Given a set of one key
	key := jwtauthtest.NewKey(t, "ES256")
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, key)})
	// When a token names no kid, Then that key verifies it
	accepted(t, v, key.SignHeader(t, map[string]any{"kid": nil}, jwtauthtest.StaffClaims()))
	// and another key's signature is still refused
	other := jwtauthtest.NewKey(t, "ES256")
	refused(t, v, other.SignHeader(t, map[string]any{"kid": nil}, jwtauthtest.StaffClaims()), "signature does not verify")
}

func TestPrincipalFromClaims(t *testing.T) {
	t.Parallel()
	customer := uuid.New()
	tests := []struct {
		name   string
		cfg    jwtauth.Config
		claims jwt.MapClaims
		want   app.Principal
	}{
		{"roles as an array, unknown names ignored", jwtauth.Config{},
			jwtauthtest.Claims("s1", "staff", "admin", "service"),
			app.Principal{Subject: "s1", Roles: app.RolesOf(app.RoleStaff, app.RoleService)}},
		{"roles as a space-separated string", jwtauth.Config{},
			jwt.MapClaims{"sub": "s2", "roles": "service  staff"},
			app.Principal{Subject: "s2", Roles: app.RolesOf(app.RoleStaff, app.RoleService)}},
		{"no known role: authenticated, no roles", jwtauth.Config{},
			jwtauthtest.Claims("s3", "admin"),
			app.Principal{Subject: "s3"}},
		{"no roles claim", jwtauth.Config{},
			jwt.MapClaims{"sub": "s4", "roles": nil},
			app.Principal{Subject: "s4"}},
		{"customer and staff", jwtauth.Config{},
			jwtauthtest.Claims(customer.String(), "customer", "staff"),
			app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer, app.RoleStaff), CustomerID: customer}},
		{"client from azp", jwtauth.Config{},
			jwt.MapClaims{"sub": "s5", "azp": "web", "client_id": "ignored"},
			app.Principal{Subject: "s5", ClientID: "web"}},
		{"client from client_id, the subject its own", jwtauth.Config{},
			jwt.MapClaims{"sub": "reporting", "client_id": "reporting", "roles": []string{"service"}},
			app.Principal{Subject: "reporting", ClientID: "reporting", Roles: app.RolesOf(app.RoleService)}},
		{"claims configured", jwtauth.Config{RolesClaim: "https://orderapi.example/roles", CustomerClaim: "customer_id"},
			jwt.MapClaims{"sub": "user-7", "https://orderapi.example/roles": []string{"customer"}, "customer_id": customer.String(), "roles": nil},
			app.Principal{Subject: "user-7", Roles: app.RolesOf(app.RoleCustomer), CustomerID: customer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := jwtauthtest.NewKey(t, "EdDSA")
			tt.cfg.JWKS = jwtauthtest.JWKS(t, key)
			v := jwtauthtest.NewVerifier(t, tt.cfg)
			claims := changed(jwtauthtest.Claims(""), tt.claims)
			tt.want.Expires = time.Unix(claims["exp"].(int64), 0)
			if p := accepted(t, v, key.Sign(t, claims)); p != tt.want {
				t.Errorf("%+v, want %+v", p, tt.want)
			}
		})
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	jwks := jwtauthtest.JWKS(t, jwtauthtest.NewKey(t, "EdDSA"))
	for name, cfg := range map[string]jwtauth.Config{
		"no keys":         {Issuer: "i", Audience: "a"},
		"two sources":     {JWKS: jwks, JWKSFile: "/x", Issuer: "i", Audience: "a"},
		"no issuer":       {JWKS: jwks, Audience: "a"},
		"no audience":     {JWKS: jwks, Issuer: "i"},
		"URL not http(s)": {JWKSURL: "file:///etc/jwks.json", Issuer: "i", Audience: "a"},
		"no usable key":   {JWKS: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), Issuer: "i", Audience: "a"},
		"not a JWKS":      {JWKS: []byte(`[]`), Issuer: "i", Audience: "a"},
	} {
		if _, err := jwtauth.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestRefusesRepeatedMemberNames: JSON that names a member twice is read
// differently by different parsers (the first or the last wins), so a
// token whose header or claims do is refused, however signed.
func TestRefusesRepeatedMemberNames(t *testing.T) {
	t.Parallel()
	k := newKeys(t, jwtauth.Config{})
	now := time.Now()
	claims := func(extra string) string {
		return fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"s1","iat":%d,"exp":%d%s}`,
			jwtauthtest.Issuer, jwtauthtest.Audience, now.Unix(), now.Add(time.Hour).Unix(), extra)
	}
	header := func(extra string) string { return fmt.Sprintf(`{"kid":%q%s}`, k.ed.KID, extra) }

	// Given a token signed as written, its JSON sound, that is accepted
	p := accepted(t, k.v, k.ed.SignRaw(t, header(`,"alg":"EdDSA"`), claims(`,"roles":["staff"]`)))
	if p.Subject != "s1" || p.Roles != app.RolesOf(app.RoleStaff) {
		t.Fatalf("%+v", p)
	}
	for _, tt := range []struct{ name, header, claims, why string }{
		{"alg twice, none first", header(`,"alg":"none","alg":"EdDSA"`), claims(`,"roles":["staff"]`), "twice in its header"},
		{"kid twice", header(`,"alg":"EdDSA","kid":"other"`), claims(`,"roles":["staff"]`), "twice in its header"},
		{"roles twice", header(`,"alg":"EdDSA"`), claims(`,"roles":["customer"],"roles":["staff"]`), "twice in its claims"},
		{"sub twice", header(`,"alg":"EdDSA"`), claims(`,"sub":"s2"`), "twice in its claims"},
		{"a name twice, once escaped", header(`,"alg":"EdDSA"`), claims(`,"roles":["customer"],"\u0072oles":["staff"]`), "twice in its claims"},
		{"a name twice in a nested object", header(`,"alg":"EdDSA"`), claims(`,"roles":["staff"],"cnf":{"x":1,"x":2}`), "twice in its claims"},
		{"claims not UTF-8", header(`,"alg":"EdDSA"`), claims(",\"roles\":[\"staff\"],\"name\":\"\xff\""), "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// When it is signed by a trusted key, Then it is refused
			refused(t, k.v, k.ed.SignRaw(t, tt.header, tt.claims), tt.why)
		})
	}
}
